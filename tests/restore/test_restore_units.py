"""Pure functions of the restore engine: priorities, labels, metadata reset, equality, merge patch."""

from __future__ import annotations

import hashlib

import pytest

from veloro_core.restore import (
    DEFAULT_PRIORITIES,
    Priorities,
    equal_ignoring_server_fields,
    label_value,
    merge_patch,
    order_resources,
    reset_metadata,
    skip_reason,
)
from veloro_core.restore.results import Results


def test_priorities_parse_and_replace() -> None:
    p = Priorities.parse("namespaces, pods ,-,clusters.cluster.x-k8s.io")
    assert p.high == ("namespaces", "pods") and p.low == ("clusters.cluster.x-k8s.io",)
    assert str(p) == "namespaces,pods,-,clusters.cluster.x-k8s.io"
    assert Priorities.parse("a,b").low == ()
    with pytest.raises(ValueError, match="more than one"):
        Priorities.parse("a,-,b,-,c")
    with pytest.raises(ValueError, match="more than once"):
        Priorities.parse("a,b,-,a")


def test_order_high_then_alphabetical_then_low() -> None:
    present = [
        "services",
        "zebras.example.com",
        "pods",
        "apples.example.com",
        "clusters.cluster.x-k8s.io",
        "replicasets.apps",
        "secrets",
    ]
    resolve = {"pods": "pods", "services": "services", "secrets": "secrets"}.get
    order = order_resources(present, DEFAULT_PRIORITIES, resolve)
    assert order == [
        "secrets",
        "pods",
        "replicasets.apps",
        "services",
        "apples.example.com",
        "zebras.example.com",
        "clusters.cluster.x-k8s.io",
    ]
    # an override replaces the default list entirely
    assert order_resources(present, Priorities.parse("services,-,pods"), resolve) == [
        "services",
        "apples.example.com",
        "clusters.cluster.x-k8s.io",
        "replicasets.apps",
        "secrets",
        "zebras.example.com",
        "pods",
    ]


def test_label_value_cut_with_sha() -> None:
    assert label_value("short") == "short"
    assert label_value("x" * 63) == "x" * 63
    long = "y" * 64
    assert label_value(long) == "y" * 57 + hashlib.sha256(long.encode()).hexdigest()[:6]


def test_reset_metadata() -> None:
    obj = {
        "metadata": {
            "name": "a",
            "generateName": "a-",
            "uid": "u",
            "resourceVersion": "1",
            "selfLink": "/x",
            "generation": 2,
            "creationTimestamp": "t",
            "deletionTimestamp": "t",
            "deletionGracePeriodSeconds": 30,
            "ownerReferences": [{}],
            "managedFields": [{}],
            "labels": {"k": "v"},
            "annotations": {"a": "b"},
            "finalizers": ["f"],
        },
        "spec": {},
        "status": {"phase": "x"},
    }
    out = reset_metadata(obj, keep_status=False)
    assert out["metadata"] == {
        "name": "a",
        "labels": {"k": "v"},
        "annotations": {"a": "b"},
        "finalizers": ["f"],
    }
    assert "status" not in out
    gen = reset_metadata({"metadata": {"generateName": "g-"}, "status": {"s": 1}}, keep_status=True)
    assert gen == {"metadata": {"generateName": "g-"}, "status": {"s": 1}}


def test_equality_ignores_server_fields_and_restore_labels() -> None:
    desired = {
        "metadata": {"name": "a", "labels": {"app": "x", "veloro.io/restore-name": "r2"}},
        "data": {"k": "v"},
    }
    live = {
        "metadata": {
            "name": "a",
            "uid": "u",
            "resourceVersion": "7",
            "labels": {"app": "x", "veloro.io/restore-name": "r1", "velero.io/backup-name": "b"},
            "managedFields": [],
        },
        "data": {"k": "v"},
        "status": {"x": 1},
    }
    assert equal_ignoring_server_fields(desired, live)
    live["data"] = {"k": "other"}
    assert not equal_ignoring_server_fields(desired, live)


def test_merge_patch_sets_and_nulls() -> None:
    live = {
        "metadata": {"name": "a", "uid": "u", "labels": {"old": "1", "keep": "k"}},
        "data": {"a": "1", "b": "2"},
        "status": {"s": 1},
    }
    desired = {"metadata": {"name": "a", "labels": {"keep": "k", "new": "2"}}, "data": {"a": "9"}}
    assert merge_patch(live, desired) == {
        "metadata": {"labels": {"old": None, "new": "2"}},
        "data": {"a": "9", "b": None},
    }


def test_skip_rules() -> None:
    assert skip_reason("pods", {"status": {"phase": "Succeeded"}})
    assert skip_reason("pods", {"status": {"phase": "Failed"}})
    assert skip_reason("pods", {"metadata": {"annotations": {"kubernetes.io/config.mirror": "x"}}})
    assert skip_reason("pods", {"status": {"phase": "Running"}}) is None
    assert skip_reason("jobs.batch", {"status": {"completionTime": "t"}})
    assert skip_reason("jobs.batch", {"status": {}}) is None


def test_results_shape() -> None:
    r = Results()
    assert r.to_dict() == {}
    r.add("ns1", "w1")
    r.add(None, "c1")
    r.add_velero("v1")
    assert r.to_dict() == {"velero": ["v1"], "cluster": ["c1"], "namespaces": {"ns1": ["w1"]}}
    assert r.count() == 3
