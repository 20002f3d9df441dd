"""Backup item actions of the CSI plugin.

- veloro.io/csi-pvc-backupper (v2, PVCs): takes a VolumeSnapshot of a CSI volume and returns an operation
  whose Progress reports when the snapshot is readyToUse (or failed, or csiSnapshotTimeout passed).
- veloro.io/csi-volumesnapshot-backupper (VolumeSnapshots): for a snapshot this backup created, waits
  until the driver has cut it (a content with a snapshot handle), makes the content Retain so deleting the
  snapshot or its namespace cannot delete the data, records handle/driver/size on the VolumeSnapshot and
  adds its content and class to the backup.
- veloro.io/csi-volumesnapshotcontent-backupper (contents): deletionPolicy Retain in the backed-up copy,
  the handle recorded, the class added.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from veloro_sdk.contracts import (
    BackupItemAction,
    BackupItemActionExecuteRequest,
    BackupItemActionExecuteResponse,
    BackupItemActionV2,
    JSONDict,
    OperationProgress,
    ResourceIdentifier,
    ResourceSelector,
)
from veloro_sdk.serve import get_logger

from veloro_plugins.csi.cluster import ClientFactory, Cluster, CSIError, poll
from veloro_plugins.csi.objects import (
    API_VERSION,
    BACKUP_NAME_LABELS,
    CONTENT_NAME_ANNOTATION,
    DELETION_POLICY_ANNOTATION,
    DRIVER_ANNOTATION,
    HANDLE_ANNOTATION,
    RESTORE_SIZE_ANNOTATION,
    SNAPSHOT_NAME_KEYS,
    VOLUME_SNAPSHOT_CONTENTS,
    VOLUME_SNAPSHOTS,
    child,
    class_ref,
    content_ref,
    created_by_backup,
    ensure,
    error_message,
    name_of,
    namespace_of,
    snapshot_handle,
    snapshot_name,
    snapshot_ref,
    valid_label_value,
)
from veloro_plugins.csi.selection import ClaimLookups, names_a_class

log = get_logger("veloro.csi.backup")
DEFAULT_CSI_SNAPSHOT_TIMEOUT = 600.0
# A synchronous wait must end before the host's per-call timeout (300 s by default) kills the plugin;
# longer waits happen in Progress, which has no such limit.
MAX_HANDLE_WAIT = 240.0
# Claims of one batch snapshotted at once (each a VolumeSnapshot create; the client pool holds 32).
BATCH_WORKERS = 8


def csi_snapshot_timeout(backup: JSONDict) -> float:
    """spec.csiSnapshotTimeout in seconds (a Go duration such as "10m0s"; 10 minutes when unset)."""
    raw = child(backup, "spec").get("csiSnapshotTimeout")
    if not raw:
        return DEFAULT_CSI_SNAPSHOT_TIMEOUT
    from veloro_core.api.duration import DurationError, parse_duration

    try:
        seconds = parse_duration(str(raw)).total_seconds()
    except DurationError as exc:
        raise CSIError(f"backup {name_of(backup)!r} has an invalid csiSnapshotTimeout: {exc}") from exc
    return seconds if seconds > 0 else DEFAULT_CSI_SNAPSHOT_TIMEOUT


class PVCBackupAction(BackupItemActionV2):
    """Snapshot a CSI-provisioned, bound PVC through a VolumeSnapshot (see the module docstring).

    The checks run cheapest first, and the cluster reads they need are made once per backup (ClaimLookups):
    a claim that is not snapshotted costs no API call, one that is costs one (the create)."""

    def __init__(self, client: ClientFactory | None = None) -> None:
        self.cluster = Cluster(client)
        self.lookups = ClaimLookups(self.cluster)

    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=["persistentvolumeclaims"])

    def execute(self, request: BackupItemActionExecuteRequest) -> BackupItemActionExecuteResponse:
        if not self._may_snapshot(request):
            return BackupItemActionExecuteResponse()
        return self._snapshot(request)

    def execute_batch(
        self, requests: list[BackupItemActionExecuteRequest]
    ) -> list[BackupItemActionExecuteResponse | Exception]:
        """The checks without API calls first, item by item; the claims that pass go on in parallel
        (BATCH_WORKERS threads), since each costs API round trips (the create) that would otherwise queue."""
        results: list[BackupItemActionExecuteResponse | Exception] = [
            BackupItemActionExecuteResponse() for _ in requests
        ]
        wanted = [i for i, request in enumerate(requests) if self._may_snapshot(request)]

        def one(i: int) -> BackupItemActionExecuteResponse | Exception:
            try:
                return self._snapshot(requests[i])
            except Exception as exc:  # that claim failed, not the batch
                return exc

        if len(wanted) > 1:
            with ThreadPoolExecutor(min(BATCH_WORKERS, len(wanted)), thread_name_prefix="csi-pvc") as pool:
                outcomes = list(pool.map(one, wanted))
        else:
            outcomes = [one(i) for i in wanted]
        for i, outcome in zip(wanted, outcomes, strict=True):
            results[i] = outcome
        return results

    def _may_snapshot(self, request: BackupItemActionExecuteRequest) -> bool:
        """The checks that need no API call: snapshotVolumes not false, the claim bound."""
        pvc, backup = request.item, request.backup
        where = f"{namespace_of(pvc)}/{name_of(pvc)}"
        if child(backup, "spec").get("snapshotVolumes") is False:
            log.info("snapshotVolumes=false; no CSI snapshot", pvc=where)
            return False
        if child(pvc, "status").get("phase") != "Bound" or not child(pvc, "spec").get("volumeName"):
            log.info("PVC is not bound; no CSI snapshot", pvc=where)
            return False
        return True

    def _snapshot(self, request: BackupItemActionExecuteRequest) -> BackupItemActionExecuteResponse:
        """A bound claim: snapshot it when the remaining rules say so (reads cached per backup)."""
        pvc, backup = request.item, request.backup
        where = f"{namespace_of(pvc)}/{name_of(pvc)}"
        volume = child(pvc, "spec").get("volumeName")
        if not self.lookups.classes(backup) and not names_a_class(pvc, backup):
            log.info("no VolumeSnapshotClass in the cluster; no CSI snapshot", pvc=where)
            return BackupItemActionExecuteResponse()
        driver = self.lookups.volume_driver(backup, str(volume))
        if not driver:
            log.info("volume is not provisioned by a CSI driver; no CSI snapshot", pvc=where, pv=volume)
            return BackupItemActionExecuteResponse()
        pod = self.lookups.fs_backup_pod(pvc, backup)
        if pod:
            log.info("volume is backed up file by file; no CSI snapshot", pvc=where, pod=pod)
            return BackupItemActionExecuteResponse()
        cls = self.lookups.snapshot_class(driver, pvc, backup)
        if cls is None:
            log.warning("no VolumeSnapshotClass for the volume's CSI driver; no CSI snapshot",
                        pvc=where, driver=driver)
            return BackupItemActionExecuteResponse()
        vs = self._create_snapshot(pvc, backup, name_of(cls))
        name = name_of(vs)
        labels = ensure(ensure(pvc, "metadata"), "labels")
        annotations = ensure(pvc["metadata"], "annotations")
        for key in SNAPSHOT_NAME_KEYS:
            labels[key] = name
            annotations[key] = name
        started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        log.info("VolumeSnapshot created", pvc=where, snapshot=name, snapshotClass=name_of(cls))
        ref = snapshot_ref(namespace_of(pvc), name)
        return BackupItemActionExecuteResponse(
            item=pvc, additional_items=[ref], operation_id=f"{namespace_of(pvc)}/{name}/{started}",
            post_operation_items=[ref],
        )

    def _create_snapshot(self, pvc: JSONDict, backup: JSONDict, class_name: str) -> JSONDict:
        name, namespace = snapshot_name(pvc, backup), namespace_of(pvc)
        label = valid_label_value(name_of(backup))
        vs: JSONDict = {
            "apiVersion": API_VERSION,
            "kind": "VolumeSnapshot",
            "metadata": {"name": name, "namespace": namespace,
                         "labels": dict.fromkeys(BACKUP_NAME_LABELS, label)},
            "spec": {"source": {"persistentVolumeClaimName": name_of(pvc)},
                     "volumeSnapshotClassName": class_name},
        }
        created = self.cluster.create(VOLUME_SNAPSHOTS, vs)
        if created is not None:
            return created
        existing = self.cluster.get(VOLUME_SNAPSHOTS, name, namespace)
        if existing is not None and created_by_backup(existing, backup):
            return existing  # this Execute was retried: keep the snapshot the first attempt took
        raise CSIError(
            f"VolumeSnapshot {namespace}/{name} exists already and was not created by backup "
            f"{name_of(backup)!r}; delete it or rename the PVC"
        )

    def progress(self, operation_id: str, backup: JSONDict) -> OperationProgress:
        namespace, name, started = _parse_operation(operation_id)
        now = datetime.now(UTC)
        progress = OperationProgress(n_total=1, operation_units="snapshots", started=started, updated=now)
        vs = self.cluster.get(VOLUME_SNAPSHOTS, name, namespace)
        if vs is None:
            progress.err = f"VolumeSnapshot {namespace}/{name} was deleted before it became ready"
            return progress
        content_name = str(child(vs, "status").get("boundVolumeSnapshotContentName") or "")
        content = self.cluster.get(VOLUME_SNAPSHOT_CONTENTS, content_name) if content_name else None
        failure = error_message(vs) or error_message(content or {})
        if failure:
            progress.err = f"CSI snapshot {namespace}/{name} failed: {failure}"
            return progress
        if child(vs, "status").get("readyToUse") is True and (
            content is None or child(content, "status").get("readyToUse") is True
        ):
            progress.completed, progress.n_completed = True, 1
            progress.description = (f"VolumeSnapshot {namespace}/{name} is ready "
                                    f"(content {content_name}, handle {snapshot_handle(content or {})})")
            return progress
        timeout = csi_snapshot_timeout(backup)
        if (now - started).total_seconds() > timeout:
            progress.err = (f"VolumeSnapshot {namespace}/{name} was not ready within csiSnapshotTimeout "
                            f"({timeout:g}s); check the CSI driver's snapshotter, or raise the timeout")
            return progress
        progress.description = f"waiting for VolumeSnapshot {namespace}/{name} to become readyToUse"
        return progress

    def cancel(self, operation_id: str, backup: JSONDict) -> None:
        """A cancelled (timed-out) snapshot is deleted if this backup created it, so it does not linger."""
        namespace, name, _ = _parse_operation(operation_id)
        vs = self.cluster.get(VOLUME_SNAPSHOTS, name, namespace)
        if vs is not None and created_by_backup(vs, backup):
            self.cluster.delete(VOLUME_SNAPSHOTS, name, namespace)
            log.info("VolumeSnapshot of a cancelled operation deleted", snapshot=f"{namespace}/{name}")


def _parse_operation(operation_id: str) -> tuple[str, str, datetime]:
    """`<namespace>/<snapshot>/<RFC 3339 start>`: the state lives in the id, so Progress works in a
    restarted plugin process."""
    parts = operation_id.split("/")
    try:
        if len(parts) != 3 or not all(parts):
            raise ValueError("expected three parts")
        started = datetime.strptime(parts[2], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError as exc:
        raise CSIError(
            f"operation id {operation_id!r} is not one of this plugin's ('<namespace>/<snapshot>/<time>')"
        ) from exc
    return parts[0], parts[1], started


class VolumeSnapshotBackupAction(BackupItemAction):
    """See the module docstring. Snapshots this backup did not create are recorded as they are."""

    def __init__(self, client: ClientFactory | None = None) -> None:
        self.cluster = Cluster(client)

    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=[f"{VOLUME_SNAPSHOTS}.snapshot.storage.k8s.io"])

    def execute(self, request: BackupItemActionExecuteRequest) -> BackupItemActionExecuteResponse:
        vs, backup = request.item, request.backup
        ours = created_by_backup(vs, backup)
        content: JSONDict | None
        if ours:
            vs, content = self._wait_for_content(vs, backup)  # the snapshot with its status once cut
        else:
            content = self._current_content(vs)
        extra: list[ResourceIdentifier] = []
        class_name = child(vs, "spec").get("volumeSnapshotClassName")
        if class_name:
            extra.append(class_ref(str(class_name)))
        if content is None:
            return BackupItemActionExecuteResponse(item=vs, additional_items=extra)
        annotations = ensure(ensure(vs, "metadata"), "annotations")
        annotations[CONTENT_NAME_ANNOTATION] = name_of(content)
        annotations[DELETION_POLICY_ANNOTATION] = str(child(content, "spec").get("deletionPolicy") or "")
        handle = snapshot_handle(content)
        if handle:
            annotations[HANDLE_ANNOTATION] = handle
            annotations[DRIVER_ANNOTATION] = str(child(content, "spec").get("driver") or "")
        size = child(content, "status").get("restoreSize")
        if size is not None:
            annotations[RESTORE_SIZE_ANNOTATION] = str(size)
        if ours:
            self._retain(content, backup)
        extra.append(content_ref(name_of(content)))
        return BackupItemActionExecuteResponse(item=vs, additional_items=extra)

    def _current_content(self, vs: JSONDict) -> JSONDict | None:
        name = child(vs, "status").get("boundVolumeSnapshotContentName")
        return self.cluster.get(VOLUME_SNAPSHOT_CONTENTS, str(name)) if name else None

    def _wait_for_content(self, vs: JSONDict, backup: JSONDict) -> tuple[JSONDict, JSONDict]:
        """The snapshot as last read and its content, once the content has a handle (the driver cut the
        snapshot); readiness of the data itself is the PVC action's Progress business."""
        namespace, name = namespace_of(vs), name_of(vs)
        last: list[JSONDict] = [vs]

        def cut() -> JSONDict | None:
            current = self.cluster.get(VOLUME_SNAPSHOTS, name, namespace)
            if current is None:
                raise CSIError(f"VolumeSnapshot {namespace}/{name} was deleted while being backed up")
            failure = error_message(current)
            if failure:
                raise CSIError(f"CSI snapshot {namespace}/{name} failed: {failure}")
            last[0] = current
            content = self._current_content(current)
            if content is not None and error_message(content):
                raise CSIError(f"CSI snapshot {namespace}/{name} failed: {error_message(content)}")
            return content if content is not None and snapshot_handle(content) else None

        timeout = min(csi_snapshot_timeout(backup), MAX_HANDLE_WAIT)
        began = time.monotonic()
        content = poll(cut, timeout)
        if content is None:
            raise CSIError(
                f"VolumeSnapshot {namespace}/{name} got no snapshot handle within {timeout:g}s; check the "
                "CSI driver's snapshotter (and csiSnapshotTimeout)"
            )
        log.info("VolumeSnapshot cut", snapshot=f"{namespace}/{name}", content=name_of(content),
                 waited=round(time.monotonic() - began, 3))
        return last[0], content

    def _retain(self, content: JSONDict, backup: JSONDict) -> None:
        """The live content belongs to the backup from now on: Retain (deleting the VolumeSnapshot, e.g. with
        its namespace, must not delete the data) and labelled, so deleting the backup can find it."""
        label = valid_label_value(name_of(backup))
        patch: JSONDict = {"metadata": {"labels": dict.fromkeys(BACKUP_NAME_LABELS, label)},
                           "spec": {"deletionPolicy": "Retain"}}
        if self.cluster.patch(VOLUME_SNAPSHOT_CONTENTS, name_of(content), patch) is None:
            raise CSIError(f"VolumeSnapshotContent {name_of(content)} disappeared while being backed up")


class VolumeSnapshotContentBackupAction(BackupItemAction):
    """See the module docstring (pure: no API calls)."""

    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=[f"{VOLUME_SNAPSHOT_CONTENTS}.snapshot.storage.k8s.io"])

    def execute(self, request: BackupItemActionExecuteRequest) -> BackupItemActionExecuteResponse:
        content = request.item
        spec = ensure(content, "spec")
        annotations = ensure(ensure(content, "metadata"), "annotations")
        spec["deletionPolicy"] = "Retain"
        handle = snapshot_handle(content)
        if handle:
            annotations[HANDLE_ANNOTATION] = handle
        extra = []
        if spec.get("volumeSnapshotClassName"):
            extra.append(class_ref(str(spec["volumeSnapshotClassName"])))
        return BackupItemActionExecuteResponse(item=content, additional_items=extra)
