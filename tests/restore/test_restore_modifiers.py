"""Restore resource modifiers: JSON patch / merge patch / strategic merge patch units, rule conditions,
validation of the rules document, and restores through kubesim with a modifiers ConfigMap."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest
import yaml
from restore_helpers import CONFIGMAPS, DEPLOYMENTS, NAMESPACES, restore_cr, run, write_backup

from veloro_core.api.restore import RestorePhase
from veloro_core.cli.restore import build_restore
from veloro_core.kube import AlreadyExists, GroupVersionResource, KubeClient, NotFound
from veloro_core.persistence import BackupStore
from veloro_core.plugins import PluginManager
from veloro_core.restore.jsonpatch import PatchError, PatchTestFailed, apply_json_patch, merge_patch
from veloro_core.restore.modifier_rules import compile_glob, patch_value
from veloro_core.restore.modifiers import (
    ResourceModifiers,
    load_modifiers,
    modifiers_from_configmap,
    parse_modifiers,
)
from veloro_core.restore.strategic import strategic_merge

Obj = dict[str, Any]
PVCS = GroupVersionResource("", "v1", "persistentvolumeclaims")
_names = itertools.count()


def rules(*rule_list: Obj) -> ResourceModifiers:
    mods, problems = parse_modifiers(
        yaml.safe_dump({"version": "v1", "resourceModifierRules": list(rule_list)}), "veloro/t"
    )
    assert mods is not None, problems
    return mods


def problems_of(doc: Any) -> list[str]:
    text = doc if isinstance(doc, str) else yaml.safe_dump(doc)
    mods, problems = parse_modifiers(text, "veloro/t")
    assert mods is None
    return problems


def pvc(name: str, ns: str = "app", sc: str = "standard", **labels: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {
            "storageClassName": sc,
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
        },
    }


def deployment(name: str, ns: str = "app") -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {"name": "sidecar", "image": "repo1/proxy:1"},
                        {
                            "name": "nginx",
                            "image": "repo1/nginx:1",
                            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                            "ports": [{"containerPort": 80}],
                        },
                    ],
                    "volumes": [{"name": "data", "emptyDir": {}}],
                },
            },
        },
    }


# ------------------------------------------------------------------------------------- JSON patch
def test_json_patch_operations() -> None:
    doc = {"a": {"b": 1}, "l": [1, 2, 3]}
    ops = [
        {"op": "add", "path": "/a/c", "value": {"x": 1}},
        {"op": "add", "path": "/l/1", "value": 9},
        {"op": "add", "path": "/l/-", "value": 4},
        {"op": "replace", "path": "/a/b", "value": "two"},
        {"op": "copy", "from": "/a/c", "path": "/d"},
        {"op": "move", "from": "/l/0", "path": "/first"},
        {"op": "remove", "path": "/a/c/x"},
        {"op": "test", "path": "/d", "value": {"x": 1}},
        {"op": "add", "path": "/k~1v", "value": True},
    ]
    out = apply_json_patch(doc, ops)
    assert out == {"a": {"b": "two", "c": {}}, "l": [9, 2, 3, 4], "d": {"x": 1}, "first": 1, "k/v": True}
    assert doc == {"a": {"b": 1}, "l": [1, 2, 3]}  # the input is never changed


@pytest.mark.parametrize(
    "op",
    [
        {"op": "replace", "path": "/missing", "value": 1},
        {"op": "remove", "path": "/l/5"},
        {"op": "add", "path": "/l/01", "value": 1},
        {"op": "add", "path": "/nope/x", "value": 1},
        {"op": "move", "from": "/a", "path": "/a/b"},
    ],
)
def test_json_patch_errors(op: Obj) -> None:
    with pytest.raises(PatchError) as info:
        apply_json_patch({"a": {"b": 1}, "l": [1]}, [op])
    assert not isinstance(info.value, PatchTestFailed)


def test_json_patch_test_is_type_strict() -> None:
    apply_json_patch({"n": 1}, [{"op": "test", "path": "/n", "value": 1.0}])
    for value in (True, "1"):
        with pytest.raises(PatchTestFailed):
            apply_json_patch({"n": 1}, [{"op": "test", "path": "/n", "value": value}])
    with pytest.raises(PatchTestFailed):
        apply_json_patch({}, [{"op": "test", "path": "/missing", "value": 1}])


def test_merge_patch() -> None:
    target = {"metadata": {"annotations": {"foo": "1", "bar": "2"}}, "data": {"k": "v"}, "l": [1, 2]}
    out = merge_patch(target, {"metadata": {"annotations": {"foo": None}}, "data": {"k2": "x"}, "l": [3]})
    assert out == {"metadata": {"annotations": {"bar": "2"}}, "data": {"k": "v", "k2": "x"}, "l": [3]}
    assert target["metadata"]["annotations"] == {"foo": "1", "bar": "2"}


# -------------------------------------------------------------------------------- strategic merge
def test_strategic_merge_lists_by_key() -> None:
    dep = deployment("web")
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "nginx", "image": "repo2/nginx:1", "env": [{"name": "B", "value": "3"}]},
                        {"name": "sidecar", "$patch": "delete"},
                        {"name": "new", "image": "busybox", "args": ["a"]},
                    ],
                    "volumes": [{"name": "cache", "emptyDir": {}}],
                }
            }
        }
    }
    out = strategic_merge(dep, patch)
    containers = out["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["nginx", "new"]
    assert containers[0]["image"] == "repo2/nginx:1"
    assert containers[0]["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}]
    assert containers[0]["ports"] == [{"containerPort": 80}]
    assert [v["name"] for v in out["spec"]["template"]["spec"]["volumes"]] == ["data", "cache"]
    assert dep == deployment("web")  # unchanged


def test_strategic_merge_directives_and_unkeyed_lists() -> None:
    obj = {
        "metadata": {"finalizers": ["a", "b"], "labels": {"x": "1", "y": "2"}},
        "spec": {"args": ["1", "2"], "ports": [{"port": 80, "name": "http"}], "z": {"q": 1}},
    }
    patch = {
        "metadata": {"finalizers": ["c", "a"], "$deleteFromPrimitiveList/finalizers": ["b"]},
        "spec": {
            "args": ["3"],  # no merge key: replaced
            "ports": [{"port": 80, "name": "web"}, {"port": 443}],  # Service ports merge by port
            "z": {"$patch": "replace", "r": 2},
            "$retainKeys": ["args", "ports", "z"],
        },
    }
    out = strategic_merge(obj, patch)
    assert out["metadata"]["finalizers"] == ["a", "c"]
    assert out["spec"] == {
        "args": ["3"],
        "ports": [{"port": 80, "name": "web"}, {"port": 443}],
        "z": {"r": 2},
    }
    custom = {"spec": {"containers": [{"name": "a", "x": 1}]}}
    replaced = strategic_merge(custom, {"spec": {"containers": [{"name": "b"}]}}, keyed=False)
    assert replaced == {"spec": {"containers": [{"name": "b"}]}}


# ----------------------------------------------------------------------------------- conditions
def test_group_resource_globs() -> None:
    assert compile_glob("*.apps").match("deployments.apps")
    assert not compile_glob("*.apps").match("pods")
    assert compile_glob("*").match("pods") and not compile_glob("*").match("deployments.apps")
    assert compile_glob("**").match("volumesnapshots.snapshot.storage.k8s.io")
    assert compile_glob("{deployments,statefulsets}.apps").match("statefulsets.apps")
    assert compile_glob("p?ds").match("pods") and compile_glob("[!s]ods").match("pods")


def test_conditions_all_must_match() -> None:
    mods = rules(
        {
            "conditions": {
                "groupResource": "persistentvolumeclaims",
                "resourceNameRegex": "^mysql",
                "namespaces": ["app", "other"],
                "labelSelector": {"matchLabels": {"tier": "db"}},
                "matches": [{"path": "/spec/storageClassName", "value": "standard"}],
            },
            "patches": [{"operation": "replace", "path": "/spec/storageClassName", "value": "premium"}],
        }
    )
    good = pvc("mysql-0", tier="db")
    assert mods.apply(good, "persistentvolumeclaims", "app").item["spec"]["storageClassName"] == "premium"
    misses = [
        (pvc("mysql-0", tier="db"), "pods", "app"),  # group resource
        (pvc("web-0", tier="db"), "persistentvolumeclaims", "app"),  # name
        (pvc("mysql-0", tier="db"), "persistentvolumeclaims", "elsewhere"),  # backup namespace
        (pvc("mysql-0", tier="web"), "persistentvolumeclaims", "app"),  # labels
        (pvc("mysql-0", sc="fast", tier="db"), "persistentvolumeclaims", "app"),  # matches
    ]
    for obj, gr, ns in misses:
        outcome = mods.apply(obj, gr, ns)
        assert outcome.item is obj and not outcome.applied and not outcome.errors


def test_namespaces_ignored_for_cluster_scope_and_missing_match_path() -> None:
    mods = rules(
        {
            "conditions": {"groupResource": "persistentvolumes", "namespaces": ["app"]},
            "mergePatches": [{"patchData": "metadata: {labels: {moved: 'yes'}}"}],
        },
        {
            "conditions": {
                "groupResource": "persistentvolumes",
                "matches": [{"path": "/spec/nope", "value": "x"}],
            },
            "mergePatches": [{"patchData": '{"metadata": {"labels": {"never": "1"}}}'}],
        },
    )
    pv = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv1"}, "spec": {}}
    out = mods.apply(pv, "persistentvolumes", None)
    assert out.item["metadata"]["labels"] == {"moved": "yes"} and out.applied == ["resourceModifierRules[0]"]


def test_conditions_see_the_item_before_any_rule() -> None:
    """a=>b and b=>c rules turn a into b, not c (Velero's fix of its issue 7714)."""
    chain = [
        {
            "conditions": {"groupResource": "persistentvolumeclaims", "matches": [{"path": p, "value": v}]},
            "patches": [{"operation": "replace", "path": p, "value": new}],
        }
        for p, v, new in (("/spec/storageClassName", "a", "b"), ("/spec/storageClassName", "b", "c"))
    ]
    mods = rules(*chain)
    assert (
        mods.apply(pvc("x", sc="a"), "persistentvolumeclaims", "app").item["spec"]["storageClassName"] == "b"
    )
    assert (
        mods.apply(pvc("x", sc="b"), "persistentvolumeclaims", "app").item["spec"]["storageClassName"] == "c"
    )


def test_patch_values_as_velero_reads_them() -> None:
    assert patch_value("3") == 3 and patch_value("1.5") == 1.5 and patch_value("true") is True
    assert patch_value('"3"') == "3" and patch_value("null") is None and patch_value("") == ""
    assert patch_value('{"name": "nginx", "ports": [{"containerPort": 80}]}') == {
        "name": "nginx",
        "ports": [{"containerPort": 80}],
    }
    assert patch_value("premium") == "premium" and patch_value(7) == 7 and patch_value({"a": 1}) == {"a": 1}
    mods = rules(
        {
            "conditions": {
                "groupResource": "deployments.apps",
                "matches": [{"path": "/spec/replicas", "value": "2"}],
            },
            "patches": [
                {"operation": "replace", "path": "/spec/replicas", "value": "1"},
                {
                    "operation": "add",
                    "path": "/spec/template/spec/containers/0",
                    "value": '{"name": "init", "image": "busybox"}',
                },
            ],
        }
    )
    out = mods.apply(deployment("web"), "deployments.apps", "app").item
    assert out["spec"]["replicas"] == 1
    assert out["spec"]["template"]["spec"]["containers"][0] == {"name": "init", "image": "busybox"}


def test_failed_test_operation_skips_the_rule_other_failures_are_errors() -> None:
    mods = rules(
        {
            "conditions": {"groupResource": "persistentvolumeclaims"},
            "patches": [
                {"operation": "test", "path": "/spec/storageClassName", "value": "premium"},
                {"operation": "replace", "path": "/spec/storageClassName", "value": "standard-v2"},
            ],
        },
        {
            "conditions": {"groupResource": "persistentvolumeclaims"},
            "patches": [{"operation": "replace", "path": "/spec/volumeMode", "value": "Block"}],
        },
    )
    obj = pvc("x", sc="standard")
    out = mods.apply(obj, "persistentvolumeclaims", "app")
    assert out.item["spec"]["storageClassName"] == "standard"
    assert len(out.skipped) == 1 and "resourceModifierRules[0]" in out.skipped[0]
    assert (
        len(out.errors) == 1 and "resourceModifierRules[1]" in out.errors[0] and "volumeMode" in out.errors[0]
    )
    hit = mods.apply(pvc("x", sc="premium"), "persistentvolumeclaims", "app")
    assert hit.item["spec"]["storageClassName"] == "standard-v2"


# ----------------------------------------------------------------------------------- validation
def test_validation_lists_every_problem() -> None:
    problems = problems_of(
        {
            "version": "v2",
            "resourceModifierRules": [
                {
                    "conditions": {"resourceNameRegex": "(", "labelSelector": {"matchLabels": {"a b": "c"}}},
                    "patches": [
                        {"operation": "rename", "path": "/x"},
                        {"operation": "move", "path": "/a"},
                        {"operation": "add", "path": "spec"},
                    ],
                },
                {
                    "conditions": {"groupResource": "[pods"},
                    "patches": [{"operation": "remove", "path": "/a"}],
                },
                {
                    "conditions": {"groupResource": "pods"},
                    "patches": [{"operation": "remove", "path": "/a"}],
                    "mergePatches": [{"patchData": "{}"}],
                },
                {"conditions": {"groupResource": "pods"}},
                {"conditions": {"groupResource": "pods"}, "mergePatches": [{"patchData": "[1]"}], "x": 1},
            ],
        }
    )
    text = "\n".join(problems)
    for needle in (
        "unsupported resource modifier version 'v2'",
        "resourceModifierRules[0].conditions.groupResource is required",
        "resourceModifierRules[0].conditions.resourceNameRegex '(' is not a regex",
        "labelSelector",
        "resourceModifierRules[0].patches[0]: unsupported operation 'rename'",
        "resourceModifierRules[0].patches[1].from is required",
        "resourceModifierRules[0].patches[2].path: path 'spec' is not a JSON pointer",
        "resourceModifierRules[1].conditions.groupResource: invalid glob",
        "resourceModifierRules[2]: only one of patches, mergePatches, strategicPatches",
        "resourceModifierRules[3] has no patches",
        "resourceModifierRules[4]: unknown field 'x'",
        "resourceModifierRules[4].mergePatches[0].patchData must be a map",
    ):
        assert needle in text, (needle, problems)
    assert all(p.startswith("resource modifiers ConfigMap veloro/t: ") for p in problems)
    assert problems_of("version: v1\nresourceModifierRules: []") == [
        "resource modifiers ConfigMap veloro/t: resourceModifierRules must be a non-empty list of rules"
    ]
    assert "not valid YAML or JSON" in problems_of("version: [v1\n")[0]


def test_configmap_must_hold_one_entry() -> None:
    cm = {"metadata": {"name": "m", "namespace": "veloro"}, "data": {"a.yaml": "x", "b.yaml": "y"}}
    mods, problems = modifiers_from_configmap(cm)
    assert mods is None and "exactly one data entry" in problems[0] and "veloro/m" in problems[0]
    doc = (
        '{"version": "v1", "resourceModifierRules": [{"conditions": {"groupResource": "pods"}, '
        '"patches": [{"operation": "remove", "path": "/spec/nodeName"}]}]}'
    )
    mods, problems = modifiers_from_configmap(
        {"metadata": {"name": "m", "namespace": "veloro"}, "data": {"j": doc}}
    )
    assert mods is not None and not problems and len(mods.rules) == 1


def test_cli_sets_resource_modifier_reference() -> None:
    restore = build_restore("r1", {"from_backup": "b1", "resource_modifier_configmap": "mods"}).to_dict()
    assert restore["spec"]["resourceModifier"] == {"kind": "configmap", "name": "mods"}


# ------------------------------------------------------------------------- through kubesim (HTTP)
def put_modifiers(kube: KubeClient, document: Any) -> str:
    try:
        kube.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "veloro"}})
    except AlreadyExists:
        pass
    name = f"mods{next(_names)}"
    text = document if isinstance(document, str) else yaml.safe_dump(document)
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"rules.yaml": text}}
    kube.create(CONFIGMAPS, cm, "veloro")
    return name


def ref(name: str, kind: str = "configmap") -> Obj:
    return {"resourceModifier": {"kind": kind, "name": name}}


MODIFIERS = {
    "version": "v1",
    "resourceModifierRules": [
        {
            "conditions": {
                "groupResource": "configmaps",
                "resourceNameRegex": "^settings$",
                "namespaces": ["SRC"],
            },
            "mergePatches": [{"patchData": '{"data": {"endpoint": "https://dr.example.com"}}'}],
        },
        {
            "conditions": {"groupResource": "*.apps", "labelSelector": {"matchLabels": {"app": "web"}}},
            "strategicPatches": [
                {
                    "patchData": "spec:\n  template:\n    spec:\n      containers:\n      - name: nginx\n"
                    "        image: repo2/nginx:1\n"
                }
            ],
        },
        {
            "conditions": {
                "groupResource": "persistentvolumeclaims",
                "matches": [{"path": "/spec/storageClassName", "value": "standard"}],
            },
            "patches": [
                {"operation": "replace", "path": "/spec/storageClassName", "value": "premium"},
                {"operation": "add", "path": "/metadata/annotations", "value": '{"modified": "yes"}'},
            ],
        },
    ],
}


def test_restore_applies_modifiers(
    kube: KubeClient, plugins: PluginManager, store: BackupStore, ns: str
) -> None:
    src = f"{ns}-src"
    settings = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": src},
        "data": {"endpoint": "https://prod.example.com", "other": "x"},
    }
    untouched = copy.deepcopy(settings)
    untouched["metadata"]["name"] = "untouched"
    items = [
        ("namespaces", "v1", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": src}}),
        ("configmaps", "v1", settings),
        ("configmaps", "v1", untouched),
        ("deployments.apps", "v1", deployment("web", src)),
        ("persistentvolumeclaims", "v1", pvc("data", src)),
        ("persistentvolumeclaims", "v1", pvc("fast", src, sc="fast")),
    ]
    backup = write_backup(store, "b-mod", items)
    doc = yaml.safe_dump(MODIFIERS).replace("SRC", src)
    spec = {**ref(put_modifiers(kube, doc)), "namespaceMapping": {src: ns}}  # rules name the backup namespace
    result = run(kube, plugins, store, restore_cr("r-mod", "b-mod", **spec), backup)
    assert result.phase is RestorePhase.COMPLETED, (result.validation_errors, result.errors.to_dict())
    assert kube.get(CONFIGMAPS, "settings", ns)["data"] == {
        "endpoint": "https://dr.example.com",
        "other": "x",
    }
    assert kube.get(CONFIGMAPS, "untouched", ns)["data"]["endpoint"] == "https://prod.example.com"
    containers = kube.get(DEPLOYMENTS, "web", ns)["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [
        ("sidecar", "repo1/proxy:1"),
        ("nginx", "repo2/nginx:1"),
    ]
    claim = kube.get(PVCS, "data", ns)
    assert claim["spec"]["storageClassName"] == "premium" and claim["metadata"]["annotations"] == {
        "modified": "yes"
    }
    assert claim["metadata"]["labels"]["veloro.io/restore-name"] == "r-mod"  # restore labels still added
    assert kube.get(PVCS, "fast", ns)["spec"]["storageClassName"] == "fast"
    log = b"".join(store.get_restore_log("r-mod")).decode()
    assert "resource modifier applied" in log


def test_failing_patch_is_an_item_error(
    kube: KubeClient, plugins: PluginManager, store: BackupStore, ns: str
) -> None:
    items = [
        ("namespaces", "v1", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        ("persistentvolumeclaims", "v1", pvc("a", ns)),
        (
            "configmaps",
            "v1",
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": ns}},
        ),
    ]
    backup = write_backup(store, "b-fail", items)
    doc = {
        "version": "v1",
        "resourceModifierRules": [
            {
                "conditions": {"groupResource": "persistentvolumeclaims"},
                "patches": [{"operation": "remove", "path": "/spec/selector/matchLabels"}],
            }
        ],
    }
    result = run(
        kube, plugins, store, restore_cr("r-fail", "b-fail", **ref(put_modifiers(kube, doc))), backup
    )
    assert result.phase is RestorePhase.PARTIALLY_FAILED
    errors = result.errors.to_dict()["namespaces"][ns]
    assert (
        len(errors) == 1 and "resourceModifierRules[0]" in errors[0] and "persistentvolumeclaims" in errors[0]
    )
    with pytest.raises(NotFound):
        kube.get(PVCS, "a", ns)
    kube.get(CONFIGMAPS, "c", ns)


@pytest.mark.parametrize("case", ["missing", "invalid", "kind"])
def test_bad_modifiers_fail_validation(
    kube: KubeClient, plugins: PluginManager, store: BackupStore, ns: str, case: str
) -> None:
    items = [
        (
            "configmaps",
            "v1",
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": ns}},
        )
    ]
    backup = write_backup(store, f"b-{case}", items)
    if case == "missing":
        spec, expected = ref("no-such-modifiers"), "ConfigMap veloro/no-such-modifiers not found"
    elif case == "invalid":
        name = put_modifiers(kube, {"version": "v9", "resourceModifierRules": [{"conditions": {}}]})
        spec, expected = ref(name), "unsupported resource modifier version 'v9'"
    else:
        spec, expected = ref(put_modifiers(kube, MODIFIERS), kind="Secret"), "kind 'Secret' is not supported"
    result = run(kube, plugins, store, restore_cr(f"r-{case}", f"b-{case}", **spec), backup)
    assert result.phase is RestorePhase.FAILED_VALIDATION
    assert any(expected in p for p in result.validation_errors), result.validation_errors
    if case == "invalid":
        assert any("groupResource is required" in p for p in result.validation_errors)
    with pytest.raises(NotFound):
        kube.get(CONFIGMAPS, "c", ns)


def test_load_modifiers_without_reference_reads_nothing(kube: KubeClient) -> None:
    assert load_modifiers(kube, restore_cr("r", "b")) == (None, [])
