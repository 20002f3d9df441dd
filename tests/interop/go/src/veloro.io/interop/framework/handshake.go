// Package framework is a small Velero-style plugin framework on top of
// HashiCorp go-plugin 1.0.1: the handshake, one go-plugin GRPCPlugin per
// plugin kind (client and server side), and the gRPC error convention.
//
// It mirrors what Velero's pkg/plugin/framework does so that the interop
// tests exercise the same wire behaviour a real Velero host/plugin has.
package framework

import (
	"math"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Kind names as they appear in PluginLister responses and as go-plugin
// dispense keys (Velero uses the same strings for both).
const (
	KindObjectStore         = "ObjectStore"
	KindBackupItemAction    = "BackupItemAction"
	KindBackupItemActionV2  = "BackupItemActionV2"
	KindRestoreItemAction   = "RestoreItemAction"
	KindRestoreItemActionV2 = "RestoreItemActionV2"
	KindPluginLister        = "PluginLister"
)

// Handshake is Velero's go-plugin handshake: app protocol 2, cookie
// VELERO_PLUGIN=hello.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  2,
	MagicCookieKey:   "VELERO_PLUGIN",
	MagicCookieValue: "hello",
}

// ChunkSize is the PutObject/GetObject chunk size Velero uses (16 KiB).
const ChunkSize = 16 * 1024

// NewGRPCServer builds the plugin-side gRPC server with large message limits
// (items and lists can be big), keeping go-plugin's TLS options.
func NewGRPCServer(opts []grpc.ServerOption) *grpc.Server {
	opts = append(opts,
		grpc.MaxRecvMsgSize(math.MaxInt32),
		grpc.MaxSendMsgSize(math.MaxInt32))
	return grpc.NewServer(opts...)
}

// ClientPluginSet is the go-plugin plugin map a host uses to dispense clients
// of every kind the interop tests know.
func ClientPluginSet() plugin.PluginSet {
	return plugin.PluginSet{
		KindObjectStore:         &ObjectStorePlugin{},
		KindBackupItemAction:    &BackupItemActionPlugin{},
		KindBackupItemActionV2:  &BackupItemActionV2Plugin{},
		KindRestoreItemAction:   &RestoreItemActionPlugin{},
		KindRestoreItemActionV2: &RestoreItemActionV2Plugin{},
		KindPluginLister:        &PluginListerPlugin{},
	}
}
