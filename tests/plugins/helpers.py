"""Helpers for the plugin host tests: fixture plugin commands, plugin dirs, orphan checks."""

from __future__ import annotations

import sys
import time
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_command(name: str) -> list[str]:
    """A fixture plugin is run by this interpreter (its shebang could find another python)."""
    return [sys.executable, str(FIXTURES / f"{name}.py")]


def make_executable(directory: Path, name: str, fixture: str) -> Path:
    """An executable wrapper in a plugin dir that runs `fixture` with this interpreter."""
    path = directory / name
    script = FIXTURES / fixture
    body = f"import runpy\nrunpy.run_path({str(script)!r}, run_name='__main__')\n"
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(0o755)
    return path


def is_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")  # a zombie whose parent (maybe pid 1) has not reaped it is dead


def wait_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_gone(pid):
            return True
        time.sleep(0.02)
    return is_gone(pid)


class PidFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def pids(self) -> list[int]:
        if not self.path.exists():
            return []
        return [int(line) for line in self.path.read_text().split()]

    def assert_all_gone(self) -> None:
        pids = self.pids()
        assert pids, "the fixture did not record its pid"
        alive = [pid for pid in pids if not wait_gone(pid, 3.0)]
        assert not alive, f"orphan plugin processes left running: {alive}"
