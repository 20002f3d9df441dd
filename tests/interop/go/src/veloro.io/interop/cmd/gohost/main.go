// Command gohost is a Velero-style plugin host built on HashiCorp go-plugin
// 1.0.1's client. It starts one plugin command with Velero's handshake,
// pings it, lists its plugins, runs the ObjectStore and item-action
// contracts, kills it, and prints a JSON report on stdout. Exit status 0
// means every check passed, 1 a failed check, 2 a usage error.
//
//	gohost [-mtls] [-test NAME]... [-config k=v]... [-expect KIND=NAME]... -- CMD [ARGS...]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"

	"veloro.io/interop/framework"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

type options struct {
	mtls         bool
	tests        listFlag
	config       listFlag
	expect       listFlag
	bucket       string
	size         int
	startTimeout time.Duration
	veleroFlags  bool
	hold         bool
	logLevel     string
	command      []string
}

func parseOptions() (*options, error) {
	o := &options{}
	flag.BoolVar(&o.mtls, "mtls", false, "enable go-plugin AutoMTLS")
	flag.Var(&o.tests, "test", "plugin name to test (repeatable; default: every listed plugin)")
	flag.Var(&o.config, "config", "ObjectStore Init config key=value (repeatable)")
	flag.Var(&o.expect, "expect", "KIND=NAME that ListPlugins must return (repeatable)")
	flag.StringVar(&o.bucket, "bucket", "interop", "bucket for the ObjectStore contract")
	flag.IntVar(&o.size, "size", 3*1024*1024+4321, "size in bytes of the large object")
	flag.DurationVar(&o.startTimeout, "start-timeout", 30*time.Second, "handshake timeout")
	flag.BoolVar(&o.veleroFlags, "velero-flags", true, "pass --log-level/--features like Velero does")
	flag.StringVar(&o.logLevel, "log-level", "debug", "gohost log level (stderr)")
	flag.BoolVar(&o.hold, "hold", false, "after the ping, print {\"plugin_pid\": N} and block (to test "+
		"that a plugin dies with its host)")
	flag.Parse()
	o.command = flag.Args()
	if len(o.command) == 0 {
		return nil, fmt.Errorf("missing plugin command after the flags")
	}
	for _, kv := range append(append([]string{}, o.config...), o.expect...) {
		if !strings.Contains(kv, "=") {
			return nil, fmt.Errorf("%q is not key=value", kv)
		}
	}
	return o, nil
}

func main() {
	o, err := parseOptions()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gohost:", err)
		os.Exit(2)
	}
	rep := &Report{Command: o.command, MTLSRequested: o.mtls, Plugins: []PluginID{}, Checks: []*Check{}}
	runHost(o, rep)
	rep.print()
	if !rep.OK {
		os.Exit(1)
	}
}

func newClient(o *options) (*plugin.Client, *plugin.ClientConfig) {
	args := append([]string{}, o.command[1:]...)
	if o.veleroFlags {
		args = append(args, "--log-level", "debug", "--features", "")
	}
	cfg := &plugin.ClientConfig{
		HandshakeConfig:  framework.Handshake,
		Plugins:          framework.ClientPluginSet(),
		Cmd:              exec.Command(o.command[0], args...),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         o.mtls,
		StartTimeout:     o.startTimeout,
		Logger: hclog.New(&hclog.LoggerOptions{
			Name: "gohost", Output: os.Stderr, Level: hclog.LevelFromString(o.logLevel)}),
	}
	return plugin.NewClient(cfg), cfg
}

func runHost(o *options, rep *Report) {
	client, cfg := newClient(o)
	defer client.Kill() // no-op after the measured kill; guards early returns
	start := time.Now()
	proto, err := client.Client()
	rep.StartMs = ms(time.Since(start))
	if err != nil {
		rep.Fatal = fmt.Sprintf("starting %s: %v", o.command[0], err)
		return
	}
	rpc, ok := proto.(*plugin.GRPCClient)
	if !ok {
		rep.Fatal = fmt.Sprintf("plugin protocol is %s, not grpc", client.Protocol())
		return
	}
	rep.Protocol = string(client.Protocol())
	rep.NegotiatedVersion = client.NegotiatedVersion()
	reattach := client.ReattachConfig()
	rep.Network, rep.Address = reattach.Addr.Network(), reattach.Addr.String()
	rep.run("ping", "", "", func(*Check) error { return rpc.Ping() })
	if o.hold {
		fmt.Printf("{\"plugin_pid\": %d}\n", reattach.Pid)
		for {
			time.Sleep(time.Hour) // until the test kills this host
		}
	}
	if o.mtls {
		mtlsChecks(rep, rpc, cfg, reattach.Addr)
	}
	plugins := listPlugins(rep, rpc)
	checkExpected(rep, o, plugins)
	runContracts(rep, o, rpc, plugins)
	killCheck(rep, client, reattach.Pid)
}

func listPlugins(rep *Report, rpc *plugin.GRPCClient) []PluginID {
	rep.run("list_plugins", framework.KindPluginLister, "", func(c *Check) error {
		raw, err := rpc.Dispense(framework.KindPluginLister)
		if err != nil {
			return err
		}
		ids, err := raw.(*framework.PluginListerClient).ListPlugins()
		if err != nil {
			return err
		}
		for _, id := range ids {
			rep.Plugins = append(rep.Plugins, PluginID{Command: id.Command, Kind: id.Kind, Name: id.Name})
		}
		c.Info["count"] = len(ids)
		if len(ids) == 0 {
			return fmt.Errorf("ListPlugins returned no plugins")
		}
		return nil
	})
	return rep.Plugins
}

func checkExpected(rep *Report, o *options, plugins []PluginID) {
	if len(o.expect) == 0 {
		return
	}
	rep.run("expected_plugins_listed", "", "", func(*Check) error {
		var missing []string
		for _, kv := range o.expect {
			parts := strings.SplitN(kv, "=", 2)
			found := false
			for _, p := range plugins {
				found = found || (p.Kind == parts[0] && p.Name == parts[1])
			}
			if !found {
				missing = append(missing, kv)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("not listed: %s", strings.Join(missing, ", "))
		}
		return nil
	})
}

func selected(o *options, name string) bool {
	if len(o.tests) == 0 {
		return true
	}
	for _, t := range o.tests {
		if t == name {
			return true
		}
	}
	return false
}

func runContracts(rep *Report, o *options, rpc *plugin.GRPCClient, plugins []PluginID) {
	config := map[string]string{}
	for _, kv := range o.config {
		parts := strings.SplitN(kv, "=", 2)
		config[parts[0]] = parts[1]
	}
	unknownDone := false
	for i, p := range plugins {
		if !selected(o, p.Name) {
			continue
		}
		raw, err := rpc.Dispense(p.Kind)
		if err != nil {
			continue // a kind this host has no client for (e.g. VolumeSnapshotter)
		}
		switch d := raw.(type) {
		case *framework.ObjectStoreDispenser:
			sc := &storeContract{rep: rep, store: d.ClientFor(p.Name), name: p.Name, bucket: o.bucket,
				config: config, size: o.size, base: fmt.Sprintf("interop-%d-%d/", os.Getpid(), i)}
			sc.runAll()
			if !unknownDone {
				unknownNameContract(rep, p.Kind, func(n string) error { return d.ClientFor(n).Init(config) })
				unknownDone = true
			}
		case framework.ActionDispenser:
			actionContract(rep, p.Kind, p.Name, d.ClientFor(p.Name))
			if !unknownDone {
				unknownNameContract(rep, p.Kind, func(n string) error {
					_, err := d.ClientFor(n).AppliesTo()
					return err
				})
				unknownDone = true
			}
		}
	}
}

// killCheck: go-plugin's Kill calls GRPCController.Shutdown and waits up to
// 2 s for the exit before SIGKILL, so a graceful exit shows as < 2 s.
func killCheck(rep *Report, client *plugin.Client, pid int) {
	rep.run("kill_exits_within_2s", "", "", func(c *Check) error {
		start := time.Now()
		client.Kill()
		rep.KillMs = ms(time.Since(start))
		rep.Exited = client.Exited()
		alive := syscall.Kill(pid, 0) == nil
		c.Info["pid_alive_after"] = alive
		if !rep.Exited || alive {
			return fmt.Errorf("plugin process %d still running after Kill", pid)
		}
		if rep.KillMs >= 1900 {
			return fmt.Errorf("Kill took %.0f ms: the plugin did not exit on Shutdown and was SIGKILLed", rep.KillMs)
		}
		return nil
	})
}
