"""Fixtures of the plugin host tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plugins.helpers import PidFile
from veloro_core.plugins import PluginSettings


@pytest.fixture
def pidfile(tmp_path: Path) -> PidFile:
    return PidFile(tmp_path / "pids")


@pytest.fixture
def settings(pidfile: PidFile) -> PluginSettings:
    """No built-ins, no entry points: only what a test adds. Short start timeout; pids recorded."""
    return PluginSettings(
        builtin_commands=[],
        entry_point_group=None,
        start_timeout=10.0,
        call_timeout=10.0,
        auto_mtls=False,
        extra_env={"FIXTURE_PID_FILE": str(pidfile.path)},
    )
