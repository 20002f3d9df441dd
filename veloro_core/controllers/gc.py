"""Garbage collection: every gc period, each expired backup gets a DeleteBackupRequest (the deletion
controller does the work). Backups whose location is read-only or unavailable are left for later."""

from __future__ import annotations

import secrets

from veloro_core.api import API_VERSION, Backup, BackupStorageLocation, DeleteBackupRequest, parse_time
from veloro_core.controllers import labels
from veloro_core.controllers.base import Controller, Obj
from veloro_core.kube import AlreadyExists

SKIPPED_PHASES = ("", "New", "Queued", "ReadyToStart", "InProgress", "Deleting")


def delete_request_for(backup: Obj, namespace: str) -> Obj:
    """A DeleteBackupRequest for `backup` (used by gc; the CLI builds the same shape)."""
    name = str(backup["metadata"]["name"])
    meta_labels = {
        **labels.both(labels.BACKUP_NAME, name),
        **labels.both(labels.BACKUP_UID, str(backup["metadata"].get("uid") or "")),
    }
    return {
        "apiVersion": API_VERSION,
        "kind": "DeleteBackupRequest",
        "metadata": {
            "name": f"{name[:50]}-{secrets.token_hex(3)}",
            "namespace": namespace,
            "labels": meta_labels,
        },
        "spec": {"backupName": name},
    }


class GCController(Controller):
    NAME = "gc"

    def tick_interval(self) -> float | None:
        return max(0.2, self.ctx.settings.gc_frequency.total_seconds())

    def tick(self) -> None:
        now = self.ctx.clock()
        locations = {str(b["metadata"]["name"]): b for b in self.ctx.list(BackupStorageLocation)}
        pending = {
            str((r.get("spec") or {}).get("backupName") or "")
            for r in self.ctx.list(DeleteBackupRequest)
            if (r.get("status") or {}).get("phase") in (None, "", "New", "InProgress")
        }
        for backup in self.ctx.list(Backup):
            name = str(backup["metadata"]["name"])
            status = backup.get("status") or {}
            expiration = status.get("expiration")
            if not expiration or status.get("phase", "") in SKIPPED_PHASES or name in pending:
                continue
            if parse_time(str(expiration)) > now:
                continue
            location = locations.get(str((backup.get("spec") or {}).get("storageLocation") or ""))
            if location is not None and not self._usable(location):
                self.log.info("expired backup kept: its location is read-only or unavailable", backup=name)
                continue
            try:
                self.ctx.create(DeleteBackupRequest, delete_request_for(backup, self.ctx.namespace))
            except AlreadyExists:
                continue
            self.log.info("expired backup: deletion requested", backup=name, expiration=expiration)

    @staticmethod
    def _usable(location: Obj) -> bool:
        if (location.get("spec") or {}).get("accessMode") == "ReadOnly":
            return False
        return (location.get("status") or {}).get("phase") != "Unavailable"
