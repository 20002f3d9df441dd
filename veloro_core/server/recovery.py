"""Start-up recovery: a backup or restore left InProgress by a server that died cannot be resumed (its
engine state was in that process), so the new leader marks it Failed with Velero's reason. The engine
writes a backup's metadata last, so such a backup never looks complete in its location."""

from __future__ import annotations

import structlog

from veloro_core.api import Backup, Restore, format_time
from veloro_core.controllers.base import ControllerContext

BACKUP_REASON = "found a backup with status InProgress during the server starting, mark it as failed"
RESTORE_REASON = "found a restore with status InProgress during the server starting, mark it as failed"
STOPPED_REASON = "the server stopped before the {what} finished (terminating timeout reached)"
log = structlog.get_logger("veloro.server")


def fail_in_progress(ctx: ControllerContext) -> list[str]:
    """Mark every InProgress backup and restore Failed; returns "kind/name" of each."""
    marked: list[str] = []
    now = format_time(ctx.clock())
    for resource, reason in ((Backup, BACKUP_REASON), (Restore, RESTORE_REASON)):
        for obj in ctx.list(resource):
            if (obj.get("status") or {}).get("phase") != "InProgress":
                continue
            name = str(obj["metadata"]["name"])
            ctx.patch_status(
                resource, name, {"phase": "Failed", "failureReason": reason, "completionTimestamp": now}
            )
            ctx.events.record(obj, f"{resource.KIND}Failed", reason, warning=True)
            log.warning("marked an interrupted operation Failed", kind=resource.KIND, name=name)
            marked.append(f"{resource.KIND}/{name}")
    return marked


def fail_unfinished(ctx: ControllerContext, resource: type[Backup] | type[Restore], names: set[str]) -> None:
    """At shutdown: operations still running after the terminating timeout are marked Failed."""
    reason = STOPPED_REASON.format(what=resource.KIND.lower())
    for name in sorted(names):
        try:
            ctx.patch_status(
                resource,
                name,
                {"phase": "Failed", "failureReason": reason, "completionTimestamp": format_time(ctx.clock())},
            )
        except Exception as exc:  # shutting down: log and go on with the others
            log.error("could not mark an unfinished operation Failed", name=name, error=str(exc))
