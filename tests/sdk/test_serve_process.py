"""serve() through a real subprocess: cookie, handshake, flags, signals, stdout, health, shutdown,
parent death."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from veloro_sdk._proto.generated import ObjectStore_pb2 as os_pb
from veloro_sdk._proto.generated import ObjectStore_pb2_grpc as os_grpc
from veloro_sdk._proto.generated import PluginLister_pb2_grpc, Shared_pb2
from veloro_sdk._proto.grpc.health.v1 import health_pb2, health_pb2_grpc
from veloro_sdk._proto.plugin import grpc_controller_pb2, grpc_controller_pb2_grpc

from sdk.harness import FIXTURE, Plugin, plugin_env, read_line, start_plugin


def _shutdown(p: Plugin) -> float:
    start = time.perf_counter()
    grpc_controller_pb2_grpc.GRPCControllerStub(p.channel).Shutdown(grpc_controller_pb2.Empty(), timeout=5)
    p.proc.wait(5)
    return time.perf_counter() - start


def test_missing_cookie_exits_1_with_message() -> None:
    env = plugin_env()
    del env["VELERO_PLUGIN"]
    result = subprocess.run([sys.executable, str(FIXTURE)], env=env, capture_output=True, timeout=30)
    assert result.returncode == 1
    assert result.stdout == b""
    assert b"This binary is a plugin" in result.stderr


def test_no_common_version_exits_1() -> None:
    env = plugin_env(PLUGIN_PROTOCOL_VERSIONS="1,3")
    result = subprocess.run([sys.executable, str(FIXTURE)], env=env, capture_output=True, timeout=30)
    assert result.returncode == 1
    assert result.stdout == b""
    assert b"incompatible API version" in result.stderr


def test_handshake_line_fields(plugin: Plugin) -> None:
    assert plugin.line.endswith("|grpc|\n")
    hs = plugin.handshake
    assert (hs.core_version, hs.app_version, hs.network, hs.server_cert) == (1, 2, "unix", None)
    sock_dir = Path(hs.address).parent
    assert Path(hs.address).exists()
    assert (sock_dir.stat().st_mode & 0o777) == 0o700


def test_health_serving_and_unknown_flags_ignored(plugin: Plugin) -> None:
    stub = health_pb2_grpc.HealthStub(plugin.channel)
    for service in ("plugin", ""):
        response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert response.status == health_pb2.HealthCheckResponse.SERVING
    # --log-level debug was honoured (the start-up message is at debug level), other flags ignored
    assert '"@message":"plugin started"' in plugin.stderr()


def test_list_plugins(plugin: Plugin) -> None:
    response = PluginLister_pb2_grpc.PluginListerStub(plugin.channel).ListPlugins(
        Shared_pb2.Empty(), timeout=5
    )
    got = {(p.kind, p.name) for p in response.plugins}
    assert ("ObjectStore", "test.veloro.io/memory") in got
    assert ("BackupItemActionV2", "test.veloro.io/annotate") in got
    assert ("BackupItemAction", "test.veloro.io/annotate") in got
    assert len(got) == 9
    assert {p.command for p in response.plugins} == {str(FIXTURE)}


def test_shutdown_exits_fast(plugin: Plugin) -> None:
    sock = Path(plugin.handshake.address)
    elapsed = _shutdown(plugin)
    assert plugin.proc.returncode == 0
    assert elapsed < 1.0  # target 0.1 s; generous bound for a loaded CI machine
    assert not sock.parent.exists(), "the private socket directory is removed on exit"


def test_sigint_ignored_sigterm_stops(plugin: Plugin) -> None:
    plugin.proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    assert plugin.proc.poll() is None
    stub = health_pb2_grpc.HealthStub(plugin.channel)
    assert stub.Check(health_pb2.HealthCheckRequest(service="plugin"), timeout=5).status == 1
    plugin.proc.send_signal(signal.SIGTERM)
    assert plugin.proc.wait(5) == 0


def test_stray_prints_go_to_stderr(plugin: Plugin) -> None:
    stub = os_grpc.ObjectStoreStub(plugin.channel)
    stub.Init(os_pb.ObjectStoreInitRequest(plugin="test.veloro.io/memory", config={"a": "b"}), timeout=5)
    _shutdown(plugin)
    assert plugin.proc.stdout is not None
    assert plugin.proc.stdout.read() == b""  # nothing after the handshake line
    assert "stray print from init" in plugin.stderr()


def test_logs_are_hclog_json(plugin: Plugin) -> None:
    import json

    _shutdown(plugin)
    lines = [json.loads(line) for line in plugin.stderr().splitlines() if line.startswith("{")]
    start = next(entry for entry in lines if entry["@message"] == "fixture starting")
    assert start["@level"] == "info" and start["@module"] == "fixture"
    assert start["argv"] == ["--log-level", "debug", "--features", "x", "--unknown=1"]
    assert len(start["@timestamp"]) == len("2006-01-02T15:04:05.000000Z")


def test_tcp_transport_in_port_range(tmp_path: Path) -> None:
    env = plugin_env(VELORO_PLUGIN_TRANSPORT="tcp", PLUGIN_MIN_PORT="20000", PLUGIN_MAX_PORT="20100")
    p = start_plugin(tmp_path, env=env)
    try:
        assert p.handshake.network == "tcp"
        host, port = p.handshake.address.rsplit(":", 1)
        assert host == "127.0.0.1" and 20000 <= int(port) <= 20100
        assert (
            health_pb2_grpc.HealthStub(p.channel).Check(health_pb2.HealthCheckRequest(), timeout=5).status
            == 1
        )
        _shutdown(p)
    finally:
        p.close()


def test_unix_socket_dir_honoured(tmp_path: Path) -> None:
    sockets = tmp_path / "socks"
    sockets.mkdir()
    p = start_plugin(tmp_path, env=plugin_env(PLUGIN_UNIX_SOCKET_DIR=str(sockets)))
    try:
        assert Path(p.handshake.address).parent.parent == sockets
    finally:
        p.close()


_INTERMEDIATE = """
import subprocess, sys
child = subprocess.Popen([sys.executable, sys.argv[1]], stdout=subprocess.PIPE)
line = child.stdout.readline()
print(child.pid, flush=True)
import time
time.sleep(60)
"""


def test_plugin_dies_with_its_parent() -> None:
    middle = subprocess.Popen(
        [sys.executable, "-c", _INTERMEDIATE, str(FIXTURE)], env=plugin_env(), stdout=subprocess.PIPE
    )
    try:
        child_pid = int(read_line(middle))
        os.kill(middle.pid, signal.SIGKILL)
        middle.wait(5)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.kill(child_pid, 0)
            except ProcessLookupError:
                break
            # reap it if it became our zombie (it will not: it is reparented to init/subreaper)
            time.sleep(0.05)
        else:
            os.kill(child_pid, signal.SIGKILL)
            pytest.fail("the plugin outlived its parent by 5 s")
    finally:
        if middle.poll() is None:
            middle.kill()
        if middle.stdout:
            middle.stdout.close()


@pytest.mark.parametrize(
    ("mode", "needle"),
    [
        ("bad-name", "invalid plugin name 'NoSlash'"),
        ("incomplete", "does not implement execute"),
        ("not-a-contract", "must subclass veloro_sdk.contracts.object_store.ObjectStore"),
    ],
)
def test_bad_registration_fails_loudly(mode: str, needle: str) -> None:
    env = plugin_env(FIXTURE_REGISTER=mode)
    result = subprocess.run([sys.executable, str(FIXTURE)], env=env, capture_output=True, timeout=30)
    assert result.returncode != 0
    assert result.stdout == b""
    assert needle in result.stderr.decode()


def test_grpc_error_when_process_gone(plugin: Plugin) -> None:
    _shutdown(plugin)
    with pytest.raises(grpc.RpcError):
        health_pb2_grpc.HealthStub(plugin.channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
