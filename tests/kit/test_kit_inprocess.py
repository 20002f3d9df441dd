"""The conformance kit's checks on in-process implementations: good ones pass, each broken behaviour
fails its own row."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from broken_plugin import BrokenAction, BrokenStore
from veloro_sdk.contracts import (
    BackupItemActionExecuteRequest,
    BackupItemActionExecuteResponse,
    BackupItemActionV2,
    CreateSnapshotRequest,
    CreateVolumeRequest,
    DeleteItemAction,
    DeleteItemActionExecuteRequest,
    ItemBlockAction,
    ItemBlockActionRequest,
    OperationProgress,
    ResourceIdentifier,
    ResourceSelector,
    VolumeInfo,
    VolumeSnapshotter,
)
from veloro_sdk.testing import Status, check_action, check_plugin, check_volume_snapshotter
from veloro_sdk.testing.matching import SelectorSyntaxError, parse_label_selector, selected_samples
from veloro_sdk.testing.report import Report
from veloro_sdk.testing.samples import SAMPLES

from veloro_plugins.filesystem import FileSystemObjectStore

OBJECT_STORE_CHECKS = {
    "init with config",
    "put/get empty object",
    "put/get multi-MiB object in 16 KiB chunks",
    "put replaces an existing object",
    "object exists / missing",
    "list objects by prefix",
    "list common prefixes with '/'",
    "delete (and delete of a missing key)",
    "get of a missing key is an error",
    "create signed URL",
    "clean up test keys",
}


def by_check(results: list[Any]) -> dict[str, Any]:
    return {r.check: r for r in results}


def test_filesystem_store_passes_every_check(tmp_path: Path) -> None:
    results = check_plugin(
        "ObjectStore", "veloro.io/filesystem", FileSystemObjectStore(), {"root": str(tmp_path)}
    )
    assert set(by_check(results)) == OBJECT_STORE_CHECKS
    assert [r for r in results if r.status is not Status.PASS] == []
    # the kit cleaned up after itself
    assert list((tmp_path / "veloro-conformance").rglob("*")) == []


def test_init_failure_fails_and_skips_the_rest(tmp_path: Path) -> None:
    results = check_plugin("ObjectStore", "veloro.io/filesystem", FileSystemObjectStore(), {})
    assert results[0].status is Status.FAIL and "'root' is required" in results[0].detail
    assert {r.status for r in results[1:]} == {Status.SKIP}
    report = Report(results=results)
    assert not report.ok
    with pytest.raises(AssertionError, match="root' is required"):
        report.assert_ok()


def test_broken_store_fails_the_right_rows() -> None:
    rows = by_check(check_plugin("ObjectStore", "example.com/broken-store", BrokenStore(), {}))
    failed = {name for name, r in rows.items() if r.status is Status.FAIL}
    assert failed == {
        "put/get multi-MiB object in 16 KiB chunks",
        "list common prefixes with '/'",
        "get of a missing key is an error",
        "create signed URL",
    }
    assert "read back 16384 bytes" in rows["put/get multi-MiB object in 16 KiB chunks"].detail


def test_wrong_contract_is_reported() -> None:
    results = check_plugin("ObjectStore", "example.com/x", BrokenAction())
    assert [r.status for r in results] == [Status.FAIL]
    assert "expected ObjectStore" in results[0].detail


def test_broken_action_fails_execute_rows_for_selected_samples_only() -> None:
    results = check_action(BrokenAction(), "BackupItemAction", "example.com/broken-action")
    assert results[0].status is Status.PASS and "selects 2 of" in results[0].detail
    assert [(r.check, r.status) for r in results[1:]] == [
        ("execute on a pod", Status.FAIL),
        ("execute on a configmap", Status.FAIL),
    ]
    assert "no 'apiVersion'" in results[1].detail


class _Annotating(BackupItemActionV2):
    def __init__(self, selector: ResourceSelector, fail_on: str = "") -> None:
        self.selector = selector
        self.fail_on = fail_on
        self.seen: list[dict[str, Any]] = []

    def applies_to(self) -> ResourceSelector:
        return self.selector

    def execute(self, request: BackupItemActionExecuteRequest) -> BackupItemActionExecuteResponse:
        self.seen.append(copy.deepcopy(request.item))
        if request.item["kind"] == self.fail_on:
            raise RuntimeError("cannot handle this one")
        request.item["metadata"]["annotations"]["x"] = "y"
        return BackupItemActionExecuteResponse(
            item=request.item,
            additional_items=[ResourceIdentifier("", "serviceaccounts", "conformance", "web")],
            operation_id="op-1",
        )

    def progress(self, operation_id: str, backup: dict[str, Any]) -> OperationProgress:
        return OperationProgress(completed=True)


def test_v2_action_good_and_exception_rows() -> None:
    action = _Annotating(ResourceSelector(included_resources=["pods", "deploy.apps"]), fail_on="Deployment")
    results = check_action(action, "BackupItemActionV2", "example.com/v2")
    assert [(r.check, r.status) for r in results] == [
        ("applies_to returns a valid selector", Status.PASS),
        ("execute on a pod", Status.PASS),
        ("execute on a deployment", Status.FAIL),
    ]
    assert results[1].detail == "operation 'op-1'"
    assert results[2].detail == "RuntimeError: cannot handle this one"
    assert [i["kind"] for i in action.seen] == ["Pod", "Deployment"]


def test_invalid_selector_fails_applies_to() -> None:
    results = check_action(
        _Annotating(ResourceSelector(selector="app in (a")), "BackupItemActionV2", "x.io/a"
    )
    assert results[0].status is Status.FAIL and "not a label selector" in results[0].detail
    assert results[1].status is Status.SKIP


def test_selector_matching_nothing_is_a_skip_not_a_failure() -> None:
    results = check_action(
        _Annotating(ResourceSelector(selector="app=absent")), "BackupItemActionV2", "x.io/a"
    )
    assert [r.status for r in results] == [Status.PASS, Status.SKIP]
    assert Report(results=results).ok


@pytest.mark.parametrize(
    ("selector", "kinds"),
    [
        (ResourceSelector(), None),
        (ResourceSelector(included_resources=["*"], excluded_resources=["secrets", "pv"]), 14),
        (ResourceSelector(included_resources=["pvc", "persistentvolumes"]), 2),
        (ResourceSelector(included_namespaces=["other"]), 6),  # the cluster-scoped samples only
        (ResourceSelector(excluded_namespaces=["conformance"], included_resources=["pods"]), 0),
        (ResourceSelector(selector="app=conformance-sample,tier in (backend, frontend)"), None),
        (ResourceSelector(selector="tier notin (backend)"), 0),
        (ResourceSelector(selector="!app"), 0),
        (ResourceSelector(selector="app!=other,tier"), None),
    ],
)
def test_selected_samples(selector: ResourceSelector, kinds: int | None) -> None:
    assert len(selected_samples(selector, SAMPLES)) == (len(SAMPLES) if kinds is None else kinds)


@pytest.mark.parametrize("bad", ["app in (a", "=x", "a b", "app=(x)"])
def test_label_selector_syntax_errors(bad: str) -> None:
    with pytest.raises(SelectorSyntaxError):
        parse_label_selector(bad)


class _Deleter(DeleteItemAction):
    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=["persistentvolumes"])

    def execute(self, request: DeleteItemActionExecuteRequest) -> None:
        assert request.backup["kind"] == "Backup"


class _Blocker(ItemBlockAction):
    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=["pods"])

    def get_related_items(self, request: ItemBlockActionRequest) -> list[ResourceIdentifier]:
        claim = request.item["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"]
        return [ResourceIdentifier("", "persistentvolumeclaims", "conformance", claim)]


def test_delete_and_item_block_actions() -> None:
    rows = check_action(_Deleter(), "DeleteItemAction", "x.io/d") + check_action(
        _Blocker(), "ItemBlockAction", "x.io/b"
    )
    assert [
        (r.check, r.status, r.detail) for r in rows if r.check != "applies_to returns a valid selector"
    ] == [
        ("execute on a persistentvolume", Status.PASS, ""),
        ("get_related_items on a pod", Status.PASS, "1 related"),
    ]


class _Snapshotter(VolumeSnapshotter):
    def __init__(self, broken: bool = False) -> None:
        self.broken = broken
        self.config: dict[str, str] = {}

    def init(self, config: dict[str, str]) -> None:
        if "region" not in config:
            raise ValueError("config 'region' is required")
        self.config = config

    def create_volume_from_snapshot(self, request: CreateVolumeRequest) -> str:
        raise NotImplementedError

    def get_volume_info(self, volume_id: str, volume_az: str) -> VolumeInfo:
        return VolumeInfo()

    def create_snapshot(self, request: CreateSnapshotRequest) -> str:
        raise NotImplementedError

    def delete_snapshot(self, snapshot_id: str) -> None:
        pass

    def get_volume_id(self, persistent_volume: dict[str, Any]) -> str:
        csi = persistent_volume["spec"].get("csi")
        return str(csi["volumeHandle"]) if csi else ""

    def set_volume_id(self, persistent_volume: dict[str, Any], volume_id: str) -> dict[str, Any]:
        if not self.broken:
            persistent_volume["spec"]["csi"]["volumeHandle"] = volume_id
        return persistent_volume


def test_volume_snapshotter_checks() -> None:
    good = check_volume_snapshotter(_Snapshotter(), {"region": "r1"}, "x.io/snap")
    assert all(r.status is Status.PASS for r in good)
    assert "vol-0123456789abcdef0 (set_volume_id round trip ok)" in [r.detail for r in good]
    broken = check_volume_snapshotter(_Snapshotter(broken=True), {"region": "r1"}, "x.io/snap")
    assert [r.check for r in broken if r.status is Status.FAIL] == ["get_volume_id (csi PV)"]
    no_config = check_volume_snapshotter(_Snapshotter(), {}, "x.io/snap")
    assert no_config[0].status is Status.FAIL and "region" in no_config[0].detail
    assert {r.status for r in no_config[1:]} == {Status.SKIP}
