"""Asynchronous operations started by v2 restore item actions: polled with Progress until they complete,
fail or exceed the restore's itemOperationTimeout (then cancelled). Their records are uploaded as
`restore-<name>-itemoperations.json.gz`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from veloro_core.restore.actions import Operation
from veloro_core.restore.context import RestoreContext

Obj = dict[str, Any]


@dataclass
class OperationCounts:
    attempted: int = 0
    completed: int = 0
    failed: int = 0
    records: list[Obj] = field(default_factory=list)


def _record(ctx: RestoreContext, op: Operation, phase: str, error: str) -> Obj:
    r = op.resource
    return {
        "spec": {
            "restoreName": ctx.spec.name,
            "restoreUID": str((ctx.restore.get("metadata") or {}).get("uid") or ""),
            "restoreItemAction": op.action,
            "resourceIdentifier": {
                "group": r.group,
                "resource": r.resource,
                "namespace": r.namespace,
                "name": r.name,
            },
            "operationID": op.operation_id,
        },
        "status": {"phase": phase, **({"error": error} if error else {})},
    }


def wait_operations(ctx: RestoreContext, timeout: timedelta) -> OperationCounts:
    counts = OperationCounts(attempted=len(ctx.operations))
    deadline = time.monotonic() + timeout.total_seconds()
    pending = list(ctx.operations)
    while pending:
        still: list[Operation] = []
        for op in pending:
            error = ""
            try:
                progress = op.impl.progress(op.operation_id, ctx.restore)
                done, error = progress.completed, progress.err
            except Exception as exc:
                done, error = True, f"progress failed: {exc}"
            if error:
                _fail(ctx, op, error, counts)
            elif done:
                counts.completed += 1
                counts.records.append(_record(ctx, op, "Completed", ""))
            else:
                still.append(op)
        pending = still
        if pending and time.monotonic() >= deadline:
            for op in pending:
                try:
                    op.impl.cancel(op.operation_id, ctx.restore)
                except Exception as exc:  # cancelling is best effort
                    ctx.log.warning(
                        "cancelling an operation failed", operation=op.operation_id, error=str(exc)
                    )
                _fail(ctx, op, f"timed out after {timeout}", counts)
            break
        if pending:
            time.sleep(ctx.settings.item_operation_poll_interval)
    return counts


def _fail(ctx: RestoreContext, op: Operation, error: str, counts: OperationCounts) -> None:
    counts.failed += 1
    counts.records.append(_record(ctx, op, "Failed", error))
    r = op.resource
    ctx.errors.add(
        r.namespace or None,
        f"operation {op.operation_id} of restore item action {op.action} on "
        f"{r.group_resource} {r.name} failed: {error}",
    )
