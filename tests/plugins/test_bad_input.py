"""Bad plugin binaries: each gives a clear error naming the binary and the cause, within its timeout,
and leaves no process behind."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import pytest

from tests.plugins.helpers import PidFile, fixture_command
from veloro_core.plugins import PluginProcess, PluginSettings, PluginStartError


@pytest.mark.parametrize(
    ("fixture", "causes"),
    [
        ("garbage_handshake", ["bad handshake", "unrecognized handshake line", "Hello from a program"]),
        ("wrong_core_version", ["incompatible core protocol version 2"]),
        ("wrong_app_version", ["incompatible API version 5", "supports 2"]),
        ("stdout_before_handshake", ["wrote to stdout before its handshake line", "loading configuration"]),
        (
            "exit_before_handshake",
            ["exited before printing its handshake line", "exit code 3", "permission denied"],
        ),
        ("handshake_no_server", ["unix socket /nonexistent/veloro-fixture/sock, which does not exist"]),
    ],
)
def test_bad_start_is_a_clear_error(
    fixture: str, causes: list[str], settings: PluginSettings, pidfile: PidFile
) -> None:
    settings = dataclasses.replace(settings, start_timeout=3.0)
    started = time.monotonic()
    with pytest.raises(PluginStartError) as info:
        PluginProcess.start(fixture_command(fixture), settings)
    elapsed = time.monotonic() - started
    message = str(info.value)
    assert f"{fixture}.py" in message  # names the binary
    for cause in causes:
        assert cause in message, message
    assert elapsed < 3.5, f"took {elapsed:.1f}s"
    pidfile.assert_all_gone()


def test_no_handshake_within_the_start_timeout(settings: PluginSettings, pidfile: PidFile) -> None:
    settings = dataclasses.replace(settings, start_timeout=1.0)
    started = time.monotonic()
    with pytest.raises(PluginStartError) as info:
        PluginProcess.start(fixture_command("never_handshakes"), settings)
    elapsed = time.monotonic() - started
    assert "never_handshakes.py" in str(info.value)
    assert "no handshake line on stdout within the start timeout of 1s" in str(info.value)
    assert 0.9 < elapsed < 2.5
    pidfile.assert_all_gone()


def test_missing_binary(settings: PluginSettings) -> None:
    with pytest.raises(PluginStartError, match=r"plugin /nonexistent/plugin-binary: cannot be executed"):
        PluginProcess.start(["/nonexistent/plugin-binary"], settings)


def test_exit_before_handshake_without_stderr(settings: PluginSettings, tmp_path: Path) -> None:
    script = tmp_path / "quiet.py"
    script.write_text("import sys\nsys.exit(0)\n")

    with pytest.raises(PluginStartError) as info:
        PluginProcess.start([sys.executable, str(script)], settings)
    assert "exit code 0" in str(info.value)
    assert "wrote nothing on stderr" in str(info.value)
