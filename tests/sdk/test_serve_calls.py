"""Every kind's servicer through a real plugin process, with raw generated stubs as the client."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from veloro_sdk._proto.generated import BackupItemAction_pb2 as b1
from veloro_sdk._proto.generated import BackupItemAction_pb2_grpc as b1g
from veloro_sdk._proto.generated import DeleteItemAction_pb2 as dpb
from veloro_sdk._proto.generated import DeleteItemAction_pb2_grpc as dpbg
from veloro_sdk._proto.generated import ObjectStore_pb2 as os_pb
from veloro_sdk._proto.generated import ObjectStore_pb2_grpc as os_grpc
from veloro_sdk._proto.generated import RestoreItemAction_pb2 as r1
from veloro_sdk._proto.generated import RestoreItemAction_pb2_grpc as r1g
from veloro_sdk._proto.generated import Shared_pb2
from veloro_sdk._proto.generated import VolumeSnapshotter_pb2 as vs
from veloro_sdk._proto.generated import VolumeSnapshotter_pb2_grpc as vsg
from veloro_sdk._proto.v1 import ItemBlockAction_pb2 as ib
from veloro_sdk._proto.v1 import ItemBlockAction_pb2_grpc as ibg
from veloro_sdk._proto.v2 import BackupItemAction_pb2 as b2
from veloro_sdk._proto.v2 import BackupItemAction_pb2_grpc as b2g
from veloro_sdk._proto.v2 import RestoreItemAction_pb2 as r2
from veloro_sdk._proto.v2 import RestoreItemAction_pb2_grpc as r2g
from veloro_sdk.rpc_status import STACK_TYPE_URL, STATUS_DETAILS_KEY, decode_status

from sdk.harness import Plugin

MEM = "test.veloro.io/memory"
ITEM = json.dumps({"kind": "Pod", "metadata": {"name": "web", "namespace": "ns"}}).encode()


def _chunks(bucket: str, key: str, data: bytes, size: int) -> Iterator[os_pb.PutObjectRequest]:
    if not data:
        yield os_pb.PutObjectRequest(plugin=MEM, bucket=bucket, key=key, body=b"")
    for i in range(0, len(data), size):
        yield os_pb.PutObjectRequest(plugin=MEM, bucket=bucket, key=key, body=data[i : i + size])


def _status(err: grpc.RpcError) -> tuple[grpc.StatusCode, str, list[str]]:
    details = dict(err.trailing_metadata() or ())  # type: ignore[attr-defined]
    status = decode_status(details[STATUS_DETAILS_KEY])
    stack = status.stack()
    assert stack is not None
    assert status.details[0].type_url == STACK_TYPE_URL
    assert status.message == err.details()  # type: ignore[attr-defined]
    return err.code(), err.details(), [f.function for f in stack.frames]  # type: ignore[attr-defined]


def test_object_store_round_trips(plugin: Plugin) -> None:
    stub = os_grpc.ObjectStoreStub(plugin.channel)
    stub.Init(os_pb.ObjectStoreInitRequest(plugin=MEM, config={"user": "u1"}), timeout=5)
    data = hashlib.sha256(b"seed").digest() * (5 * 1024 * 1024 // 32 + 7)  # ~5 MiB, not chunk aligned
    stub.PutObject(_chunks("b", "backups/one/data.tar.gz", data, 16 * 1024), timeout=30)
    stub.PutObject(_chunks("b", "backups/two/empty", b"", 16 * 1024), timeout=5)
    got = b"".join(
        m.data
        for m in stub.GetObject(os_pb.GetObjectRequest(plugin=MEM, bucket="b", key="backups/one/data.tar.gz"))
    )
    assert got == data
    empty = list(stub.GetObject(os_pb.GetObjectRequest(plugin=MEM, bucket="b", key="backups/two/empty")))
    assert b"".join(m.data for m in empty) == b""
    exists = stub.ObjectExists(os_pb.ObjectExistsRequest(plugin=MEM, bucket="b", key="backups/two/empty"))
    assert exists.exists
    prefixes = stub.ListCommonPrefixes(
        os_pb.ListCommonPrefixesRequest(plugin=MEM, bucket="b", prefix="backups/", delimiter="/")
    )
    assert list(prefixes.prefixes) == ["backups/one/", "backups/two/"]
    keys = stub.ListObjects(os_pb.ListObjectsRequest(plugin=MEM, bucket="b", prefix="backups/o"))
    assert list(keys.keys) == ["backups/one/data.tar.gz"]
    url = stub.CreateSignedURL(os_pb.CreateSignedURLRequest(plugin=MEM, bucket="b", key="k", ttl=600 * 10**9))
    assert url.url == "mem://b/k?ttl=600&user=u1"
    stub.DeleteObject(os_pb.DeleteObjectRequest(plugin=MEM, bucket="b", key="backups/two/empty"))
    assert not stub.ObjectExists(
        os_pb.ObjectExistsRequest(plugin=MEM, bucket="b", key="backups/two/empty")
    ).exists


def test_put_object_is_streamed_lazily(plugin: Plugin) -> None:
    """64 MiB in 16 KiB chunks into a store that keeps only a digest: the plugin's peak memory stays
    far below the object size, and the implementation saw the chunks as sent."""
    stub = os_grpc.ObjectStoreStub(plugin.channel)
    block = bytes(range(256)) * 64  # 16 KiB
    total = 64 * 1024 * 1024
    warm = os_pb.PutObjectRequest(plugin=MEM, bucket="sink", key="warm", body=block)
    stub.PutObject(iter([warm]), timeout=60)
    before_kib = _peak_rss_kib(plugin.proc.pid)  # the process as it is, warmed up by one small call

    def gen() -> Iterator[os_pb.PutObjectRequest]:
        for _ in range(total // len(block)):
            yield os_pb.PutObjectRequest(plugin=MEM, bucket="sink", key="big", body=block)

    stub.PutObject(gen(), timeout=60)
    expected = hashlib.sha256(block * (total // len(block))).hexdigest()
    summary = b"".join(
        m.data for m in stub.GetObject(os_pb.GetObjectRequest(plugin=MEM, bucket="sink", key="big"))
    )
    assert summary.decode() == f"{total} {expected} {len(block)}"
    grown_kib = _peak_rss_kib(plugin.proc.pid) - before_kib
    assert grown_kib < 16 * 1024, f"peak RSS grew {grown_kib} KiB for a 64 MiB body: it was not streamed"


def _peak_rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))


def test_get_object_streams_in_chunks(plugin: Plugin) -> None:
    stub = os_grpc.ObjectStoreStub(plugin.channel)
    size = 3 * 1024 * 1024 + 5
    messages = list(stub.GetObject(os_pb.GetObjectRequest(plugin=MEM, bucket="gen", key=str(size))))
    assert sum(len(m.data) for m in messages) == size
    assert max(len(m.data) for m in messages) <= 1024 * 1024
    assert len(messages) == 4  # 64 KiB pieces coalesced into 1 MiB messages


def test_error_carries_stack(plugin: Plugin) -> None:
    stub = os_grpc.ObjectStoreStub(plugin.channel)
    with pytest.raises(grpc.RpcError) as info:
        list(stub.GetObject(os_pb.GetObjectRequest(plugin=MEM, bucket="b", key="missing")))
    code, message, functions = _status(info.value)
    assert code == grpc.StatusCode.UNKNOWN
    assert message == "object 'missing' not found in bucket 'b'"
    assert functions[0] == "get_object"


def test_bug_is_aborted_panic(plugin: Plugin) -> None:
    stub = b1g.BackupItemActionStub(plugin.channel)
    item = json.dumps({"metadata": {"name": "bug"}}).encode()
    with pytest.raises(grpc.RpcError) as info:
        stub.Execute(b1.ExecuteRequest(plugin="test.veloro.io/annotate", item=item, backup=b"{}"))
    code, message, functions = _status(info.value)
    assert code == grpc.StatusCode.ABORTED
    assert message.startswith("plugin panicked: TypeError: unsupported operand")
    assert functions[:2] == ["_annotated", "execute"]
    with pytest.raises(grpc.RpcError) as info:
        list(
            os_grpc.ObjectStoreStub(plugin.channel).GetObject(os_pb.GetObjectRequest(plugin=MEM, key="panic"))
        )
    assert info.value.code() == grpc.StatusCode.ABORTED  # type: ignore[attr-defined]


def test_other_exceptions_are_unknown_with_type(plugin: Plugin) -> None:
    stub = vsg.VolumeSnapshotterStub(plugin.channel)
    with pytest.raises(grpc.RpcError) as info:
        stub.DeleteSnapshot(vs.DeleteSnapshotRequest(plugin="test.veloro.io/snap", snapshotID="missing-perm"))
    code, message, _ = _status(info.value)
    assert (code, message) == (grpc.StatusCode.UNKNOWN, "PermissionError: access denied")


def test_unknown_name_is_clear(plugin: Plugin) -> None:
    stub = os_grpc.ObjectStoreStub(plugin.channel)
    with pytest.raises(grpc.RpcError) as info:
        stub.ObjectExists(os_pb.ObjectExistsRequest(plugin="example.com/nope", bucket="b", key="k"))
    assert info.value.code() == grpc.StatusCode.UNKNOWN  # type: ignore[attr-defined]
    assert info.value.details() == (  # type: ignore[attr-defined]
        "this plugin process has no ObjectStore named 'example.com/nope'; its ObjectStore plugins are: "
        "test.veloro.io/memory"
    )


def test_backup_item_actions(plugin: Plugin) -> None:
    v1 = b1g.BackupItemActionStub(plugin.channel)
    applies = v1.AppliesTo(b1.BackupItemActionAppliesToRequest(plugin="test.veloro.io/annotate"))
    assert list(applies.ResourceSelector.includedResources) == ["pods"]
    assert applies.ResourceSelector.selector == "app=x"
    out = v1.Execute(b1.ExecuteRequest(plugin="test.veloro.io/annotate", item=ITEM, backup=b'{"a":1}'))
    assert json.loads(out.item)["metadata"]["annotations"] == {"backup": "yes"}
    assert [(r.resource, r.namespace, r.name) for r in out.additionalItems] == [
        ("persistentvolumeclaims", "ns", "data")
    ]
    same = json.dumps({"metadata": {"name": "same"}}).encode()
    assert v1.Execute(b1.ExecuteRequest(plugin="test.veloro.io/annotate-2", item=same)).item == same
    with pytest.raises(grpc.RpcError) as info:
        v1.Execute(b1.ExecuteRequest(plugin="test.veloro.io/annotate", item=b'{"metadata":{"name":"fail"}}'))
    assert info.value.details() == "refusing to back up 'fail'"  # type: ignore[attr-defined]

    v2 = b2g.BackupItemActionStub(plugin.channel)
    out2 = v2.Execute(b2.ExecuteRequest(plugin="test.veloro.io/annotate", item=ITEM, backup=b"{}"))
    assert out2.operationID == "op-1"
    assert json.loads(out2.item)["metadata"]["annotations"] == {"backup-v2": "yes"}
    assert [r.name for r in out2.postOperationItems] == ["web"]
    progress = v2.Progress(
        b2.BackupItemActionProgressRequest(plugin="test.veloro.io/annotate", operationID="op-1")
    )
    assert (progress.progress.completed, progress.progress.nTotal, progress.progress.description) == (
        True,
        3,
        "op-1",
    )
    v2.Cancel(b2.BackupItemActionCancelRequest(plugin="test.veloro.io/annotate", operationID="op-1"))


def test_restore_item_actions(plugin: Plugin) -> None:
    v1 = r1g.RestoreItemActionStub(plugin.channel)
    assert list(
        v1.AppliesTo(
            r1.RestoreItemActionAppliesToRequest(plugin="test.veloro.io/restore")
        ).ResourceSelector.excludedResources
    ) == ["events"]
    skip = json.dumps({"metadata": {"name": "skip"}}).encode()
    out = v1.Execute(
        r1.RestoreItemActionExecuteRequest(
            plugin="test.veloro.io/restore", item=ITEM, restore=b"{}", itemFromBackup=skip
        )
    )
    assert out.skipRestore
    assert json.loads(out.item)["metadata"]["annotations"] == {"restore": "yes"}

    v2 = r2g.RestoreItemActionStub(plugin.channel)
    out2 = v2.Execute(
        r2.RestoreItemActionExecuteRequest(
            plugin="test.veloro.io/restore", item=ITEM, restore=b"{}", itemFromBackup=ITEM
        )
    )
    assert out2.item == ITEM  # unchanged: the input goes back
    assert out2.operationID == "rop" and out2.waitForAdditionalItems
    assert out2.additionalItemsReadyTimeout.seconds == 90
    rid = Shared_pb2.ResourceIdentifier(resource="pods", name="a")
    ready = v2.AreAdditionalItemsReady(
        r2.RestoreItemActionItemsReadyRequest(plugin="test.veloro.io/restore", additionalItems=[rid, rid])
    )
    assert ready.ready
    with pytest.raises(grpc.RpcError) as info:
        v2.Progress(r2.RestoreItemActionProgressRequest(plugin="test.veloro.io/restore", operationID="x"))
    assert info.value.code() == grpc.StatusCode.UNKNOWN  # type: ignore[attr-defined]
    assert "NotImplementedError: this action starts no asynchronous operations" in info.value.details()  # type: ignore[attr-defined]


def test_delete_and_item_block_actions(plugin: Plugin) -> None:
    d = dpbg.DeleteItemActionStub(plugin.channel)
    assert list(
        d.AppliesTo(
            dpb.DeleteItemActionAppliesToRequest(plugin="test.veloro.io/delete")
        ).ResourceSelector.includedResources
    ) == ["volumesnapshots"]
    d.Execute(dpb.DeleteItemActionExecuteRequest(plugin="test.veloro.io/delete", item=ITEM, backup=b"{}"))
    with pytest.raises(grpc.RpcError) as info:
        d.Execute(
            dpb.DeleteItemActionExecuteRequest(
                plugin="test.veloro.io/delete", item=ITEM, backup=b'{"metadata":{"name":"locked"}}'
            )
        )
    assert info.value.details() == "backup is locked"  # type: ignore[attr-defined]
    i = ibg.ItemBlockActionStub(plugin.channel)
    related = i.GetRelatedItems(
        ib.ItemBlockActionGetRelatedItemsRequest(plugin="test.veloro.io/block", item=ITEM, backup=b"{}")
    )
    assert [(r.resource, r.namespace, r.name) for r in related.relatedItems] == [
        ("persistentvolumeclaims", "ns", "data")
    ]


def test_volume_snapshotter(plugin: Plugin) -> None:
    stub = vsg.VolumeSnapshotterStub(plugin.channel)
    name = "test.veloro.io/snap"
    stub.Init(vs.VolumeSnapshotterInitRequest(plugin=name, config={"region": "r"}))
    assert (
        stub.CreateVolumeFromSnapshot(vs.CreateVolumeRequest(plugin=name, snapshotID="s1")).volumeID
        == "vol-from-s1-None"
    )
    assert (
        stub.CreateVolumeFromSnapshot(vs.CreateVolumeRequest(plugin=name, snapshotID="s1", iops=5)).volumeID
        == "vol-from-s1-5"
    )
    info = stub.GetVolumeInfo(vs.GetVolumeInfoRequest(plugin=name, volumeID="v"))
    assert (info.volumeType, info.iops) == ("gp3", 3000)
    assert stub.GetVolumeInfo(vs.GetVolumeInfoRequest(plugin=name, volumeID="noiops")).iops == 0
    assert (
        stub.CreateSnapshot(
            vs.CreateSnapshotRequest(plugin=name, volumeID="v", tags={"b": "1", "a": "2"})
        ).snapshotID
        == "snap-v-a,b"
    )
    pv = json.dumps({"spec": {"volumeID": "old"}}).encode()
    assert stub.GetVolumeID(vs.GetVolumeIDRequest(plugin=name, persistentVolume=pv)).volumeID == "old"
    new = stub.SetVolumeID(vs.SetVolumeIDRequest(plugin=name, persistentVolume=pv, volumeID="new"))
    assert json.loads(new.persistentVolume) == {"spec": {"volumeID": "new"}}
