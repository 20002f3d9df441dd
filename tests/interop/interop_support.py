"""Shared pieces of the Go interop tests (importable by test modules; conftest.py only holds fixtures,
since `from conftest import ...` would pick up another folder's conftest in a whole-suite run)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GO_MISSING = shutil.which("go") is None and not Path("/usr/bin/go").exists()
GO_MISSING_REASON = (
    "the Go toolchain is not installed (apt-get install golang-go golang-github-hashicorp-go-plugin-dev "
    "golang-google-grpc-dev golang-goprotobuf-dev protoc-gen-go-grpc protobuf-compiler); CI installs it"
)


@dataclass
class GoPrograms:
    gohost: Path
    goplugin: Path


@dataclass
class HostRun:
    """One gohost run: its JSON report and the host's stderr (go-plugin logs, plugin stderr)."""

    report: dict[str, Any]
    stderr: str
    returncode: int
    checks: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)

    def check(self, name: str, kind: str = "", plugin: str = "") -> dict[str, Any]:
        key = (name, kind, plugin)
        assert key in self.checks, f"gohost did not run check {key}; ran {sorted(self.checks)}"
        return self.checks[key]

    def failures(self) -> str:
        lines = [f"fatal: {self.report['fatal']}"] if self.report.get("fatal") else []
        for c in self.report.get("checks", []):
            if not c["ok"]:
                lines.append(f"{c['name']} [{c.get('kind', '')} {c.get('plugin', '')}]: {c.get('error')}")
        tail = "\n".join(self.stderr.splitlines()[-40:])
        return "\n".join(lines) + f"\n--- gohost stderr (tail) ---\n{tail}"

    def assert_ok(self) -> None:
        assert self.report["ok"] and self.returncode == 0, self.failures()


GoHost = Callable[..., HostRun]
