// Command goplugin is a Velero-style plugin binary built on HashiCorp
// go-plugin 1.0.1: it serves the ObjectStore example.io/go-store, the
// BackupItemAction example.io/go-annotate, the RestoreItemAction
// example.io/go-restore and the PluginLister, exactly as a Velero plugin
// would (plugin.Serve with Velero's handshake). Command-line arguments are
// ignored, as hosts pass their own flags (--log-level, --features).
package main

import (
	"os"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"

	"veloro.io/interop/framework"
)

func main() {
	// Created before Serve: go-plugin swaps os.Stderr for a pipe afterwards.
	log := hclog.New(&hclog.LoggerOptions{
		Name: "goplugin", Level: hclog.Debug, Output: os.Stderr, JSONFormat: true,
	})
	reg := framework.NewRegistry()
	reg.Register(framework.KindObjectStore, "example.io/go-store", func() (interface{}, error) {
		return newMemStore(log.Named("go-store")), nil
	})
	reg.Register(framework.KindBackupItemAction, "example.io/go-annotate", func() (interface{}, error) {
		return goAnnotate{}, nil
	})
	reg.Register(framework.KindRestoreItemAction, "example.io/go-restore", func() (interface{}, error) {
		return goRestore{}, nil
	})
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: framework.Handshake,
		Plugins:         reg.ServerPluginSet(),
		GRPCServer:      framework.NewGRPCServer,
		Logger:          log,
	})
}
