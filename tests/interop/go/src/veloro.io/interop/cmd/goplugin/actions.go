package main

import (
	"encoding/json"
	"fmt"

	"veloro.io/interop/framework"
	proto "veloro.io/interop/generated"
)

// AnnotationKey is set on every item the Go actions touch, so a host can see
// the item really went through the Go plugin.
const AnnotationKey = "example.io/go-annotated"

// annotate adds AnnotationKey=value to metadata.annotations of a JSON object.
func annotate(item []byte, value string) ([]byte, map[string]interface{}, error) {
	var obj map[string]interface{}
	if err := json.Unmarshal(item, &obj); err != nil {
		return nil, nil, fmt.Errorf("item is not a JSON object: %w", err)
	}
	meta, _ := obj["metadata"].(map[string]interface{})
	if meta == nil {
		meta = map[string]interface{}{}
		obj["metadata"] = meta
	}
	ann, _ := meta["annotations"].(map[string]interface{})
	if ann == nil {
		ann = map[string]interface{}{}
		meta["annotations"] = ann
	}
	ann[AnnotationKey] = value
	out, err := json.Marshal(obj)
	return out, meta, err
}

// goAnnotate is the BackupItemAction example.io/go-annotate: it annotates the
// item and, to exercise ResourceIdentifier on the wire, names the item's
// ServiceAccount-like companion "<name>-sa" as an additional item.
type goAnnotate struct{}

func (goAnnotate) AppliesTo() (*proto.ResourceSelector, error) {
	return &proto.ResourceSelector{
		IncludedResources:  []string{"configmaps", "pods"},
		ExcludedNamespaces: []string{"kube-system"},
		Selector:           "app",
	}, nil
}

func (goAnnotate) Execute(item, backup []byte) ([]byte, []*proto.ResourceIdentifier, error) {
	var b map[string]interface{}
	if err := json.Unmarshal(backup, &b); err != nil {
		return nil, nil, fmt.Errorf("backup is not a JSON object: %w", err)
	}
	out, meta, err := annotate(item, "backup")
	if err != nil {
		return nil, nil, err
	}
	name, _ := meta["name"].(string)
	ns, _ := meta["namespace"].(string)
	extra := []*proto.ResourceIdentifier{{Group: "", Resource: "serviceaccounts", Namespace: ns, Name: name + "-sa"}}
	return out, extra, nil
}

// goRestore is the RestoreItemAction example.io/go-restore: annotates, and
// skips items labelled skip=true.
type goRestore struct{}

func (goRestore) AppliesTo() (*proto.ResourceSelector, error) {
	return &proto.ResourceSelector{IncludedResources: []string{"configmaps"}}, nil
}

func (goRestore) Execute(item, restore, itemFromBackup []byte) (*framework.ActionResult, error) {
	if len(itemFromBackup) > 0 && !json.Valid(itemFromBackup) {
		return nil, fmt.Errorf("itemFromBackup is not valid JSON")
	}
	out, meta, err := annotate(item, "restore")
	if err != nil {
		return nil, err
	}
	labels, _ := meta["labels"].(map[string]interface{})
	skip := labels != nil && labels["skip"] == "true"
	return &framework.ActionResult{Item: out, SkipRestore: skip}, nil
}
