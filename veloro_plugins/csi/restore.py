"""Restore item actions of the CSI plugin: rebuild PVC <- VolumeSnapshot <- VolumeSnapshotContent in the
target cluster so that each restored claim is provisioned from its snapshot.

- veloro.io/csi-pvc-restorer (v2, PVCs): a claim backed up with a snapshot gets spec.dataSource and
  spec.dataSourceRef naming the VolumeSnapshot, loses volumeName and the binding annotations (it is
  provisioned anew, from the snapshot), and returns the VolumeSnapshot as an additional item (restored
  first). With restorePVs=false the claim is provisioned empty instead.
- veloro.io/csi-volumesnapshot-restorer: status dropped, spec.source points at the restored content
  (volumeSnapshotContentName) instead of the PVC; the content is returned as an additional item.
- veloro.io/csi-volumesnapshotcontent-restorer: a pre-provisioned content: source.snapshotHandle only,
  volumeSnapshotRef set to the restored VolumeSnapshot's (mapped) namespace and name, deletionPolicy
  Retain (the backup owns the data; deleting the restored snapshot must not delete it). The content is
  renamed per restore (objects.restored_content_name), as a dynamically created content cannot be re-bound
  and the original may still exist.
"""

from __future__ import annotations

from veloro_sdk.contracts import (
    JSONDict,
    ResourceSelector,
    RestoreItemAction,
    RestoreItemActionExecuteRequest,
    RestoreItemActionExecuteResponse,
    RestoreItemActionV2,
)
from veloro_sdk.serve import get_logger

from veloro_plugins.csi.cluster import ClientFactory, Cluster
from veloro_plugins.csi.objects import (
    API_VERSION,
    BINDING_ANNOTATIONS,
    CONTENT_NAME_ANNOTATION,
    DELETION_POLICY_ANNOTATION,
    DRIVER_ANNOTATION,
    GROUP,
    HANDLE_ANNOTATION,
    SNAPSHOT_NAME_KEYS,
    VOLUME_SNAPSHOT_CONTENTS,
    VOLUME_SNAPSHOTS,
    child,
    content_ref,
    ensure,
    first,
    meta,
    name_of,
    namespace_mapping,
    namespace_of,
    restored_content_name,
    snapshot_handle,
    snapshot_ref,
)

log = get_logger("veloro.csi.restore")


def _drop(mapping: JSONDict, keys: tuple[str, ...]) -> None:
    for key in keys:
        mapping.pop(key, None)


class PVCRestoreAction(RestoreItemActionV2):
    """See the module docstring (pure: no API calls)."""

    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=["persistentvolumeclaims"])

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        pvc = request.item
        backed_up = request.item_from_backup or pvc
        snapshot = first(child(meta(backed_up), "annotations"), SNAPSHOT_NAME_KEYS) or first(
            child(meta(backed_up), "labels"), SNAPSHOT_NAME_KEYS
        )
        if not snapshot:
            return RestoreItemActionExecuteResponse()
        metadata = ensure(pvc, "metadata")
        _drop(ensure(metadata, "annotations"), (*BINDING_ANNOTATIONS, *SNAPSHOT_NAME_KEYS))
        _drop(ensure(metadata, "labels"), SNAPSHOT_NAME_KEYS)
        spec = ensure(pvc, "spec")
        spec.pop("volumeName", None)
        where = f"{namespace_of(pvc)}/{name_of(pvc)}"
        if child(request.restore, "spec").get("restorePVs") is False:
            _drop(spec, ("dataSource", "dataSourceRef"))
            log.info("restorePVs=false: claim provisioned empty, not from its snapshot", pvc=where)
            return RestoreItemActionExecuteResponse(item=pvc)
        source = {"apiGroup": GROUP, "kind": "VolumeSnapshot", "name": snapshot}
        spec["dataSource"] = dict(source)
        spec["dataSourceRef"] = dict(source)
        log.info("claim provisioned from its CSI snapshot", pvc=where, snapshot=snapshot)
        return RestoreItemActionExecuteResponse(
            item=pvc, additional_items=[snapshot_ref(namespace_of(backed_up), snapshot)]
        )


class VolumeSnapshotRestoreAction(RestoreItemAction):
    """See the module docstring. A snapshot from a backup without its content but with Velero's handle
    and driver annotations gets a pre-provisioned content created here (as Velero does)."""

    def __init__(self, client: ClientFactory | None = None) -> None:
        self.cluster = Cluster(client)

    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=[f"{VOLUME_SNAPSHOTS}.{GROUP}"])

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        vs, restore = request.item, request.restore
        backed_up = request.item_from_backup or vs
        vs.pop("status", None)
        annotations = ensure(ensure(vs, "metadata"), "annotations")
        content = str(
            child(child(backed_up, "spec"), "source").get("volumeSnapshotContentName")
            or child(meta(backed_up), "annotations").get(CONTENT_NAME_ANNOTATION)
            or child(backed_up, "status").get("boundVolumeSnapshotContentName")
            or ""
        )
        spec = ensure(vs, "spec")
        annotations[DELETION_POLICY_ANNOTATION] = "Retain"
        if content:
            spec["source"] = {"volumeSnapshotContentName": restored_content_name(restore, content)}
            return RestoreItemActionExecuteResponse(item=vs, additional_items=[content_ref(content)])
        handle, driver = annotations.get(HANDLE_ANNOTATION), annotations.get(DRIVER_ANNOTATION)
        where = f"{namespace_of(vs)}/{name_of(vs)}"
        if not handle or not driver:
            log.warning("VolumeSnapshot has neither a content nor a snapshot handle in the backup; "
                        "not restored", snapshot=where)
            return RestoreItemActionExecuteResponse(skip_restore=True)
        name = restored_content_name(restore, f"velero-{name_of(vs)}")
        self.cluster.create(VOLUME_SNAPSHOT_CONTENTS, {
            "apiVersion": API_VERSION,
            "kind": "VolumeSnapshotContent",
            "metadata": {"name": name},
            "spec": {
                "deletionPolicy": "Retain",
                "driver": str(driver),
                "source": {"snapshotHandle": str(handle)},
                "volumeSnapshotRef": _snapshot_ref(namespace_of(vs), name_of(vs)),
            },
        })  # None (exists already) is a retried Execute: the content is the same
        spec["source"] = {"volumeSnapshotContentName": name}
        return RestoreItemActionExecuteResponse(item=vs)


def _snapshot_ref(namespace: str, name: str) -> JSONDict:
    return {"apiVersion": API_VERSION, "kind": "VolumeSnapshot", "namespace": namespace, "name": name}


class VolumeSnapshotContentRestoreAction(RestoreItemAction):
    """See the module docstring (pure: no API calls)."""

    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=[f"{VOLUME_SNAPSHOT_CONTENTS}.{GROUP}"])

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        content = request.item
        backed_up = request.item_from_backup or content
        handle = snapshot_handle(backed_up)
        ref = child(child(backed_up, "spec"), "volumeSnapshotRef")
        original = name_of(backed_up)
        if not handle or not ref.get("name") or not original:
            log.warning("VolumeSnapshotContent has no snapshot handle or snapshot reference in the backup; "
                        "not restored", content=original)
            return RestoreItemActionExecuteResponse(skip_restore=True)
        old_namespace = str(ref.get("namespace") or "")
        namespace = namespace_mapping(request.restore).get(old_namespace, old_namespace)
        content.pop("status", None)
        spec = ensure(content, "spec")
        spec["source"] = {"snapshotHandle": handle}
        spec["deletionPolicy"] = "Retain"
        spec["volumeSnapshotRef"] = _snapshot_ref(namespace, str(ref["name"]))
        ensure(content, "metadata")["name"] = restored_content_name(request.restore, original)
        return RestoreItemActionExecuteResponse(item=content)
