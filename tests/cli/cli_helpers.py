"""Run `veloro` as a real process (the console script's code path: main() and its exit codes)."""

from __future__ import annotations

import subprocess
import sys

VELORO = [sys.executable, "-m", "veloro_core.cli"]


def veloro(
    *args: str, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VELORO, *args], capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL
    )
