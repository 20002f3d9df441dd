package framework

import (
	"fmt"
	"os"
	"sort"
	"sync"

	plugin "github.com/hashicorp/go-plugin"
)

// Factory creates one named implementation; it is called lazily, once per
// name, and the instance lives as long as the process (like Velero).
type Factory func() (interface{}, error)

type key struct{ kind, name string }

// Registry holds the (kind, name) implementations of a plugin binary.
type Registry struct {
	mu        sync.Mutex
	factories map[key]Factory
	instances map[key]interface{}
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{factories: map[key]Factory{}, instances: map[key]interface{}{}}
}

// Register adds a named implementation of a kind.
func (r *Registry) Register(kind, name string, f Factory) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.factories[key{kind, name}] = f
}

// Get returns the cached instance for (kind, name), creating it on first use.
func (r *Registry) Get(kind, name string) (interface{}, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := key{kind, name}
	if inst, ok := r.instances[k]; ok {
		return inst, nil
	}
	f, ok := r.factories[k]
	if !ok {
		return nil, fmt.Errorf("%s plugin %q is not registered in this binary", kind, name)
	}
	inst, err := f()
	if err != nil {
		return nil, err
	}
	r.instances[k] = inst
	return inst, nil
}

// Identifiers lists every registered (kind, name) with this binary's command,
// which is what Velero's PluginLister returns.
func (r *Registry) Identifiers() [][3]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([][3]string, 0, len(r.factories))
	for k := range r.factories {
		out = append(out, [3]string{os.Args[0], k.kind, k.name})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i][1] != out[j][1] {
			return out[i][1] < out[j][1]
		}
		return out[i][2] < out[j][2]
	})
	return out
}

// ServerPluginSet is the go-plugin plugin map a plugin binary serves: every
// kind this framework implements on the server side, plus the PluginLister.
func (r *Registry) ServerPluginSet() plugin.PluginSet {
	return plugin.PluginSet{
		KindObjectStore:       &ObjectStorePlugin{Reg: r},
		KindBackupItemAction:  &BackupItemActionPlugin{Reg: r},
		KindRestoreItemAction: &RestoreItemActionPlugin{Reg: r},
		KindPluginLister:      &PluginListerPlugin{Reg: r},
	}
}
