"""PluginManager through real plugin processes: lifetime, restarts with Init replay, timeouts, names."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from veloro_sdk.client import BackupItemActionV1ToV2, PluginTimeout, PluginUnavailable
from veloro_sdk.contracts import BackupItemActionExecuteRequest, PluginError

from tests.plugins.helpers import PidFile, fixture_command, wait_gone
from veloro_core.plugins import (
    PluginManager,
    PluginRestartsExhausted,
    PluginSettings,
    PluginStartError,
    UnknownPluginError,
)


@pytest.fixture
def manager(settings: PluginSettings) -> Iterator[PluginManager]:
    settings = dataclasses.replace(
        settings, builtin_commands=[fixture_command("sdk_plugin"), fixture_command("raw_plugin")]
    )
    manager = PluginManager.discover(settings)
    yield manager
    manager.close()


def _pid(manager: PluginManager, fixture: str) -> int:
    host = manager.host(tuple(fixture_command(fixture)))
    assert host.process is not None
    return host.process.pid


def test_one_process_per_binary_kept_alive_and_thread_safe(manager: PluginManager, tmp_path: Path) -> None:
    store = manager.object_store("example.io/dir-store")
    store.init({"root": str(tmp_path)})
    action = manager.backup_item_action("annotate")  # bare name -> veloro.io/annotate
    pid = _pid(manager, "sdk_plugin")

    def work(i: int) -> None:
        store.put_object("b", f"k{i}", [b"x" * i])
        action.execute(BackupItemActionExecuteRequest({"kind": "Pod", "i": i}, {}))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(40)))
    assert len(store.list_objects("b", "k")) == 40
    assert _pid(manager, "sdk_plugin") == pid  # never restarted, never duplicated
    # a second lookup reuses the same process too
    assert manager.object_store("example.io/dir-store").object_exists("b", "k3")
    assert _pid(manager, "sdk_plugin") == pid


def test_crash_mid_call_fails_then_restarts_with_init_replayed(
    manager: PluginManager, tmp_path: Path
) -> None:
    store = manager.object_store("example.io/dir-store")
    store.init({"root": str(tmp_path), "bucket": "b"})
    old_pid = _pid(manager, "sdk_plugin")
    with pytest.raises(PluginUnavailable) as info:
        list(store.get_object("b", "__crash__"))  # the plugin os._exit()s inside the call
    assert "sdk_plugin.py" in str(info.value) and "restarted on the next call" in str(info.value)
    assert wait_gone(old_pid)
    # next call: a new process, and it was given the same Init config again
    config = json.loads(b"".join(store.get_object("b", "__config__")))
    assert config == {"root": str(tmp_path), "bucket": "b"}
    assert _pid(manager, "sdk_plugin") != old_pid


def test_crash_in_an_action_call(manager: PluginManager) -> None:
    action = manager.backup_item_action("veloro.io/annotate")
    with pytest.raises(PluginUnavailable):
        action.execute(BackupItemActionExecuteRequest({"spec": {"mode": "crash"}}, {}))
    out = action.execute(BackupItemActionExecuteRequest({"kind": "Pod"}, {}))
    assert out.item is not None and out.item["metadata"]["annotations"]["sdk/seen"] == "v2"


def test_hung_call_times_out_and_the_process_is_replaced(settings: PluginSettings) -> None:
    settings = dataclasses.replace(
        settings, builtin_commands=[fixture_command("sdk_plugin")], call_timeout=1.0
    )
    with PluginManager.discover(settings) as manager:
        action = manager.backup_item_action("annotate")
        action.applies_to()
        hung_pid = _pid(manager, "sdk_plugin")
        started = time.monotonic()
        with pytest.raises(PluginTimeout) as info:
            action.execute(BackupItemActionExecuteRequest({"spec": {"mode": "hang"}}, {}))
        assert time.monotonic() - started < 4.0
        message = str(info.value)
        assert "veloro.io/annotate" in message and "/v2.BackupItemAction/Execute" in message
        assert "timeout 1.0s" in message and "sdk_plugin.py" in message
        assert wait_gone(hung_pid)
        assert action.applies_to().included_resources == ["pods"]  # a fresh process answers
        assert _pid(manager, "sdk_plugin") != hung_pid


def test_permanent_error_after_ten_failed_restarts(
    settings: PluginSettings, tmp_path: Path, pidfile: PidFile
) -> None:
    flag = tmp_path / "fail"
    env = {**settings.extra_env, "FIXTURE_FAIL_FLAG": str(flag)}
    settings = dataclasses.replace(settings, builtin_commands=[fixture_command("raw_plugin")], extra_env=env)
    with PluginManager.discover(settings) as manager:
        store = manager.object_store("example.io/raw-store")
        store.init({"a": "1"})
        flag.touch()  # from now on the binary cannot start
        with pytest.raises(PluginUnavailable):
            list(store.get_object("b", "__crash__"))
        for attempt in range(1, 10):
            with pytest.raises(PluginStartError, match="refusing to start"):
                store.object_exists("b", "k")
            assert manager.host(tuple(fixture_command("raw_plugin"))).consecutive_failures == attempt
        with pytest.raises(PluginRestartsExhausted, match="failed to start 10 times in a row"):
            store.object_exists("b", "k")
        started = len(pidfile.pids())
        with pytest.raises(PluginRestartsExhausted):  # permanent: not even tried again
            store.object_exists("b", "k")
        assert len(pidfile.pids()) == started
    pidfile.assert_all_gone()


def test_v1_actions_are_served_as_v2_and_listed_by_name(manager: PluginManager) -> None:
    actions = dict(manager.backup_item_actions())
    assert sorted(actions) == ["example.io/raw-action", "velero.io/annotate-v1", "veloro.io/annotate"]
    v1 = actions["velero.io/annotate-v1"]
    assert isinstance(v1, BackupItemActionV1ToV2)
    out = v1.execute(BackupItemActionExecuteRequest({"kind": "ConfigMap"}, {}))
    assert out.item is not None and out.item["metadata"]["annotations"]["sdk/seen"] == "v1"
    assert manager.backup_item_action("annotate-v1").applies_to().included_resources == ["configmaps"]
    assert [n for n, _ in manager.restore_item_actions()] == ["example.io/skip-events"]
    assert [n for n, _ in manager.delete_item_actions()] == ["example.io/forget"]
    assert [n for n, _ in manager.item_block_actions()] == ["example.io/related"]


def test_unknown_plugin_name_lists_the_known_ones(manager: PluginManager) -> None:
    with pytest.raises(UnknownPluginError) as info:
        manager.object_store("azure")
    assert "known ObjectStore plugins: example.io/dir-store, example.io/raw-store" in str(info.value)
    assert isinstance(info.value, PluginError)


def test_close_kills_every_process(manager: PluginManager, tmp_path: Path) -> None:
    manager.object_store("example.io/dir-store").init({"root": str(tmp_path)})
    manager.backup_item_action("example.io/raw-action").applies_to()
    pids = [_pid(manager, "sdk_plugin"), _pid(manager, "raw_plugin")]
    started = time.monotonic()
    manager.close()
    assert time.monotonic() - started < 1.0
    assert all(wait_gone(pid, 1.0) for pid in pids)
