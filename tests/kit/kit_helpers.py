"""Shared by tests/kit and tests/cli: fixture plugin executables written as wrapper scripts, so that a
plugin directory holds real executables started with this interpreter."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]
EXAMPLE_SRC = REPO / "examples" / "annotate-plugin" / "src"
BUILTIN_ARGV = [sys.executable, "-m", "veloro_core.cli", "run-plugins"]


def write_executable(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


def python_plugin(path: Path, *args: str, pythonpath: Path | None = None) -> Path:
    """An executable that runs `python ARGS...` (with an optional extra PYTHONPATH entry)."""
    env = f"PYTHONPATH={shlex.quote(str(pythonpath))}${{PYTHONPATH:+:$PYTHONPATH}} " if pythonpath else ""
    return write_executable(path, f'{env}exec {shlex.quote(sys.executable)} {shlex.join(args)} "$@"')


def broken_plugin(path: Path) -> Path:
    return python_plugin(path, str(FIXTURES / "broken_plugin.py"))


def example_plugin(path: Path) -> Path:
    return python_plugin(path, "-m", "veloro_example_annotate", pythonpath=EXAMPLE_SRC)


def crashing_plugin(path: Path) -> Path:
    """Exits before its handshake, with a message on stderr."""
    return write_executable(path, 'echo "fixture: cannot start, missing credentials" >&2\nexit 3')


def env_without_plugin_cookie() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("VELERO_PLUGIN", None)
    return env
