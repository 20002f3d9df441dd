"""Namespace include/exclude (globs), resource name resolution, old/new resource filters, AppliesTo."""

from __future__ import annotations

import pytest
from veloro_sdk.contracts import ResourceSelector

from veloro_core.selection import (
    BOTH_SELECTORS,
    MIXED_FILTERS,
    ActionMatcher,
    IncludesExcludes,
    ResourceIndex,
    ResourceInfo,
    SelectorError,
    SpecSelection,
    excluded_by_label,
    validate_namespaces,
)

INDEX = ResourceIndex(
    [
        ResourceInfo("", "v1", "pods", "Pod", True, ("po",), "pod"),
        ResourceInfo("", "v1", "configmaps", "ConfigMap", True, ("cm",), "configmap"),
        ResourceInfo("", "v1", "persistentvolumes", "PersistentVolume", False, ("pv",), "persistentvolume"),
        ResourceInfo("", "v1", "namespaces", "Namespace", False, ("ns",), "namespace"),
        ResourceInfo("", "v1", "events", "Event", True, ("ev",), "event"),
        ResourceInfo("events.k8s.io", "v1", "events", "Event", True, ("ev",), "event"),
        ResourceInfo("apps", "v1", "deployments", "Deployment", True, ("deploy",), "deployment"),
        ResourceInfo(
            "storage.k8s.io", "v1", "storageclasses", "StorageClass", False, ("sc",), "storageclass"
        ),
        ResourceInfo("example.com", "v1", "widgets", "Widget", True, ("wd",), "widget"),
    ]
)


def test_namespace_globs_and_exclusion_wins() -> None:
    f = IncludesExcludes.of(["shop-*", "db"], ["shop-old*"], globs=True)
    assert f.should_include("shop-eu") and f.should_include("db")
    assert not f.should_include("shop-old1") and not f.should_include("web")
    everything = IncludesExcludes.of([], [], globs=True)
    assert everything.include_everything and everything.should_include("x")
    assert IncludesExcludes.of(["*"], [], globs=True).include_everything
    assert not IncludesExcludes.of(["*"], ["kube-*"], globs=True).should_include("kube-system")
    assert f.concrete_includes() is None and IncludesExcludes.of(["a", "b"], []).concrete_includes() == {
        "a",
        "b",
    }


def test_namespace_validation_lists_every_problem() -> None:
    problems = validate_namespaces(["*", "a", "Bad_NS", "x[1"], ["*", "a"])
    text = "\n".join(problems)
    assert "must either contain '*' only" in text
    assert "cannot contain '*'" in text
    assert "cannot contain an item in the included list: a" in text
    assert "'Bad_NS'" in text and "unbalanced" in text
    assert validate_namespaces(["shop-*", "db", "n?"], ["kube-[a-z]*"]) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("pods", "pods"),
        ("po", "pods"),
        ("Pod", "pods"),
        ("pod", "pods"),
        ("deploy", "deployments.apps"),
        ("deployments.apps", "deployments.apps"),
        ("Deployment.apps", "deployments.apps"),
        ("deployments.v1.apps", "deployments.apps"),
        ("events", "events"),
        ("events.events.k8s.io", "events.events.k8s.io"),
        ("wd", "widgets.example.com"),
        ("nothing", None),
        ("pods.apps", None),
    ],
)
def test_resource_names_resolve_through_discovery(name: str, expected: str | None) -> None:
    assert INDEX.resolve_group_resource(name) == expected


def _filter(spec: dict[str, object]) -> tuple[SpecSelection, object]:
    sel = SpecSelection.parse(spec)
    assert sel.problems == []
    return sel, sel.resource_filter(INDEX)


def test_old_filters_cluster_resources_auto_rule() -> None:
    _, full = _filter({})
    assert full.should_include("persistentvolumes") and full.should_include("pods")  # type: ignore[attr-defined]
    _, some = _filter({"includedNamespaces": ["shop"]})
    assert not some.should_include("persistentvolumes")  # type: ignore[attr-defined]
    assert some.should_include("namespaces")  # type: ignore[attr-defined]
    assert not some.should_exclude("persistentvolumes")  # type: ignore[attr-defined]  # PVC -> PV still comes
    _, forced = _filter({"includedNamespaces": ["shop"], "includeClusterResources": True})
    assert forced.should_include("storageclasses.storage.k8s.io")  # type: ignore[attr-defined]
    _, off = _filter({"includeClusterResources": False})
    assert not off.should_include("persistentvolumes") and off.should_exclude("persistentvolumes")  # type: ignore[attr-defined]
    _, only = _filter({"includedResources": ["cm", "deploy"], "excludedResources": ["pods"]})
    assert only.should_include("configmaps") and only.should_include("deployments.apps")  # type: ignore[attr-defined]
    assert not only.should_include("pods") and only.should_exclude("pods")  # type: ignore[attr-defined]


def test_new_scoped_filters() -> None:
    _, f = _filter(
        {
            "includedNamespaceScopedResources": ["configmaps"],
            "includedClusterScopedResources": ["storageclasses"],
            "includedNamespaces": ["shop"],
        }
    )
    assert f.should_include("configmaps") and not f.should_include("pods")  # type: ignore[attr-defined]
    assert f.should_include("storageclasses.storage.k8s.io")  # type: ignore[attr-defined]
    assert not f.should_include("persistentvolumes")  # type: ignore[attr-defined]
    _, g = _filter({"excludedClusterScopedResources": ["*"]})
    assert not g.should_include("persistentvolumes") and g.should_exclude("persistentvolumes")  # type: ignore[attr-defined]
    _, h = _filter({"excludedNamespaceScopedResources": ["secrets"], "includedNamespaces": ["shop"]})
    assert h.should_include("pods") and not h.should_include("persistentvolumes")  # type: ignore[attr-defined]


def test_unknown_resources_are_warnings_and_match_nothing() -> None:
    sel = SpecSelection.parse({"includedResources": ["gizmos"]})
    f = sel.resource_filter(INDEX)
    assert f.warnings and "gizmos" in f.warnings[0]
    assert not f.should_include("pods")


def test_spec_problems_are_all_listed() -> None:
    sel = SpecSelection.parse(
        {
            "includedResources": ["pods"],
            "includedClusterScopedResources": ["pv"],
            "labelSelector": {"matchLabels": {"app": "web"}},
            "orLabelSelectors": [{"matchLabels": {"a": "b c"}}],
            "includedNamespaces": ["Bad!"],
        }
    )
    assert MIXED_FILTERS in sel.problems and BOTH_SELECTORS in sel.problems
    assert any("orLabelSelectors[0]" in p for p in sel.problems)
    assert any("Bad!" in p for p in sel.problems)
    assert len(sel.problems) == 4
    scoped = SpecSelection.parse(
        {"includedNamespaceScopedResources": ["pods"], "excludedNamespaceScopedResources": ["*"]}
    )
    assert any("when excluded" in p for p in scoped.problems)


def test_or_label_selectors_list_once_per_selector() -> None:
    sel = SpecSelection.parse(
        {"orLabelSelectors": [{"matchLabels": {"app": "a"}}, {"matchLabels": {"app": "b"}}]}
    )
    assert [s.to_string() for s in sel.list_selectors()] == ["app=a", "app=b"]
    assert sel.labels_match({"app": "b"}) and not sel.labels_match({"app": "c"})
    assert SpecSelection.parse({}).list_selectors()[0].empty


def test_action_matcher() -> None:
    m = ActionMatcher.compile(
        ResourceSelector(included_resources=["po", "pv"], excluded_namespaces=["kube-*"], selector="app=web"),
        INDEX,
    )
    assert m.matches("pods", "shop", {"app": "web"})
    assert not m.matches("pods", "kube-system", {"app": "web"})
    assert not m.matches("pods", "shop", {"app": "db"})
    assert not m.matches("configmaps", "shop", {"app": "web"})
    # a namespace-restricted action never applies to cluster-scoped items (Velero's rule)
    assert not m.matches("persistentvolumes", "", {"app": "web"})
    every = ActionMatcher.compile(ResourceSelector(included_resources=["persistentvolumes"]), INDEX)
    assert every.matches("persistentvolumes", "", None) and every.applies_to_resource("persistentvolumes")
    unknown = ActionMatcher.compile(ResourceSelector(included_resources=["gizmos"]), INDEX)
    assert unknown.unresolved == ("gizmos",) and not unknown.matches("pods", "x", {})
    with pytest.raises(SelectorError, match="my/action"):
        ActionMatcher.compile(ResourceSelector(selector="a in b"), INDEX, action="my/action")


def test_exclusion_labels_both_spellings() -> None:
    assert excluded_by_label({"velero.io/exclude-from-backup": "true"})
    assert excluded_by_label({"veloro.io/exclude-from-backup": "true"})
    assert not excluded_by_label({"velero.io/exclude-from-backup": "false"}) and not excluded_by_label(None)
