"""Fixtures of the Go interop tests: the Go programs (built once per session) and a gohost runner."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Mapping, Sequence

import pytest
from interop_build import GoBuildError, build_cached
from interop_support import GO_MISSING, GO_MISSING_REASON, GoHost, GoPrograms, HostRun


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
