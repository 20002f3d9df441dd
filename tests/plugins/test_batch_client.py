"""execute_batch through the typed clients and the restartable wrappers, against real plugin processes:
batches where the plugin advertises them, unary fallback where it does not, crashes mid-batch."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from veloro_sdk.client import (
    BackupItemActionClient,
    BackupItemActionV2Client,
    PluginPanicked,
    PluginUnavailable,
    RemotePluginError,
    RestoreItemActionClient,
)
from veloro_sdk.client.batch import MAX_BATCH_ITEMS, chunks
from veloro_sdk.contracts import (
    BackupItemActionExecuteRequest,
    BackupItemActionExecuteResponse,
    PluginKind,
    RestoreItemActionExecuteRequest,
)

from tests.plugins.helpers import fixture_command, wait_gone
from veloro_core.plugins import PluginManager, PluginProcess, PluginSettings

BACKUP = {"metadata": {"name": "b1"}}


def _pod(name: str, **spec: object) -> BackupItemActionExecuteRequest:
    return BackupItemActionExecuteRequest({"kind": "Pod", "metadata": {"name": name}, "spec": spec}, BACKUP)


@pytest.fixture
def manager(settings: PluginSettings) -> Iterator[PluginManager]:
    with PluginManager.discover(
        dataclasses.replace(settings, builtin_commands=[fixture_command("sdk_plugin")])
    ) as manager:
        yield manager


def _client(manager: PluginManager) -> BackupItemActionV2Client:
    client, _ = manager.host(tuple(fixture_command("sdk_plugin"))).client(
        PluginKind.BACKUP_ITEM_ACTION_V2, "veloro.io/annotate"
    )
    assert isinstance(client, BackupItemActionV2Client)
    return client


def test_chunks_respect_item_and_byte_limits() -> None:
    assert list(chunks([1] * 5, 2, 100)) == [(0, 2), (2, 4), (4, 5)]
    assert list(chunks([60, 60, 30, 200, 1], 10, 100)) == [(0, 1), (1, 3), (3, 4), (4, 5)]
    assert list(chunks([], 2, 100)) == []


def test_sdk_plugin_gets_one_call_per_chunk_with_per_item_errors(manager: PluginManager) -> None:
    action = manager.backup_item_action("veloro.io/annotate")
    requests = [_pod(f"p{i}", mode="fail" if i == 7 else None) for i in range(MAX_BATCH_ITEMS + 20)]
    results = action.execute_batch(requests)
    assert len(results) == len(requests)
    failed = results[7]
    assert isinstance(failed, RemotePluginError) and "not backed up today" in str(failed)
    assert failed.stack and failed.stack[0].function == "_misbehave"
    ok = [r for i, r in enumerate(results) if i != 7]
    assert all(isinstance(r, BackupItemActionExecuteResponse) for r in ok)
    first = results[0]
    assert isinstance(first, BackupItemActionExecuteResponse) and first.item is not None
    assert first.item["metadata"]["annotations"]["sdk/seen"] == "v2" and first.operation_id == "op-1"
    assert _client(manager).batch_calls == 2  # 520 items: two chunks, not 520 calls


def test_v1_action_through_the_v2_adapter_is_batched(manager: PluginManager) -> None:
    action = manager.backup_item_action("velero.io/annotate-v1")
    cm = BackupItemActionExecuteRequest({"kind": "ConfigMap", "metadata": {"name": "c"}}, BACKUP)
    (result,) = action.execute_batch([cm])
    assert isinstance(result, BackupItemActionExecuteResponse) and result.item is not None
    assert result.item["metadata"]["annotations"]["sdk/seen"] == "v1" and result.operation_id == ""
    client, _ = manager.host(tuple(fixture_command("sdk_plugin"))).client(
        PluginKind.BACKUP_ITEM_ACTION, "velero.io/annotate-v1"
    )
    assert isinstance(client, BackupItemActionClient) and client.batch_calls == 1


def test_crash_mid_batch_fails_every_item_then_restarts(manager: PluginManager) -> None:
    action = manager.backup_item_action("veloro.io/annotate")
    action.applies_to()
    host = manager.host(tuple(fixture_command("sdk_plugin")))
    assert host.process is not None
    old_pid = host.process.pid
    results = action.execute_batch([_pod("a"), _pod("b", mode="crash"), _pod("c")])
    assert all(isinstance(r, PluginUnavailable) for r in results)
    assert "sdk_plugin.py" in str(results[0]) and "restarted on the next call" in str(results[0])
    assert wait_gone(old_pid)
    again = action.execute_batch([_pod("a"), _pod("c")])
    assert all(isinstance(r, BackupItemActionExecuteResponse) for r in again)
    assert host.process is not None and host.process.pid != old_pid


def test_restore_batch_through_the_client(manager: PluginManager) -> None:
    action = manager.restore_item_action("example.io/skip-events")
    requests = [
        RestoreItemActionExecuteRequest({"kind": kind}, {"metadata": {"name": "r"}}, {"kind": kind})
        for kind in ("Event", "Pod")
    ]
    results = action.execute_batch(requests)
    assert [getattr(r, "skip_restore", None) for r in results] == [True, False]
    client, _ = manager.host(tuple(fixture_command("sdk_plugin"))).client(
        PluginKind.RESTORE_ITEM_ACTION, "example.io/skip-events"
    )
    assert isinstance(client, RestoreItemActionClient) and client.batch_calls == 1


@pytest.fixture
def raw_plugin(settings: PluginSettings) -> Iterator[PluginProcess]:
    process = PluginProcess.start(fixture_command("raw_plugin"), settings)
    yield process
    process.kill()


def test_plugin_without_batch_falls_back_to_unary_calls(raw_plugin: PluginProcess) -> None:
    """The raw plugin (no veloro SDK) serves only Execute, and its health service says SERVING to any
    name: the first ExecuteBatch gets UNIMPLEMENTED and the client switches to unary calls for good."""
    assert raw_plugin.channel is not None
    client = BackupItemActionClient(raw_plugin.channel, "example.io/raw-action", timeout=10)
    results = client.execute_batch([_pod("a"), _pod("b", mode="fail"), _pod("c", mode="panic"), _pod("d")])
    assert client.supports_batch() is False
    a, b, c, d = results
    assert isinstance(a, BackupItemActionExecuteResponse) and a.item is not None
    assert a.item["metadata"]["annotations"]["raw/seen"] == "example.io/raw-action"
    assert isinstance(b, RemotePluginError) and b.stack[0].file == "raw/action.go"
    assert isinstance(c, PluginPanicked)
    assert isinstance(d, BackupItemActionExecuteResponse)
    assert client.batch_calls == 1
    client.execute_batch([_pod("e")])
    assert client.batch_calls == 1  # not asked again
