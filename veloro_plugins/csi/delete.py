"""veloro.io/csi-volumesnapshotcontent-delete: deleting a backup deletes the CSI snapshots it took.

Only contents labelled with the deleted backup's name are touched (snapshots taken outside veloro, or by
another backup, are left alone). If the content still exists in the cluster, its deletionPolicy is set to
Delete and it is deleted (with the VolumeSnapshot this backup created, if that is still there). If it is
gone (cleaned up after the backup, or a different cluster), a pre-provisioned content with the same handle
and deletionPolicy Delete is created, given a moment to be reconciled, and deleted: deleting it is what
makes the CSI snapshotter delete the snapshot in the storage system (Velero does the same).
"""

from __future__ import annotations

from veloro_sdk.contracts import DeleteItemAction, DeleteItemActionExecuteRequest, JSONDict, ResourceSelector
from veloro_sdk.serve import get_logger

from veloro_plugins.csi.cluster import ClientFactory, Cluster, poll
from veloro_plugins.csi.objects import (
    API_VERSION,
    BACKUP_NAME_LABELS,
    GROUP,
    VOLUME_SNAPSHOT_CONTENTS,
    VOLUME_SNAPSHOTS,
    child,
    created_by_backup,
    name_of,
    snapshot_handle,
    valid_label_value,
)

log = get_logger("veloro.csi.delete")
RECONCILE_WAIT = 30.0


class VolumeSnapshotContentDeleteAction(DeleteItemAction):
    def __init__(self, client: ClientFactory | None = None, reconcile_wait: float = RECONCILE_WAIT) -> None:
        self.cluster = Cluster(client)
        self.reconcile_wait = reconcile_wait

    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=[f"{VOLUME_SNAPSHOT_CONTENTS}.{GROUP}"])

    def execute(self, request: DeleteItemActionExecuteRequest) -> None:
        content, backup = request.item, request.backup
        name = name_of(content)
        if not created_by_backup(content, backup):
            log.info("content was not created by this backup; left alone", content=name)
            return
        handle = snapshot_handle(content)
        live = self.cluster.get(VOLUME_SNAPSHOT_CONTENTS, name)
        temporary = name
        if live is not None and snapshot_handle(live) not in ("", handle):
            log.warning("a content of that name now holds another snapshot; left alone", content=name)
            live, temporary = None, f"veloro-delete-{name}"[:253].rstrip("-.")
        if live is not None:
            self.cluster.patch(VOLUME_SNAPSHOT_CONTENTS, name, {"spec": {"deletionPolicy": "Delete"}})
        self._delete_snapshot_object(content, backup)
        if live is not None:
            self.cluster.delete(VOLUME_SNAPSHOT_CONTENTS, name)
            log.info("snapshot deleted with its content", content=name, handle=handle)
            return
        if not handle:
            log.info("content has no snapshot handle; nothing to delete", content=name_of(content))
            return
        self._delete_by_handle(content, backup, handle, temporary)

    def _delete_snapshot_object(self, content: JSONDict, backup: JSONDict) -> None:
        ref = child(child(content, "spec"), "volumeSnapshotRef")
        namespace, vs_name = str(ref.get("namespace") or ""), str(ref.get("name") or "")
        if not namespace or not vs_name:
            return
        vs = self.cluster.get(VOLUME_SNAPSHOTS, vs_name, namespace)
        if vs is not None and created_by_backup(vs, backup):
            self.cluster.delete(VOLUME_SNAPSHOTS, vs_name, namespace)

    def _delete_by_handle(self, content: JSONDict, backup: JSONDict, handle: str, name: str) -> None:
        spec = child(content, "spec")
        ref = child(spec, "volumeSnapshotRef")
        self.cluster.create(VOLUME_SNAPSHOT_CONTENTS, {
            "apiVersion": API_VERSION,
            "kind": "VolumeSnapshotContent",
            "metadata": {"name": name,
                         "labels": dict.fromkeys(BACKUP_NAME_LABELS, valid_label_value(name_of(backup)))},
            "spec": {
                "deletionPolicy": "Delete",
                "driver": str(spec.get("driver") or ""),
                "source": {"snapshotHandle": handle},
                # No VolumeSnapshot will bind it: the reference only satisfies the schema.
                "volumeSnapshotRef": {"apiVersion": API_VERSION, "kind": "VolumeSnapshot",
                                      "namespace": str(ref.get("namespace") or "default"),
                                      "name": f"veloro-deleting-{name}"[:253]},
            },
        })

        def reconciled() -> JSONDict | None:
            current = self.cluster.get(VOLUME_SNAPSHOT_CONTENTS, name)
            if current is None:
                return {}  # gone already: nothing to wait for
            return current if child(current, "status") else None

        poll(reconciled, self.reconcile_wait)
        self.cluster.delete(VOLUME_SNAPSHOT_CONTENTS, name)
        log.info("snapshot deleted through a temporary content", content=name, handle=handle)
