"""Backup deletion: a DeleteBackupRequest runs the DeleteItemActions over the backup's items, deletes its
native snapshots, its objects in the location, the restores made from it (and their files), then the
Backup itself. Every problem is collected in status.errors; the Backup is kept when any step failed, so
the deletion can be retried with a new request."""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from typing import Any

from veloro_sdk.contracts import DeleteItemActionExecuteRequest

from veloro_core.api import Backup, DeleteBackupRequest, Restore
from veloro_core.archive import extract_tarball
from veloro_core.controllers import labels
from veloro_core.controllers.base import Controller, Obj, one_line
from veloro_core.controllers.lookup import MissingReference, backup_location_name, get_bsl, get_vsl
from veloro_core.kube import KubeError
from veloro_core.persistence import BackupStore, BackupStoreError
from veloro_core.podvolume import PVBS, forget_snapshots
from veloro_core.selection import ActionMatcher, ResourceIndex, ResourceInfo
from veloro_core.server.stores import LocationError

NOT_DELETABLE = ("", "New", "Queued", "ReadyToStart", "InProgress")
BACKUP_NAME = "velero.io/backup-name"  # label of the backup's PodVolumeBackups (both spellings are set)


class DeletionController(Controller):
    NAME = "backup-deletion"
    RESOURCE = DeleteBackupRequest

    def wants(self, obj: Obj) -> bool:
        return str((obj.get("status") or {}).get("phase") or "") in ("", "New")

    def reconcile(self, name: str) -> None:
        request = self.ctx.get(DeleteBackupRequest, name)
        if request is None or not self.wants(request):
            return
        backup_name = str((request.get("spec") or {}).get("backupName") or "")
        self.ctx.patch_status(DeleteBackupRequest, name, {"phase": "InProgress"})
        backup = self.ctx.get(Backup, backup_name) if backup_name else None
        schedule = labels.first((backup or {}).get("metadata", {}).get("labels"), labels.SCHEDULE_NAME)
        self.ctx.metrics.backup_deletion_attempt.labels(schedule).inc()
        errors = self._delete(backup_name, backup)
        errors = [one_line(e) for e in errors]
        self.ctx.patch_status(DeleteBackupRequest, name, {"phase": "Processed", "errors": errors})
        counter = (
            self.ctx.metrics.backup_deletion_failure if errors else self.ctx.metrics.backup_deletion_success
        )
        counter.labels(schedule).inc()
        self.log.info("backup deletion processed", backup=backup_name, errors=errors)
        if backup is not None and errors:
            self.ctx.events.record(backup, "DeletionFailed", "; ".join(errors), warning=True)

    def _delete(self, name: str, backup: Obj | None) -> list[str]:
        if not name:
            return ["spec.backupName is required"]
        if backup is None:
            return [f"backup {name!r} not found in namespace {self.ctx.namespace!r}"]
        phase = str((backup.get("status") or {}).get("phase") or "")
        if phase in NOT_DELETABLE:
            return [f"backup {name!r} is {phase or 'New'}: wait until it finishes, then delete it"]
        try:
            bsl = get_bsl(self.ctx, backup_location_name(backup))
        except MissingReference as exc:
            return [str(exc)]
        if bsl.spec.read_only:
            return [f"cannot delete backup {name!r}: backup storage location {bsl.name!r} is read-only"]
        self.ctx.patch_status(Backup, name, {"phase": "Deleting"})
        errors: list[str] = []
        try:
            with self.ctx.locations.backup_store(bsl) as store:
                errors += self._run_actions(name, backup, store)
                errors += self._delete_snapshots(name, store)
                errors += self._forget_pod_volumes(name, store)
                try:
                    store.delete_backup(name)
                except BackupStoreError as exc:
                    errors.append(str(exc))
                errors += self._delete_restores(name, store)
        except LocationError as exc:
            errors.append(str(exc))
        if not errors:
            self.ctx.delete(Backup, name)
        else:  # keep the Backup, back in a phase that lets a new request retry
            self.ctx.patch_status(Backup, name, {"phase": phase})
        return errors

    # ------------------------------------------------------------------------------------ steps
    def _run_actions(self, name: str, backup: Obj, store: BackupStore) -> list[str]:
        actions = self.ctx.plugins.delete_item_actions()
        if not actions or not store.is_complete(name):
            return []
        index = ResourceIndex(
            ResourceInfo(
                a.group, a.version, a.name, a.kind, a.namespaced, a.short_names, a.singular_name, a.verbs
            )
            for a in self.ctx.kube.discovery.backup_resources()
        )
        errors: list[str] = []
        with ExitStack() as stack:
            tarball = stack.enter_context(tempfile.TemporaryFile(prefix="veloro-delete-"))
            store.download_backup_contents(name, tarball)
            tarball.seek(0)
            contents = stack.enter_context(extract_tarball(tarball, versioned_copies=False))
            for action_name, action in actions:
                try:
                    matcher = ActionMatcher.compile(action.applies_to(), index, action=action_name)
                except Exception as exc:  # a broken plugin: report it, carry on with the others
                    errors.append(f"delete item action {action_name!r}: {exc}")
                    continue
                errors += self._apply(action_name, action, matcher, contents, backup)
        return errors

    @staticmethod
    def _apply(
        action_name: str, action: Any, matcher: ActionMatcher, contents: Any, backup: Obj
    ) -> list[str]:
        errors: list[str] = []
        for group_resource in contents.group_resources():
            if not matcher.applies_to_resource(group_resource):
                continue
            for ref in contents.items(group_resource):
                item = contents.read_item(ref)
                item_labels = (item.get("metadata") or {}).get("labels")
                if not matcher.matches(group_resource, ref.namespace or "", item_labels):
                    continue
                try:
                    action.execute(DeleteItemActionExecuteRequest(item=item, backup=backup))
                except Exception as exc:  # plugin errors are the request's errors, not the server's
                    errors.append(
                        f"delete item action {action_name!r} on {group_resource} "
                        f"{ref.namespace or ''}/{ref.name}: {exc}"
                    )
        return errors

    def _delete_snapshots(self, name: str, store: BackupStore) -> list[str]:
        errors: list[str] = []
        try:
            snapshots = store.get_backup_volume_snapshots(name) or []
        except BackupStoreError as exc:
            return [f"reading the volume snapshots of backup {name!r}: {exc}"]
        for snapshot in snapshots:
            snapshot_id = str((snapshot.get("status") or {}).get("providerSnapshotID") or "")
            location = str((snapshot.get("spec") or {}).get("location") or "")
            if not snapshot_id:
                continue
            try:
                vsl = get_vsl(self.ctx, location)
                with self.ctx.locations.volume_snapshotter(vsl) as snapshotter:
                    snapshotter.delete_snapshot(snapshot_id)
            except Exception as exc:  # plugin or lookup errors: recorded, the other snapshots still go
                errors.append(f"deleting snapshot {snapshot_id} (location {location!r}): {exc}")
        return errors

    def _forget_pod_volumes(self, name: str, store: BackupStore) -> list[str]:
        """restic forget --prune of the backup's file-level snapshots: from its podvolumebackups file, or
        (a backup stored without it) from the PodVolumeBackups still in the cluster."""
        try:
            pvbs = store.get_pod_volume_backups(name)
        except BackupStoreError as exc:
            return [f"reading the pod volume backups of backup {name!r}: {exc}"]
        if pvbs is None:
            try:
                selector = f"{BACKUP_NAME}={name}"
                pvbs = list(self.ctx.kube.list_items(PVBS, self.ctx.namespace, label_selector=selector))
            except KubeError as exc:
                return [f"listing the pod volume backups of backup {name!r}: {exc}"]
        pvbs = [p for p in pvbs if isinstance(p, dict)]
        if not pvbs:
            return []
        try:
            return forget_snapshots(self.ctx.kube, self.ctx.namespace, pvbs)
        except Exception as exc:  # restic missing, credentials unreadable: the request's error
            return [f"deleting the pod volume snapshots of backup {name!r}: {exc}"]

    def _delete_restores(self, name: str, store: BackupStore) -> list[str]:
        errors: list[str] = []
        for restore in self.ctx.list(Restore):
            if (restore.get("spec") or {}).get("backupName") != name:
                continue
            restore_name = str(restore["metadata"]["name"])
            try:
                store.delete_restore(restore_name)
                self.ctx.delete(Restore, restore_name)
            except (BackupStoreError, KubeError) as exc:
                errors.append(f"deleting restore {restore_name!r}: {exc}")
        return errors
