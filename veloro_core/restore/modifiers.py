"""Restore resource modifiers (Velero's, version v1): rules read from a ConfigMap that patch items before
they are created.

    version: v1
    resourceModifierRules:
    - conditions: {groupResource: deployments.apps, resourceNameRegex: "^web", namespaces: [prod],
                   labelSelector: {matchLabels: {app: web}}, matches: [{path: /spec/replicas, value: "3"}]}
      patches: [{operation: replace, path: /spec/replicas, value: "1"}]   # or mergePatches / strategicPatches

Semantics as Velero's: the ConfigMap (in the Restore's namespace) has exactly one data entry; every rule
whose conditions all match is applied, in order; conditions are evaluated on the item as it was before any
rule changed it; `namespaces` are the item's namespaces in the BACKUP (before namespace mapping);
`groupResource` is a glob whose `*` does not cross a '.' (`*.apps`; `**` matches everything). A rule holds
one kind of patch. A failing `test` operation skips that rule's JSON patches (a conditional patch, not an
error); any other failure is an error of the item, which is then not restored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from veloro_core.kube import GroupVersionResource, KubeClient, KubeError, NotFound
from veloro_core.restore.jsonpatch import (
    PatchError,
    PatchTestFailed,
    apply_json_patch,
    get_pointer,
    json_equal,
    merge_patch,
)
from veloro_core.restore.modifier_rules import Rule, parse_rules
from veloro_core.restore.strategic import StrategicPatchError, builtin_api, strategic_merge

Obj = dict[str, Any]
CONFIGMAPS = GroupVersionResource("", "v1", "configmaps")

__all__ = [
    "CONFIGMAPS",
    "ModifierOutcome",
    "ResourceModifiers",
    "load_modifiers",
    "modifiers_from_configmap",
    "parse_modifiers",
]


@dataclass
class ModifierOutcome:
    """The item after the rules; `applied`/`skipped` name rules (for the log); `errors` fail the item."""

    item: Obj
    applied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ResourceModifiers:
    source: str  # "namespace/name" of the ConfigMap, for messages
    rules: tuple[Rule, ...]

    def apply(self, obj: Obj, group_resource: str, namespace: str | None) -> ModifierOutcome:
        """Apply every matching rule to `obj` (not changed itself). `namespace`: the item's namespace in
        the backup, None for a cluster-scoped item."""
        matched = [r for r in self.rules if _matches(r, obj, group_resource, namespace)]
        outcome = ModifierOutcome(obj)
        for rule in matched:
            try:
                patched = _patch(rule, outcome.item)
            except PatchTestFailed as exc:
                outcome.skipped.append(f"{rule.where}: {exc}")
                continue
            except (PatchError, StrategicPatchError) as exc:
                outcome.errors.append(f"resource modifier {rule.where} ({self.source}) failed: {exc}")
                continue
            if not isinstance(patched, dict) or not isinstance(patched.get("metadata"), dict):
                outcome.errors.append(
                    f"resource modifier {rule.where} ({self.source}) left the item without metadata"
                )
                continue
            outcome.item = patched
            outcome.applied.append(rule.where)
        return outcome


def _matches(rule: Rule, obj: Obj, group_resource: str, namespace: str | None) -> bool:
    cond = rule.conditions
    if not cond.group_resource.match(group_resource):
        return False
    if namespace and not cond.namespaces.should_include(namespace):
        return False
    meta = obj.get("metadata") or {}
    if cond.name_regex is not None and not cond.name_regex.search(str(meta.get("name") or "")):
        return False
    if cond.selector is not None and not cond.selector.matches(meta.get("labels") or {}):
        return False
    for pointer, expected in cond.matches:
        try:
            if not json_equal(get_pointer(obj, pointer), expected):
                return False
        except PatchError:
            return False  # nothing at the path: not a match (as Velero)
    return True


def _patch(rule: Rule, obj: Obj) -> Any:
    if rule.json_ops:
        return apply_json_patch(obj, rule.json_ops)
    result: Any = obj
    for doc in rule.merge_patches:
        result = merge_patch(result, doc)
    keyed = builtin_api(str(obj.get("apiVersion") or ""))
    for doc in rule.strategic_patches:
        result = strategic_merge(result, doc, keyed=keyed)
    return result


def parse_modifiers(text: str, source: str) -> tuple[ResourceModifiers | None, list[str]]:
    """Parse the YAML (or JSON) rules document; (None, problems) when it is not valid."""
    rules, problems = parse_rules(text)
    if problems:
        return None, [f"resource modifiers ConfigMap {source}: {p}" for p in problems]
    return ResourceModifiers(source, tuple(rules)), []


def modifiers_from_configmap(cm: Mapping[str, Any]) -> tuple[ResourceModifiers | None, list[str]]:
    meta = cm.get("metadata") or {}
    source = f"{meta.get('namespace') or ''}/{meta.get('name') or ''}"
    data = cm.get("data") or {}
    if not isinstance(data, dict) or len(data) != 1:
        return None, [
            f"resource modifiers ConfigMap {source} must hold exactly one data entry (the rules document), "
            f"it has {len(data) if isinstance(data, dict) else 0}; create it with "
            "`kubectl create configmap <name> --from-file=<rules.yaml>`"
        ]
    return parse_modifiers(str(next(iter(data.values()))), source)


def _reference(restore: Obj) -> tuple[str, list[str]]:
    """The ConfigMap name of spec.resourceModifier, with problems of the reference itself."""
    ref = (restore.get("spec") or {}).get("resourceModifier")
    if not isinstance(ref, dict):
        return "", ["spec.resourceModifier must be a reference {kind: ConfigMap, name: <name>}"]
    kind, name = str(ref.get("kind") or ""), str(ref.get("name") or "")
    problems = []
    if kind.lower() != "configmap":
        problems.append(
            f"spec.resourceModifier.kind {kind!r} is not supported: resource modifiers are read from a "
            "ConfigMap (kind: ConfigMap)"
        )
    if not name:
        problems.append("spec.resourceModifier.name is empty: name the ConfigMap that holds the rules")
    return name, problems


def load_modifiers(
    kube: KubeClient, restore: Obj, server_namespace: str = ""
) -> tuple[ResourceModifiers | None, list[str]]:
    """The Restore's resource modifiers read from its ConfigMap (in the Restore's namespace, else the
    server's): (None, []) when the Restore has none, (None, problems) when they cannot be used."""
    if not (restore.get("spec") or {}).get("resourceModifier"):
        return None, []
    name, problems = _reference(restore)
    namespace = str((restore.get("metadata") or {}).get("namespace") or server_namespace)
    if not namespace:
        problems.append("the Restore has no namespace, so the resource modifiers ConfigMap cannot be found")
    if problems:
        return None, problems
    try:
        cm = kube.get(CONFIGMAPS, name, namespace)
    except NotFound:
        return None, [
            f"resource modifiers ConfigMap {namespace}/{name} not found: create it in the server's namespace "
            f"(kubectl create configmap {name} --from-file=<rules.yaml> -n {namespace})"
        ]
    except KubeError as exc:
        return None, [f"cannot read the resource modifiers ConfigMap {namespace}/{name}: {exc}"]
    return modifiers_from_configmap(cm)
