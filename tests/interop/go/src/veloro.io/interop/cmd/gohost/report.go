package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"veloro.io/interop/framework"
)

// Check is one named contract check in the JSON report.
type Check struct {
	Name   string                 `json:"name"`
	Kind   string                 `json:"kind,omitempty"`
	Plugin string                 `json:"plugin,omitempty"`
	OK     bool                   `json:"ok"`
	Error  string                 `json:"error,omitempty"`
	Ms     float64                `json:"ms"`
	Info   map[string]interface{} `json:"info,omitempty"`
}

// PluginID is one ListPlugins entry.
type PluginID struct {
	Command string `json:"command"`
	Kind    string `json:"kind"`
	Name    string `json:"name"`
}

// Report is what gohost prints on stdout (one JSON document).
type Report struct {
	OK                bool                   `json:"ok"`
	Command           []string               `json:"command"`
	MTLSRequested     bool                   `json:"mtls_requested"`
	Protocol          string                 `json:"protocol,omitempty"`
	NegotiatedVersion int                    `json:"negotiated_version,omitempty"`
	Network           string                 `json:"network,omitempty"`
	Address           string                 `json:"address,omitempty"`
	TLS               map[string]interface{} `json:"tls,omitempty"`
	StartMs           float64                `json:"start_ms"`
	Plugins           []PluginID             `json:"plugins"`
	Checks            []*Check               `json:"checks"`
	KillMs            float64                `json:"kill_ms"`
	Exited            bool                   `json:"exited"`
	Fatal             string                 `json:"fatal,omitempty"`
}

// run times fn and records it as a check; a panic in the check is a failure,
// not a crash of the host (the JSON report must always be printed).
func (r *Report) run(name, kind, plugin string, fn func(c *Check) error) *Check {
	c := &Check{Name: name, Kind: kind, Plugin: plugin, Info: map[string]interface{}{}}
	start := time.Now()
	func() {
		defer func() {
			if p := recover(); p != nil {
				c.Error = fmt.Sprintf("host panic: %v", p)
			}
		}()
		if err := fn(c); err != nil {
			c.Error = err.Error()
			if re, ok := err.(*framework.RemoteError); ok {
				c.Info["code"] = re.Code.String()
				c.Info["remote_frames"] = len(re.Frames)
			}
		} else {
			c.OK = true
		}
	}()
	c.Ms = float64(time.Since(start).Microseconds()) / 1000
	if len(c.Info) == 0 {
		c.Info = nil
	}
	r.Checks = append(r.Checks, c)
	return c
}

func (r *Report) print() {
	r.OK = r.Fatal == ""
	for _, c := range r.Checks {
		r.OK = r.OK && c.OK
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(r)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
