"""Asynchronous (v2) item operations: recorded when an action's Execute returns an operation ID,
polled with Progress until each is done or the backup's itemOperationTimeout passes, and stored in the
`-itemoperations.json.gz` file (Velero's BackupOperation shape)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from veloro_sdk.contracts import BackupItemActionV2, ResourceIdentifier

from veloro_core.api import format_time


def _now() -> datetime:
    return datetime.now(UTC)


def _rid(rid: ResourceIdentifier) -> dict[str, str]:
    return {"group": rid.group, "resource": rid.resource, "namespace": rid.namespace, "name": rid.name}


@dataclass
class Operation:
    action_name: str
    action: BackupItemActionV2
    item: ResourceIdentifier
    operation_id: str
    post_items: list[ResourceIdentifier]
    created: datetime = field(default_factory=_now)
    phase: str = "InProgress"
    error: str = ""
    n_completed: int = 0
    n_total: int = 0
    units: str = ""
    description: str = ""
    started: datetime | None = None
    updated: datetime | None = None

    def record(self, backup_name: str, backup_uid: str) -> dict[str, Any]:
        status: dict[str, Any] = {
            "phase": self.phase, "nCompleted": self.n_completed, "nTotal": self.n_total,
            "operationUnits": self.units, "description": self.description,
            "created": format_time(self.created),
        }
        if self.error:
            status["error"] = self.error
        if self.started:
            status["started"] = format_time(self.started)
        if self.updated:
            status["updated"] = format_time(self.updated)
        return {
            "spec": {
                "backupName": backup_name, "backupUID": backup_uid, "backupItemAction": self.action_name,
                "resourceIdentifier": _rid(self.item), "operationID": self.operation_id,
                "postOperationItems": [_rid(r) for r in self.post_items],
            },
            "status": status,
        }


class OperationTracker:
    def __init__(self) -> None:
        self._ops: list[Operation] = []
        self._lock = threading.Lock()

    def add(self, op: Operation) -> None:
        with self._lock:
            self._ops.append(op)

    @property
    def operations(self) -> list[Operation]:
        with self._lock:
            return list(self._ops)

    def counts(self) -> tuple[int, int, int]:
        ops = self.operations
        return (len(ops), sum(o.phase == "Completed" for o in ops), sum(o.phase == "Failed" for o in ops))

    def wait(self, backup: dict[str, Any], timeout: float, interval: float, log: Any) -> None:
        """Poll every pending operation until all are done or `timeout` seconds have passed."""
        deadline = time.monotonic() + timeout
        while True:
            pending = [o for o in self.operations if o.phase == "InProgress"]
            if not pending:
                return
            for op in pending:
                self._poll(op, backup, log)
            if all(o.phase != "InProgress" for o in pending):
                continue
            if time.monotonic() >= deadline:
                for op in (o for o in pending if o.phase == "InProgress"):
                    op.phase = "Failed"
                    op.error = f"operation timed out after {timeout:g}s (itemOperationTimeout)"
                    log.error("item operation timed out", action=op.action_name, operation=op.operation_id)
                    try:
                        op.action.cancel(op.operation_id, backup)
                    except Exception as exc:  # best effort: the timeout is already the reported error
                        log.warning("cancelling a timed-out operation failed", error=str(exc))
                return
            time.sleep(min(interval, max(0.0, deadline - time.monotonic())))

    @staticmethod
    def _poll(op: Operation, backup: dict[str, Any], log: Any) -> None:
        try:
            progress = op.action.progress(op.operation_id, backup)
        except Exception as exc:
            op.phase, op.error = "Failed", f"Progress of operation {op.operation_id!r} failed: {exc}"
            log.error("item operation progress failed", action=op.action_name, error=str(exc))
            return
        op.n_completed, op.n_total = progress.n_completed, progress.n_total
        op.units, op.description = progress.operation_units, progress.description
        op.started, op.updated = progress.started or op.started, progress.updated or _now()
        if progress.err:
            op.phase, op.error = "Failed", progress.err
        elif progress.completed:
            op.phase = "Completed"
