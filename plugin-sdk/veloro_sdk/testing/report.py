"""Results of a conformance run: one row per (kind, name, check)."""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


class Status(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class CheckResult:
    """One check of one plugin. `detail` says what failed (or why it was skipped) in one line."""

    kind: str
    name: str
    check: str
    status: Status
    detail: str = ""
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status is not Status.FAIL

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        return data


@dataclass
class Report:
    """Every row of a run. `ok` is what a CLI exit code or a vendor's pytest assertion looks at."""

    command: list[str] = field(default_factory=list)
    results: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed]

    def extend(self, results: list[CheckResult]) -> None:
        self.results.extend(results)

    def summary(self) -> str:
        passed = sum(r.status is Status.PASS for r in self.results)
        skipped = sum(r.status is Status.SKIP for r in self.results)
        return f"{passed} passed, {len(self.failures)} failed, {skipped} skipped"

    def assert_ok(self) -> None:
        """For vendors' tests: raise AssertionError listing every failing row."""
        if not self.ok:
            lines = [f"{r.kind} {r.name}: {r.check}: {r.detail}" for r in self.failures] or ["no checks ran"]
            raise AssertionError("plugin conformance failed:\n  " + "\n  ".join(lines))

    def as_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "ok": self.ok,
            "summary": self.summary(),
            "results": [r.as_dict() for r in self.results],
        }


def describe_exception(exc: BaseException) -> str:
    """One line naming the exception, for a table cell (remote stacks stay in the exception itself)."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    if len(first) > 300:
        first = first[:300] + "..."
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class CheckFailed(AssertionError):
    """Raised by a check body with the reason it failed."""


def run_check(kind: str, name: str, check: str, body: Callable[[], str | None]) -> CheckResult:
    """Run one check body; its return value is an optional detail, an exception is a failure.

    SkipCheck in the body makes the row a skip. Nothing escapes except KeyboardInterrupt/SystemExit.
    """
    started = time.perf_counter()
    try:
        detail = body() or ""
        status = Status.PASS
    except SkipCheck as exc:
        detail, status = str(exc), Status.SKIP
    except Exception as exc:
        detail, status = describe_exception(exc), Status.FAIL
    return CheckResult(kind, name, check, status, detail, time.perf_counter() - started)


class SkipCheck(Exception):
    """A check that does not apply (e.g. no sample item matched an action's applies_to)."""
