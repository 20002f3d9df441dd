"""The typed clients against real plugin processes: one built with the SDK server, one raw."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from veloro_sdk.client import (
    MAX_CHUNK_BYTES,
    BackupItemActionClient,
    BackupItemActionV2Client,
    DeleteItemActionClient,
    ItemBlockActionClient,
    ObjectStoreClient,
    PluginPanicked,
    RemotePluginError,
    RestoreItemActionClient,
    VolumeSnapshotterClient,
    backup_action_as_v2,
)
from veloro_sdk.contracts import (
    BackupItemActionExecuteRequest,
    CreateSnapshotRequest,
    CreateVolumeRequest,
    DeleteItemActionExecuteRequest,
    ItemBlockActionRequest,
    PluginError,
    ResourceIdentifier,
    RestoreItemActionExecuteRequest,
)

from tests.plugins.helpers import fixture_command
from veloro_core.plugins import PluginProcess, PluginSettings


@pytest.fixture
def sdk_plugin(settings: PluginSettings) -> Iterator[PluginProcess]:
    process = PluginProcess.start(
        fixture_command("sdk_plugin"), dataclasses.replace(settings, auto_mtls=True)
    )
    yield process
    process.kill()


@pytest.fixture
def raw_plugin(settings: PluginSettings) -> Iterator[PluginProcess]:
    process = PluginProcess.start(fixture_command("raw_plugin"), settings)
    yield process
    process.kill()


def test_object_store_streams_and_rechunks(sdk_plugin: PluginProcess, tmp_path: Path) -> None:
    assert sdk_plugin.channel is not None
    store = ObjectStoreClient(sdk_plugin.channel, "example.io/dir-store", timeout=10)
    store.init({"root": str(tmp_path)})
    big = bytes(range(256)) * (3 * MAX_CHUNK_BYTES // 256 + 7)  # one chunk bigger than 3 MiB
    store.put_object("b", "big", [big[:10], big[10:]])
    assert b"".join(store.get_object("b", "big")) == big
    assert (tmp_path / "b" / "big").stat().st_size == len(big)
    store.put_object("b", "empty", [])  # an empty object: one message, empty body
    assert (tmp_path / "b" / "empty").read_bytes() == b""
    assert b"".join(store.get_object("b", "empty")) == b""
    assert store.object_exists("b", "big") and not store.object_exists("b", "nope")
    assert store.list_objects("b", "") == ["big", "empty"]
    assert store.create_signed_url("b", "big", timedelta(minutes=10)).endswith("?ttl=600")
    store.delete_object("b", "big")
    assert not store.object_exists("b", "big")


def test_missing_object_raises_at_get_time(sdk_plugin: PluginProcess, tmp_path: Path) -> None:
    assert sdk_plugin.channel is not None
    store = ObjectStoreClient(sdk_plugin.channel, "example.io/dir-store")
    store.init({"root": str(tmp_path)})
    with pytest.raises(RemotePluginError, match="no object 'missing'") as info:
        store.get_object("b", "missing")  # raised before any iteration
    assert info.value.plugin == "example.io/dir-store"
    assert info.value.method == "/generated.ObjectStore/GetObject"


def test_caller_body_error_is_not_swallowed(sdk_plugin: PluginProcess, tmp_path: Path) -> None:
    assert sdk_plugin.channel is not None
    store = ObjectStoreClient(sdk_plugin.channel, "example.io/dir-store")
    store.init({"root": str(tmp_path)})

    def body() -> Iterator[bytes]:
        yield b"abc"
        raise OSError("disk read failed")

    with pytest.raises(OSError, match="disk read failed"):
        store.put_object("b", "k", body())


def test_volume_snapshotter(sdk_plugin: PluginProcess) -> None:
    assert sdk_plugin.channel is not None
    snap = VolumeSnapshotterClient(sdk_plugin.channel, "example.io/snap")
    snap.init({"zone": "z1"})
    assert snap.create_snapshot(CreateSnapshotRequest("vol-1", tags={"t": "x"})) == "snap-vol-1-z1-x"
    assert snap.create_volume_from_snapshot(CreateVolumeRequest("s1", iops=None)) == "vol-from-s1-None"
    info = snap.get_volume_info("vol-1", "z1")
    assert (info.volume_type, info.iops) == ("gp3", 3000)
    pv = {"spec": {"volumeID": "old"}}
    assert snap.get_volume_id(pv) == "old"
    assert snap.set_volume_id(pv, "new") == {"spec": {"volumeID": "new"}}


def test_actions_of_every_kind(sdk_plugin: PluginProcess) -> None:
    assert sdk_plugin.channel is not None
    ch = sdk_plugin.channel
    v2 = BackupItemActionV2Client(ch, "veloro.io/annotate")
    resp = v2.execute(BackupItemActionExecuteRequest({"kind": "Pod"}, {}))
    assert resp.item == {"kind": "Pod", "metadata": {"annotations": {"sdk/seen": "v2"}}}
    assert resp.operation_id == "op-1"
    assert resp.post_operation_items == [ResourceIdentifier("", "pods", "ns", "p")]
    assert v2.progress("op-1", {}).n_completed == 3
    # v1 used where v2 is expected
    v1 = backup_action_as_v2(BackupItemActionClient(ch, "velero.io/annotate-v1"))
    assert v1.applies_to().included_resources == ["configmaps"]
    out = v1.execute(BackupItemActionExecuteRequest({"kind": "ConfigMap"}, {}))
    assert out.item is not None and out.item["metadata"]["annotations"]["sdk/seen"] == "v1"
    assert out.operation_id == "" and out.additional_items == [ResourceIdentifier("", "secrets")]
    v1.cancel("anything", {})  # a no-op for v1
    restore = RestoreItemActionClient(ch, "example.io/skip-events")
    req = RestoreItemActionExecuteRequest({"kind": "Event"}, {}, {"kind": "Event"})
    assert restore.execute(req).skip_restore is True
    DeleteItemActionClient(ch, "example.io/forget").execute(DeleteItemActionExecuteRequest({}, {}))
    related = ItemBlockActionClient(ch, "example.io/related").get_related_items(
        ItemBlockActionRequest({}, {})
    )
    assert related == [ResourceIdentifier("", "persistentvolumeclaims", "ns", "data")]


def test_remote_error_carries_the_remote_stack(raw_plugin: PluginProcess) -> None:
    assert raw_plugin.channel is not None
    action = BackupItemActionClient(raw_plugin.channel, "example.io/raw-action")
    with pytest.raises(RemotePluginError) as info:
        action.execute(BackupItemActionExecuteRequest({"spec": {"mode": "fail"}}, {}))
    err = info.value
    assert isinstance(err, PluginError)
    assert [(f.file, f.line, f.function) for f in err.stack] == [("raw/action.go", 42, "Execute")]
    assert "volume is frozen" in str(err) and "raw/action.go:42 Execute" in str(err)
    assert "example.io/raw-action" in str(err)


def test_empty_item_in_a_response_means_unchanged(raw_plugin: PluginProcess) -> None:
    assert raw_plugin.channel is not None
    action = BackupItemActionClient(raw_plugin.channel, "example.io/raw-action")
    assert action.execute(BackupItemActionExecuteRequest({"spec": {"same": True}}, {})).item is None
    changed = action.execute(BackupItemActionExecuteRequest({"kind": "Pod"}, {}))
    assert changed.item == {"kind": "Pod", "metadata": {"annotations": {"raw/seen": "example.io/raw-action"}}}
    assert changed.additional_items == [ResourceIdentifier("", "configmaps", "ns", "extra")]


def test_aborted_is_a_panic(raw_plugin: PluginProcess) -> None:
    assert raw_plugin.channel is not None
    action = BackupItemActionClient(raw_plugin.channel, "example.io/raw-action")
    with pytest.raises(PluginPanicked, match="plugin panicked: runtime error"):
        action.execute(BackupItemActionExecuteRequest({"spec": {"mode": "panic"}}, {}))


def test_unknown_name_in_a_request_is_a_clear_error(sdk_plugin: PluginProcess) -> None:
    assert sdk_plugin.channel is not None
    with pytest.raises(PluginError, match=r"example\.io/nobody"):
        BackupItemActionV2Client(sdk_plugin.channel, "example.io/nobody").applies_to()
