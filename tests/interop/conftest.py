"""Fixtures of the Go interop tests: the Go programs (built once per session) and a gohost runner."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from interop_build import GoBuildError, build_cached

GO_MISSING = shutil.which("go") is None and not Path("/usr/bin/go").exists()
GO_MISSING_REASON = (
    "the Go toolchain is not installed (apt-get install golang-go golang-github-hashicorp-go-plugin-dev "
    "golang-google-grpc-dev golang-goprotobuf-dev protoc-gen-go-grpc protobuf-compiler); CI installs it"
)


@dataclass
class GoPrograms:
    gohost: Path
    goplugin: Path


@pytest.fixture(scope="session")
def go_programs() -> GoPrograms:
    """gohost and goplugin, built once per session and cached by input digest across sessions."""
    if GO_MISSING:
        pytest.skip(GO_MISSING_REASON)
    try:
        paths = build_cached()
    except GoBuildError as exc:
        pytest.fail(str(exc), pytrace=False)
    return GoPrograms(gohost=paths["gohost"], goplugin=paths["goplugin"])


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


@pytest.fixture
def gohost(go_programs: GoPrograms) -> GoHost:
    """Run gohost against a plugin command and return the parsed report. The plugin inherits `env`."""

    def run(
        command: Sequence[str],
        *,
        mtls: bool = False,
        tests: Iterable[str] = (),
        expect: Iterable[str] = (),
        config: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 90,
    ) -> HostRun:
        args = [str(go_programs.gohost), *(["-mtls"] if mtls else [])]
        args += [f"-test={t}" for t in tests]
        args += [f"-expect={e}" for e in expect]
        args += [f"-config={k}={v}" for k, v in (config or {}).items()]
        proc = subprocess.run(
            [*args, "--", *command], env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
        try:
            report = json.loads(proc.stdout)
        except json.JSONDecodeError:
            pytest.fail(
                f"gohost printed no JSON report (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
            )
        checks = {(c["name"], c.get("kind", ""), c.get("plugin", "")): c for c in report["checks"]}
        return HostRun(report=report, stderr=proc.stderr, returncode=proc.returncode, checks=checks)

    return run
