package main

import (
	"encoding/json"
	"fmt"

	"google.golang.org/grpc/codes"

	"veloro.io/interop/framework"
	proto "veloro.io/interop/generated"
)

const sampleItem = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm1","namespace":"ns1",` +
	`"labels":{"app":"demo"}},"data":{"k":"v"}}`
const sampleBackup = `{"apiVersion":"velero.io/v1","kind":"Backup","metadata":{"name":"b1","namespace":"velero"},` +
	`"spec":{"includedNamespaces":["*"],"storageLocation":"default"}}`
const sampleRestore = `{"apiVersion":"velero.io/v1","kind":"Restore","metadata":{"name":"r1","namespace":"velero"},` +
	`"spec":{"backupName":"b1"}}`

func isRestoreKind(kind string) bool {
	return kind == framework.KindRestoreItemAction || kind == framework.KindRestoreItemActionV2
}

// actionContract: AppliesTo answers, and Execute on a sample ConfigMap
// returns either nothing (= unchanged) or a valid JSON object.
func actionContract(rep *Report, kind, name string, client framework.ActionClient) {
	rep.run("action.applies_to", kind, name, func(c *Check) error {
		sel, err := client.AppliesTo()
		if err != nil {
			return err
		}
		c.Info["selector"] = selectorInfo(sel)
		return nil
	})
	rep.run("action.execute", kind, name, func(c *Check) error {
		in := framework.ActionInput{Item: []byte(sampleItem), Owner: []byte(sampleBackup)}
		if isRestoreKind(kind) {
			in.Owner = []byte(sampleRestore)
			in.ItemFromBackup = []byte(sampleItem)
		}
		out, err := client.Execute(in)
		if err != nil {
			return err
		}
		return describeResult(c, out)
	})
}

func describeResult(c *Check, out *framework.ActionResult) error {
	c.Info["item_returned"] = len(out.Item) > 0
	c.Info["additional_items"] = identifiers(out.AdditionalItems)
	c.Info["skip_restore"] = out.SkipRestore
	c.Info["operation_id"] = out.OperationID
	if len(out.Item) == 0 {
		return nil
	}
	var obj map[string]interface{}
	if err := json.Unmarshal(out.Item, &obj); err != nil {
		return fmt.Errorf("Execute returned an item that is not a JSON object: %v", err)
	}
	c.Info["item"] = obj
	return nil
}

func selectorInfo(sel *proto.ResourceSelector) map[string]interface{} {
	if sel == nil {
		return nil
	}
	return map[string]interface{}{
		"includedNamespaces": sel.IncludedNamespaces, "excludedNamespaces": sel.ExcludedNamespaces,
		"includedResources": sel.IncludedResources, "excludedResources": sel.ExcludedResources,
		"selector": sel.Selector,
	}
}

func identifiers(ids []*proto.ResourceIdentifier) []map[string]string {
	out := []map[string]string{}
	for _, id := range ids {
		out = append(out, map[string]string{
			"group": id.Group, "resource": id.Resource, "namespace": id.Namespace, "name": id.Name})
	}
	return out
}

// unknownNameContract: a request naming a plugin the process does not serve
// must fail with status Unknown, not hang or crash the process.
func unknownNameContract(rep *Report, kind string, call func(name string) error) {
	const bogus = "example.invalid/not-registered"
	rep.run("unknown_plugin_name_is_error", kind, bogus, func(c *Check) error {
		err := call(bogus)
		if err == nil {
			return fmt.Errorf("a request for %s succeeded; want an error", bogus)
		}
		c.Info["error"] = err.Error()
		if re, ok := err.(*framework.RemoteError); ok && re.Code != codes.Unknown {
			return fmt.Errorf("unknown name error has gRPC code %s, want Unknown", re.Code)
		}
		return nil
	})
}
