"""A real plugin process through the real handshake: transports, mTLS, logs, kill, death with the host."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterable
from pathlib import Path

import pytest
import structlog
from veloro_sdk.client import ListedPlugin, PluginListerClient

from tests.plugins.helpers import FIXTURES, PidFile, fixture_command, wait_gone
from veloro_core.plugins import PluginProcess, PluginSettings


@pytest.mark.parametrize("transport", ["unix", "tcp"])
@pytest.mark.parametrize("mtls", [False, True])
def test_start_list_and_kill(transport: str, mtls: bool, settings: PluginSettings, pidfile: PidFile) -> None:
    settings = dataclasses.replace(settings, transport=transport, auto_mtls=mtls)
    process = PluginProcess.start(fixture_command("raw_plugin"), settings)
    try:
        assert process.handshake is not None
        assert process.handshake.network == transport
        assert (process.handshake.server_cert is not None) is mtls
        assert process.channel is not None
        listed = PluginListerClient(process.channel).list_plugins()
        assert ListedPlugin("ObjectStore", "example.io/raw-store", listed[0].command) in listed
    finally:
        started = time.monotonic()
        process.kill()
        elapsed = time.monotonic() - started
    assert process.returncode == 0  # it exited through Shutdown, not SIGKILL
    assert elapsed < 1.0
    pidfile.assert_all_gone()


def test_plugin_ignoring_shutdown_is_sigkilled_after_the_kill_timeout(
    settings: PluginSettings, pidfile: PidFile
) -> None:
    env = {**settings.extra_env, "FIXTURE_IGNORE_SHUTDOWN": "1"}
    settings = dataclasses.replace(settings, kill_timeout=0.5, extra_env=env)
    process = PluginProcess.start(fixture_command("raw_plugin"), settings)
    started = time.monotonic()
    process.kill()
    assert 0.4 < time.monotonic() - started < 1.5
    assert process.returncode == -signal.SIGKILL
    pidfile.assert_all_gone()


def test_stderr_is_reemitted_with_plugin_name_and_mapped_levels(settings: PluginSettings) -> None:
    with structlog.testing.capture_logs() as logs:
        process = PluginProcess.start(fixture_command("raw_plugin"), settings)
        process.kill()
    from_plugin = [e for e in logs if e.get("stream") == "stderr"]
    by_event = {e["event"]: e for e in from_plugin}
    assert by_event["raw plugin serving"]["log_level"] == "warning"  # hclog JSON @level warn
    assert by_event["raw plugin serving"]["tls"] is False  # JSON fields kept
    assert by_event["a plain line with a level prefix"]["log_level"] == "error"  # [ERROR] prefix
    assert by_event["plain debug line"]["log_level"] == "debug"
    assert all("raw_plugin.py" in e["plugin"] for e in from_plugin)


def _read_pid(lines: Iterable[str]) -> int:
    for line in lines:  # the host's own log lines are on stdout too
        if line.startswith("PID "):
            return int(line.split()[1])
    raise AssertionError("the host did not print the plugin pid")


def test_plugins_die_with_a_killed_host(tmp_path: Path) -> None:
    """The host is SIGKILLed (no atexit runs): PR_SET_PDEATHSIG still takes its plugin down."""
    host = tmp_path / "host.py"
    host.write_text(
        textwrap.dedent(
            f"""
            import sys, threading, time
            from veloro_core.plugins import PluginProcess, PluginSettings
            box = []
            # started from a short-lived thread: the plugin must survive that thread's end
            t = threading.Thread(target=lambda: box.append(PluginProcess.start(
                [sys.executable, {str(FIXTURES / "raw_plugin.py")!r}], PluginSettings(auto_mtls=False))))
            t.start(); t.join()
            print("PID", box[0].pid, flush=True)
            time.sleep(60)
            """
        )
    )
    proc = subprocess.Popen([sys.executable, str(host)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        plugin_pid = _read_pid(iter(proc.stdout.readline, ""))
        time.sleep(0.3)
        assert not wait_gone(plugin_pid, 0.2), "the plugin died with its starter thread"
        proc.kill()
        proc.wait()
        assert wait_gone(plugin_pid, 5.0), f"plugin {plugin_pid} outlived its host"
    finally:
        proc.kill()


def test_plugins_are_stopped_at_interpreter_exit(tmp_path: Path) -> None:
    host = tmp_path / "host.py"
    host.write_text(
        textwrap.dedent(
            f"""
            import sys
            from veloro_core.plugins import PluginProcess, PluginSettings
            p = PluginProcess.start([sys.executable, {str(FIXTURES / "raw_plugin.py")!r}],
                                    PluginSettings(auto_mtls=False))
            print("PID", p.pid, flush=True)
            """
        )
    )
    out = subprocess.run([sys.executable, str(host)], capture_output=True, text=True, timeout=30, check=True)
    plugin_pid = _read_pid(out.stdout.splitlines())
    assert wait_gone(plugin_pid, 5.0)


def test_host_environment_reaches_the_plugin(settings: PluginSettings, tmp_path: Path) -> None:
    script = tmp_path / "envdump.py"
    script.write_text(
        "import json, os, sys\n"
        "keys = ['VELERO_PLUGIN', 'PLUGIN_PROTOCOL_VERSIONS', 'PLUGIN_MIN_PORT', 'PLUGIN_MAX_PORT',"
        " 'PLUGIN_CLIENT_CERT', 'FROM_HOST']\n"
        "print(json.dumps({'env': {k: os.environ.get(k) for k in keys}, 'argv': sys.argv[1:]}),"
        " file=sys.stderr, flush=True)\n"
        "sys.exit(5)\n"
    )
    os.environ["FROM_HOST"] = "yes"
    try:
        settings = dataclasses.replace(settings, auto_mtls=True, plugin_args=["--log-level", "info"])
        with pytest.raises(Exception) as info:
            PluginProcess.start([sys.executable, str(script)], settings)
    finally:
        del os.environ["FROM_HOST"]
    message = str(info.value)
    for fragment in [
        '"VELERO_PLUGIN": "hello"',
        '"PLUGIN_PROTOCOL_VERSIONS": "2"',
        '"PLUGIN_MIN_PORT": "10000"',
        '"PLUGIN_MAX_PORT": "25000"',
        "BEGIN CERTIFICATE",
        '"FROM_HOST": "yes"',
        '"argv": ["--log-level", "info"]',
    ]:
        assert fragment in message
