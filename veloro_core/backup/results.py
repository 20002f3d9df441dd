"""Warnings and errors of one run, grouped as Velero's results file: {"velero", "cluster", "namespaces"}.

Thread-safe. Counts are exact; the stored messages are capped per scope so that a backup where every one
of 100k items fails still has bounded memory (the cap is stated in the file as a final message).
"""

from __future__ import annotations

import threading
from typing import Any

VELERO = "velero"
CLUSTER = "cluster"


class _Scope:
    __slots__ = ("dropped", "messages")

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.dropped = 0


class Results:
    """One kind of message (warnings or errors)."""

    def __init__(self, cap: int = 1000) -> None:
        self._cap = cap
        self._lock = threading.Lock()
        self._velero = _Scope()
        self._cluster = _Scope()
        self._namespaces: dict[str, _Scope] = {}
        self.count = 0

    def add(self, message: str, namespace: str | None = None, *, velero: bool = False) -> None:
        """`namespace` "" or None = cluster scope; velero=True = about the backup itself."""
        with self._lock:
            self.count += 1
            if velero:
                scope = self._velero
            elif namespace:
                scope = self._namespaces.get(namespace) or self._namespaces.setdefault(namespace, _Scope())
            else:
                scope = self._cluster
            if len(scope.messages) < self._cap:
                scope.messages.append(message)
            else:
                scope.dropped += 1

    def as_dict(self) -> dict[str, Any]:
        """R = {"velero": [...], "cluster": [...], "namespaces": {ns: [...]}} (empty parts omitted)."""
        with self._lock:
            out: dict[str, Any] = {}
            if self._velero.messages:
                out[VELERO] = _messages(self._velero)
            if self._cluster.messages:
                out[CLUSTER] = _messages(self._cluster)
            if self._namespaces:
                out["namespaces"] = {ns: _messages(s) for ns, s in sorted(self._namespaces.items())}
            return out


def _messages(scope: _Scope) -> list[str]:
    if not scope.dropped:
        return list(scope.messages)
    return [*scope.messages, f"... and {scope.dropped} more (not stored)"]
