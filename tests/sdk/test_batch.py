"""The veloro.batch.v1 services of a real plugin process (raw stubs as the client), the health
advertisement, and the contracts' default execute_batch."""

from __future__ import annotations

import json

import grpc
import pytest
from veloro_sdk._proto.grpc.health.v1 import health_pb2, health_pb2_grpc
from veloro_sdk._proto.veloro.batch.v1 import batch_pb2 as pb
from veloro_sdk._proto.veloro.batch.v1 import batch_pb2_grpc as pbg
from veloro_sdk.contracts import (
    BackupItemAction,
    BackupItemActionExecuteRequest,
    BackupItemActionExecuteResponse,
    PluginError,
    PluginKind,
    ResourceSelector,
)
from veloro_sdk.serve.registry import Registry
from veloro_sdk.serve.servicers.batch import batch_services

from sdk.harness import Plugin

BACKUP = json.dumps({"metadata": {"name": "b1"}}).encode()


def _item(name: str) -> bytes:
    return json.dumps({"kind": "Pod", "metadata": {"name": name, "namespace": "ns"}}).encode()


def test_batch_services_are_advertised_through_health(plugin: Plugin) -> None:
    stub = health_pb2_grpc.HealthStub(plugin.channel)
    for service in ("veloro.batch.v1.BackupItemActionBatch", "veloro.batch.v1.RestoreItemActionBatch"):
        reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    with pytest.raises(grpc.RpcError) as info:
        stub.Check(health_pb2.HealthCheckRequest(service="veloro.batch.v1.Nothing"), timeout=5)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND  # type: ignore[attr-defined]


def test_only_processes_with_item_actions_advertise() -> None:
    registry = Registry()
    assert batch_services(registry) == []

    class Action(BackupItemAction):
        def applies_to(self) -> ResourceSelector:
            return ResourceSelector()

        def execute(self, request: BackupItemActionExecuteRequest) -> BackupItemActionExecuteResponse:
            return BackupItemActionExecuteResponse()

    registry.register(PluginKind.BACKUP_ITEM_ACTION, "example.io/a", Action)
    assert batch_services(registry) == ["veloro.batch.v1.BackupItemActionBatch"]


def test_backup_batch_per_item_results_errors_and_panics(plugin: Plugin) -> None:
    stub = pbg.BackupItemActionBatchStub(plugin.channel)
    items = [_item("web"), _item("same"), _item("fail"), _item("bug"), b"{not json", _item("db")]
    reply = stub.ExecuteBatch(
        pb.BackupItemActionBatchRequest(
            plugin="test.veloro.io/annotate", backup=BACKUP, items=items, apiVersion=1
        ),
        timeout=10,
    )
    r = reply.results
    assert len(r) == 6
    web = json.loads(r[0].item)
    assert web["metadata"]["annotations"] == {"backup": "yes"}
    assert [a.resource for a in r[0].additionalItems] == ["persistentvolumeclaims"]
    assert r[1].item == b"" and not r[1].HasField("error")  # unchanged
    assert r[2].error.kind == pb.ItemError.ERROR
    assert r[2].error.message == "refusing to back up 'fail'"
    assert r[2].error.stack.frames and r[2].error.stack.frames[0].function == "_annotated"
    assert r[3].error.kind == pb.ItemError.PANIC
    assert r[3].error.message.startswith("plugin panicked: TypeError")
    assert r[4].HasField("error")  # a malformed item fails alone
    assert json.loads(r[5].item)["metadata"]["name"] == "db"  # after the failures: still served
    assert r[0].operationID == ""  # v1: never operations


def test_backup_batch_v2_carries_operations(plugin: Plugin) -> None:
    stub = pbg.BackupItemActionBatchStub(plugin.channel)
    reply = stub.ExecuteBatch(
        pb.BackupItemActionBatchRequest(
            plugin="test.veloro.io/annotate", backup=BACKUP, items=[_item("a"), _item("b")], apiVersion=2
        ),
        timeout=10,
    )
    assert [r.operationID for r in reply.results] == ["op-1", "op-1"]
    assert json.loads(reply.results[0].item)["metadata"]["annotations"] == {"backup-v2": "yes"}
    assert reply.results[1].postOperationItems[0].name == "web"


def test_restore_batch(plugin: Plugin) -> None:
    stub = pbg.RestoreItemActionBatchStub(plugin.channel)
    entries = [
        pb.RestoreItemActionBatchItem(item=_item("x"), itemFromBackup=_item("skip")),
        pb.RestoreItemActionBatchItem(item=_item("fail"), itemFromBackup=_item("fail")),
    ]
    reply = stub.ExecuteBatch(
        pb.RestoreItemActionBatchRequest(
            plugin="test.veloro.io/restore", restore=BACKUP, items=entries, apiVersion=1
        ),
        timeout=10,
    )
    first, second = reply.results
    assert first.skipRestore and json.loads(first.item)["metadata"]["annotations"] == {"restore": "yes"}
    assert second.error.message == "refusing to back up 'fail'"
    v2 = stub.ExecuteBatch(
        pb.RestoreItemActionBatchRequest(
            plugin="test.veloro.io/restore", restore=BACKUP, items=entries[:1], apiVersion=2
        ),
        timeout=10,
    )
    result = v2.results[0]
    assert (result.operationID, result.waitForAdditionalItems) == ("rop", True)
    assert result.additionalItemsReadyTimeout.seconds == 90 and result.item == b""


def test_unknown_plugin_fails_the_whole_call(plugin: Plugin) -> None:
    stub = pbg.BackupItemActionBatchStub(plugin.channel)
    with pytest.raises(grpc.RpcError) as info:
        stub.ExecuteBatch(
            pb.BackupItemActionBatchRequest(plugin="test.veloro.io/nope", backup=BACKUP, items=[_item("a")]),
            timeout=10,
        )
    assert info.value.code() == grpc.StatusCode.UNKNOWN  # type: ignore[attr-defined]
    assert "test.veloro.io/nope" in info.value.details()  # type: ignore[attr-defined]


def test_default_execute_batch_loops_and_keeps_errors_per_item() -> None:
    class Picky(BackupItemAction):
        def applies_to(self) -> ResourceSelector:
            return ResourceSelector()

        def execute(self, request: BackupItemActionExecuteRequest) -> BackupItemActionExecuteResponse:
            if request.item.get("bad"):
                raise PluginError("bad item")
            return BackupItemActionExecuteResponse(item={"ok": request.item["n"]})

    out = Picky().execute_batch(
        [BackupItemActionExecuteRequest({"n": 1}, {}), BackupItemActionExecuteRequest({"bad": True}, {}),
         BackupItemActionExecuteRequest({"n": 3}, {})]
    )
    assert isinstance(out[1], PluginError) and str(out[1]) == "bad item"
    assert [o.item for o in out if isinstance(o, BackupItemActionExecuteResponse)] == [{"ok": 1}, {"ok": 3}]
