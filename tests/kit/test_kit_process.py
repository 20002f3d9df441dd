"""The kit through real plugin processes: the launcher's handshake, typed clients, shutdown timing, and
run_conformance against the built-in plugins (`veloro run-plugins`) and a deliberately broken plugin."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from kit_helpers import BUILTIN_ARGV, broken_plugin, crashing_plugin, write_executable
from veloro_sdk.client import RemotePluginError
from veloro_sdk.contracts import PluginKind
from veloro_sdk.testing import LaunchError, LaunchOptions, Status, launch_plugin, run_conformance


def test_builtins_pass_conformance(tmp_path: Path, cluster_env: str) -> None:
    report = run_conformance(BUILTIN_ARGV, {"root": str(tmp_path / "store")}, bucket="conf")
    assert report.ok, report.failures
    checks = {(r.kind, r.name, r.check) for r in report.results}
    assert ("ObjectStore", "veloro.io/filesystem", "put/get multi-MiB object in 16 KiB chunks") in checks
    first, last = report.results[0], report.results[-1]
    assert first.check == "handshake, health, connect" and "unix, mTLS" in first.detail
    assert last.check == "exits after Shutdown within 2 s" and last.status is Status.PASS
    assert last.seconds < 2.0


def test_builtins_pass_over_tcp_without_tls(tmp_path: Path, cluster_env: str) -> None:
    options = LaunchOptions(auto_mtls=False, transport="tcp")
    report = run_conformance(BUILTIN_ARGV, {"root": str(tmp_path)}, options=options)
    assert report.ok, report.failures
    assert "tcp, plaintext" in report.results[0].detail


def test_broken_plugin_fails_with_its_failing_rows(tmp_path: Path) -> None:
    report = run_conformance([str(broken_plugin(tmp_path / "broken"))])
    assert not report.ok
    failing = {(r.name, r.check) for r in report.failures}
    assert failing == {
        ("example.com/broken-store", "put/get multi-MiB object in 16 KiB chunks"),
        ("example.com/broken-store", "list common prefixes with '/'"),
        ("example.com/broken-store", "get of a missing key is an error"),
        ("example.com/broken-store", "create signed URL"),
        ("example.com/broken-action", "execute on a pod"),
        ("example.com/broken-action", "execute on a configmap"),
    }
    assert report.results[-1].status is Status.PASS  # it still shuts down properly


def test_plugin_that_exits_before_handshake_is_one_failing_row(tmp_path: Path) -> None:
    report = run_conformance([str(crashing_plugin(tmp_path / "crash"))])
    assert [r.status for r in report.results] == [Status.FAIL]
    assert "exited with code 3 before its handshake" in report.results[0].detail
    assert "missing credentials" in report.results[0].detail


def test_garbage_handshake_is_a_clear_error(tmp_path: Path) -> None:
    script = write_executable(tmp_path / "chatty", 'echo "starting up..."\nexec sleep 30')
    started = time.monotonic()
    with (
        pytest.raises(LaunchError, match=r"unrecognized handshake line 'starting up\.\.\.'"),
        launch_plugin([str(script)]),
    ):
        pass
    assert time.monotonic() - started < 5


def test_no_handshake_times_out(tmp_path: Path) -> None:
    script = write_executable(tmp_path / "silent", "exec sleep 30")
    started = time.monotonic()
    with (
        pytest.raises(LaunchError, match="no handshake line on stdout within 1 s"),
        launch_plugin([str(script)], start_timeout=1.0),
    ):
        pass
    assert time.monotonic() - started < 4


def test_missing_command_is_a_launch_error(tmp_path: Path) -> None:
    with pytest.raises(LaunchError, match="was not found"), launch_plugin([str(tmp_path / "nope")]):
        pass
    not_exec = tmp_path / "plain"
    not_exec.write_text("#!/bin/sh\n")
    with pytest.raises(LaunchError, match="is not executable"), launch_plugin([str(not_exec)]):
        pass


def test_launcher_yields_typed_clients_of_the_filesystem_store(tmp_path: Path) -> None:
    root = tmp_path / "root"
    with launch_plugin(BUILTIN_ARGV) as plugin:
        stores = [p for p in plugin.plugins if p.kind == "ObjectStore"]
        assert [p.name for p in stores] == ["veloro.io/filesystem"]
        assert ("BackupItemAction", "veloro.io/pod") in {(p.kind, p.name) for p in plugin.plugins}
        assert "veloro_core.cli run-plugins" in stores[0].command
        store = plugin.object_store("veloro.io/filesystem", {"root": str(root), "bucket": "b"})
        store.put_object("b", "backups/one/data", iter([b"a" * 16384, b"b" * 10]))
        assert (root / "b" / "backups" / "one" / "data").stat().st_size == 16394
        assert store.list_common_prefixes("b", "backups/", "/") == ["backups/one/"]
        with pytest.raises(
            RemotePluginError, match=r"invalid key '\.\./x': '\.\.' components are not allowed"
        ):
            store.put_object("b", "../x", [b"evil"])
        assert not (root / "x").exists()
        with pytest.raises(RemotePluginError, match="object 'missing' not found in bucket 'b'"):
            b"".join(store.get_object("b", "missing"))
        other = plugin.client(PluginKind.OBJECT_STORE, "veloro.io/filesystem")
        with pytest.raises(RemotePluginError, match="config key 'root' is required"):
            other.init({"bucket": "b"})  # type: ignore[attr-defined]
    assert plugin.process.returncode is not None
    assert plugin.shutdown_seconds is not None and plugin.shutdown_seconds < 2.0 and not plugin.killed
