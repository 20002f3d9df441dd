"""Thread-safe accumulators of one restore: warnings/errors per namespace, the resource list, progress."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class Results:
    """Velero's Result shape `{"velero": [...], "cluster": [...], "namespaces": {"ns": [...]}}`."""

    def __init__(self) -> None:
        self.velero: list[str] = []
        self.cluster: list[str] = []
        self.namespaces: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def add(self, namespace: str | None, message: str) -> None:
        """A message about an object: namespaced ones under their (target) namespace, others cluster."""
        with self._lock:
            if namespace:
                self.namespaces.setdefault(namespace, []).append(message)
            else:
                self.cluster.append(message)

    def add_velero(self, message: str) -> None:
        """A message about the restore itself, not about one object."""
        with self._lock:
            self.velero.append(message)

    def count(self) -> int:
        with self._lock:
            return len(self.velero) + len(self.cluster) + sum(len(v) for v in self.namespaces.values())

    def all_messages(self) -> list[str]:
        with self._lock:
            return [*self.velero, *self.cluster, *(m for v in self.namespaces.values() for m in v)]

    def to_dict(self) -> dict[str, Any]:
        """The wire form; empty parts are omitted as Velero's `omitempty` does."""
        with self._lock:
            out: dict[str, Any] = {}
            if self.velero:
                out["velero"] = list(self.velero)
            if self.cluster:
                out["cluster"] = list(self.cluster)
            if self.namespaces:
                out["namespaces"] = {ns: list(msgs) for ns, msgs in sorted(self.namespaces.items())}
            return out


class ResourceList:
    """`{"<group/version>/<Kind>": ["ns/name(created)", ...]}` as Velero's restore resource list."""

    def __init__(self) -> None:
        self._entries: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def add(self, api_version: str, kind: str, namespace: str | None, name: str, outcome: str) -> None:
        key = f"{api_version}/{kind}"
        ident = f"{namespace}/{name}" if namespace else name
        with self._lock:
            self._entries.setdefault(key, []).append(f"{ident}({outcome})")

    def to_dict(self) -> dict[str, list[str]]:
        with self._lock:
            return {k: sorted(v) for k, v in sorted(self._entries.items())}


class Progress:
    """Counters reported through a callback at most once per `interval` seconds (plus a final report)."""

    def __init__(
        self,
        callback: Callable[[int, int], None] | None,
        interval: float,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        self.total = 0
        self.done = 0
        self._callback = callback
        self._interval = interval
        self._on_error = on_error
        self._last = 0.0
        self._lock = threading.Lock()

    def add_total(self, n: int) -> None:
        with self._lock:
            self.total += n
        self._maybe_report()

    def item_done(self) -> None:
        with self._lock:
            self.done += 1
        self._maybe_report()

    def item_dropped(self) -> None:
        """An item counted in the total that turned out not to be restored (selector, skip rule)."""
        with self._lock:
            self.total = max(self.done, self.total - 1)

    def _maybe_report(self) -> None:
        if self._callback is None:
            return
        now = time.monotonic()
        with self._lock:
            if now - self._last < self._interval:
                return
            self._last = now
            total, done = self.total, self.done
        self._call(total, done)

    def report(self) -> None:
        """Report now (the final counters)."""
        if self._callback is not None:
            with self._lock:
                total, done = self.total, self.done
            self._call(total, done)

    def _call(self, total: int, done: int) -> None:
        assert self._callback is not None
        try:
            self._callback(total, done)
        except Exception as exc:  # a failing status update must not fail the restore
            if self._on_error is not None:
                self._on_error(exc)
