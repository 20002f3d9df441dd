"""Plugin instances: one ObjectStore name, several processes with their own Init (PluginManager instance=...).

Through the real built-in binary (`python -m veloro_core.cli run-plugins`, filesystem store): two
locations of one provider with different configs, used at once, each keep their own config; a crash
restarts only the crashed instance, with its own Init; idle instances beyond the bound are stopped and
come back on their next call; a released instance is gone for good.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from veloro_sdk.contracts import ObjectStore

from tests.plugins.helpers import is_gone, wait_gone
from veloro_core.plugins import PluginHostError, PluginManager, PluginSettings

RUN_PLUGINS = [sys.executable, "-m", "veloro_core.cli", "run-plugins"]
FS = "veloro.io/filesystem"


@pytest.fixture
def builtin_settings(settings: PluginSettings) -> PluginSettings:
    return dataclasses.replace(settings, builtin_commands=[RUN_PLUGINS])


@pytest.fixture
def manager(builtin_settings: PluginSettings) -> Iterator[PluginManager]:
    with PluginManager.discover(builtin_settings) as manager:
        yield manager


def _pid(manager: PluginManager, instance: str) -> int | None:
    """The pid of an instance's live process (None when it has none)."""
    for host in manager.instances():
        if host.instance == instance and host.running:
            assert host.process is not None
            return host.process.pid
    return None


def _store(manager: PluginManager, instance: str, root: Path) -> ObjectStore:
    store = manager.object_store("filesystem", instance=instance)
    store.init({"root": str(root), "bucket": "b"})
    return store


def test_two_instances_keep_their_own_config_under_concurrent_use(
    manager: PluginManager, tmp_path: Path
) -> None:
    roots = {name: tmp_path / name for name in ("bsl/a", "bsl/b")}
    stores = {name: _store(manager, name, root) for name, root in roots.items()}
    shared = manager.object_store(FS)  # instance "": the binary's shared process, a third one
    shared.init({"root": str(tmp_path / "shared"), "bucket": "b"})
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def work(name: str) -> None:
        try:
            barrier.wait()
            store = stores[name]
            for i in range(40):  # interleaved with the other thread's puts and gets
                store.put_object("b", f"k{i}", [name.encode(), b"-", str(i).encode()])
                assert b"".join(store.get_object("b", f"k{i}")) == f"{name}-{i}".encode()
        except BaseException as exc:  # re-raised in the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(name,)) for name in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    for name, root in roots.items():  # every object landed in its own instance's root, none elsewhere
        files = sorted(p.name for p in (root / "b").iterdir())
        assert files == sorted(f"k{i}" for i in range(40))
        assert all((root / "b" / f).read_bytes().startswith(name.encode()) for f in files)
    assert not (tmp_path / "shared").exists() or not any((tmp_path / "shared").rglob("k*"))
    shared_process = manager.host(tuple(RUN_PLUGINS)).process
    assert shared_process is not None
    pids = {_pid(manager, "bsl/a"), _pid(manager, "bsl/b"), shared_process.pid}
    assert len(pids) == 3 and None not in pids  # two instance processes + the shared one


def test_a_crash_restarts_only_that_instance_with_its_own_init(
    manager: PluginManager, tmp_path: Path
) -> None:
    a = _store(manager, "bsl/a", tmp_path / "a")
    b = _store(manager, "bsl/b", tmp_path / "b")
    a.put_object("b", "before", [b"a"])
    b.put_object("b", "before", [b"b"])
    pid_a, pid_b = _pid(manager, "bsl/a"), _pid(manager, "bsl/b")
    assert pid_a is not None and pid_b is not None
    os.kill(pid_a, signal.SIGKILL)
    assert wait_gone(pid_a)
    # the next call restarts instance a and replays ITS Init (root a), not b's
    a.put_object("b", "after", [b"a2"])
    assert (tmp_path / "a" / "b" / "after").read_bytes() == b"a2"
    assert not (tmp_path / "b" / "b" / "after").exists()
    new_a = _pid(manager, "bsl/a")
    assert new_a not in (None, pid_a)
    assert _pid(manager, "bsl/b") == pid_b  # untouched
    assert b"".join(b.get_object("b", "before")) == b"b"


def test_idle_instances_beyond_the_bound_stop_and_come_back(
    builtin_settings: PluginSettings, tmp_path: Path
) -> None:
    settings = dataclasses.replace(builtin_settings, max_instances=1)
    with PluginManager.discover(settings) as manager:
        a = _store(manager, "bsl/a", tmp_path / "a")
        a.put_object("b", "k", [b"from a"])
        stream = a.get_object("b", "k")  # an open stream keeps instance a busy
        pid_a = _pid(manager, "bsl/a")
        b = _store(manager, "bsl/b", tmp_path / "b")  # over the bound, but a is busy: a stays
        assert _pid(manager, "bsl/a") == pid_a and not is_gone(pid_a or 0)
        assert b"".join(stream) == b"from a"  # stream done: a is idle now
        pid_b = _pid(manager, "bsl/b")
        assert pid_a is not None and pid_b is not None
        _store(manager, "bsl/c", tmp_path / "c")  # a and b are idle: both stop (bound 1)
        assert wait_gone(pid_a) and wait_gone(pid_b)
        assert _pid(manager, "bsl/a") is None
        # a parked instance starts again on its next call, with its own Init replayed
        assert b"".join(a.get_object("b", "k")) == b"from a"
        assert _pid(manager, "bsl/a") not in (None, pid_a)
        b.put_object("b", "again", [b"b"])
        assert (tmp_path / "b" / "b" / "again").exists()


def test_release_stops_an_instance_for_good(manager: PluginManager, tmp_path: Path) -> None:
    old = _store(manager, "bsl/gone", tmp_path / "old")
    keep = _store(manager, "bsl/kept", tmp_path / "kept")
    old.put_object("b", "k", [b"x"])
    pid = _pid(manager, "bsl/gone")
    assert pid is not None
    manager.release("bsl/gone")
    assert wait_gone(pid)
    with pytest.raises(PluginHostError, match="'bsl/gone' was released"):
        old.object_exists("b", "k")
    keep.put_object("b", "k", [b"y"])  # other instances are unaffected
    # the same key later is a new instance: it starts un-initialised
    fresh = manager.object_store("filesystem", instance="bsl/gone")
    fresh.init({"root": str(tmp_path / "new"), "bucket": "b"})
    assert not fresh.object_exists("b", "k")
    with pytest.raises(ValueError, match="cannot be released"):
        manager.release("")


def test_close_stops_instance_processes_too(builtin_settings: PluginSettings, tmp_path: Path) -> None:
    manager = PluginManager.discover(builtin_settings)
    _store(manager, "vsl/x", tmp_path / "x").object_exists("b", "k")
    _store(manager, "bsl/y", tmp_path / "y").object_exists("b", "k")
    pids = [_pid(manager, "vsl/x"), _pid(manager, "bsl/y")]
    manager.close()
    assert all(pid is not None and wait_gone(pid, 3.0) for pid in pids)
