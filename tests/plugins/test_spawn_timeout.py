"""A start stuck in fork/exec must not hang the host: the caller gets SpawnTimeout and later starts work."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from veloro_core.plugins import spawn


def test_stuck_start_times_out_and_the_next_start_uses_a_fresh_spawner() -> None:
    release = threading.Event()

    def stuck() -> subprocess.Popen[bytes]:
        release.wait(30)  # stands in for a fork that never returns
        raise OSError("released")

    try:
        with pytest.raises(spawn.SpawnTimeout, match=r"did not start within 1 s"):
            spawn._submit(stuck, timeout=1.0)
        proc = spawn.spawn([sys.executable, "-c", "print('ok')"], env={})
        out, _ = proc.communicate(timeout=30)
        assert out.strip() == b"ok" and proc.returncode == 0
    finally:
        release.set()
