"""In-process unit tests of the pure layers: selectors, patches, tables, protobuf framing, the store."""

from __future__ import annotations

import pytest

from kubesim.errors import ApiError
from kubesim.patch import json_patch, merge_patch, strategic_merge
from kubesim.selectors import parse_field_selector, parse_label_selector
from kubesim.store import Store
from kubesim.table import human_age, json_path


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("a=1", {"a": "1"}, True),
        ("a==1,b!=2", {"a": "1", "b": "3"}, True),
        ("a!=1", {}, True),
        ("a in (1, 2),!c", {"a": "2"}, True),
        ("a notin (1,2)", {"a": "1"}, False),
        ("a", {"b": "1"}, False),
        ("app.kubernetes.io/name=web", {"app.kubernetes.io/name": "web"}, True),
        ("x>5", {"x": "7"}, True),
        ("x<5", {"x": "nan"}, False),
        ("a=", {"a": ""}, True),
    ],
)
def test_label_selectors(selector: str, labels: dict[str, str], expected: bool) -> None:
    match = parse_label_selector(selector)
    assert match is not None and match(labels) is expected


@pytest.mark.parametrize("bad", ["a in b", "a in (1", "a b", "(a)", "!"])
def test_bad_label_selectors_are_400(bad: str) -> None:
    with pytest.raises(ApiError) as err:
        parse_label_selector(bad)
    assert err.value.code == 400


def test_field_selectors() -> None:
    match = parse_field_selector("status.phase=Running,metadata.name!=x", "/pods", "Pod")
    assert match is not None
    assert match({"metadata": {"name": "y"}, "status": {"phase": "Running"}})
    assert not match({"metadata": {"name": "x"}, "status": {"phase": "Running"}})
    with pytest.raises(ApiError):
        parse_field_selector("status.phase=Running", "/configmaps", "ConfigMap")


def test_merge_and_json_patch() -> None:
    doc = {"a": {"b": 1, "c": 2}, "l": [1, 2]}
    assert merge_patch(doc, {"a": {"b": None, "d": 3}, "l": [3]}) == {"a": {"c": 2, "d": 3}, "l": [3]}
    ops = [
        {"op": "add", "path": "/l/-", "value": 3},
        {"op": "replace", "path": "/a/b", "value": 9},
        {"op": "move", "from": "/a/c", "path": "/m"},
        {"op": "test", "path": "/m", "value": 2},
        {"op": "remove", "path": "/l/0"},
        {"op": "add", "path": "/x~1y", "value": True},
    ]
    assert json_patch(doc, ops) == {"a": {"b": 9}, "l": [2, 3], "m": 2, "x/y": True}
    assert doc == {"a": {"b": 1, "c": 2}, "l": [1, 2]}  # the input is not modified
    with pytest.raises(ApiError) as err:
        json_patch(doc, [{"op": "test", "path": "/a/b", "value": 5}])
    assert err.value.code == 422


def test_strategic_merge_lists_by_key_and_directives() -> None:
    pod = {
        "metadata": {"finalizers": ["a"]},
        "spec": {
            "containers": [
                {"name": "app", "image": "v1", "env": [{"name": "A", "value": "1"}], "args": ["x"]},
                {"name": "side", "image": "s"},
            ],
            "volumes": [{"name": "v", "emptyDir": {}}],
        },
    }
    patch = {
        "metadata": {"finalizers": ["b"]},
        "spec": {
            "$setElementOrder/containers": [{"name": "side"}, {"name": "app"}],
            "containers": [
                {"name": "app", "image": "v2", "env": [{"name": "B", "value": "2"}], "args": ["y"]},
                {"name": "side", "$patch": "delete"},
            ],
            "volumes": [{"name": "v", "$retainKeys": ["name", "configMap"], "configMap": {"name": "c"}}],
        },
    }
    out = strategic_merge(pod, patch)
    assert out["metadata"]["finalizers"] == ["a", "b"]
    (app,) = out["spec"]["containers"]
    assert app["image"] == "v2" and app["args"] == ["y"]
    assert [e["name"] for e in app["env"]] == ["A", "B"]
    assert out["spec"]["volumes"] == [{"name": "v", "configMap": {"name": "c"}}]
    replaced = strategic_merge(
        pod, {"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "o"}]}}
    )
    assert replaced["spec"]["containers"] == [{"name": "only", "image": "o"}]


def test_table_helpers() -> None:
    assert human_age("2020-01-01T00:00:00Z", now=1577836800 + 30) == "30s"
    assert human_age("2020-01-01T00:00:00Z", now=1577836800 + 3 * 3600) == "3h"
    assert human_age("2020-01-01T00:00:00Z", now=1577836800 + 3 * 86400 + 5 * 3600) == "3d5h"
    obj = {"spec": {"ports": [{"port": 80}], "a.b": {"c": 1}}}
    assert json_path(obj, ".spec.ports[0].port") == 80
    assert json_path(obj, "{.spec['a.b'].c}") == 1
    assert json_path(obj, ".spec.missing.x") is None


def test_store_event_log_and_snapshots() -> None:
    store = Store(log_size=3)
    for i in range(5):
        rv = store.next_rv()
        store.put(
            "/configmaps", {"metadata": {"name": f"c{i}", "namespace": "d", "resourceVersion": str(rv)}}, rv
        )
    assert store.events_since("/configmaps", 1) is None  # compacted: the caller answers 410
    events = store.events_since("/configmaps", 3)
    assert events is not None and [e.entry.name for e in events] == ["c3", "c4"]
    entries = store.bucket("/configmaps").sorted_entries("d")
    sid = store.snapshots.add(store.rv, entries)
    assert store.snapshots.get(sid) == (5, entries)
    store.snapshots.ttl = 0
    assert store.snapshots.get(sid) is None
