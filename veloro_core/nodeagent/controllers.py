"""The node agent's reconcilers: PodVolumeBackup and PodVolumeRestore for this node's pods.

Each object is claimed by moving it from New to InProgress with an optimistic-concurrency write (the
resourceVersion read), so an object is never worked on twice, then finished as Completed or Failed with
a message. Progress (bytes) is written at most once a second.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from veloro_core.api import format_time
from veloro_core.kube import Conflict, GroupVersionResource, KubeClient, KubeError, NotFound
from veloro_core.nodeagent.volumes import find_volume_dir
from veloro_core.podvolume.backuprepo import RepositoryManager
from veloro_core.podvolume.errors import PodVolumeError, RepositoryNotFoundError, VolumeDirNotFoundError
from veloro_core.podvolume.objects import PODS, PVBS, PVRS
from veloro_core.podvolume.restic import Restic

Obj = dict[str, Any]
log = structlog.get_logger("veloro.nodeagent")
PROGRESS_INTERVAL = 1.0
DONE_MARKER_DIR = ".veloro"  # <volume>/.veloro/<restore-uid>: "this volume is restored" (Velero: .velero)


def now() -> str:
    return format_time(datetime.now(UTC).replace(microsecond=0))


@dataclass
class AgentContext:
    kube: KubeClient
    namespace: str
    node_name: str
    pods_dir: Path
    restic: Restic
    repos: RepositoryManager


class _Progress:
    """Writes status.progress, throttled."""

    def __init__(self, ctx: AgentContext, ref: GroupVersionResource, name: str) -> None:
        self.ctx, self.ref, self.name = ctx, ref, name
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        moment = time.monotonic()
        if moment - self._last < PROGRESS_INTERVAL:
            return
        self._last = moment
        try:
            self.ctx.kube.patch_status(
                self.ref,
                self.name,
                {"status": {"progress": {"totalBytes": total, "bytesDone": done}}},
                self.ctx.namespace,
            )
        except KubeError as exc:
            log.warning("could not record progress", name=self.name, error=str(exc))


def _claim(ctx: AgentContext, ref: GroupVersionResource, obj: Obj) -> bool:
    """New -> InProgress, only if nobody changed the object since we read it."""
    body = dict(obj)
    body["status"] = {**(obj.get("status") or {}), "phase": "InProgress", "startTimestamp": now()}
    try:
        updated = ctx.kube.update_status(ref, body, ctx.namespace)
    except (Conflict, NotFound):
        return False
    obj.update(updated)
    return True


def _finish(ctx: AgentContext, ref: GroupVersionResource, name: str, status: Obj) -> None:
    status = {**status, "completionTimestamp": now()}
    ctx.kube.patch_status(ref, name, {"status": status}, ctx.namespace)
    log.info(
        "finished", kind=ref.resource, name=name, phase=status.get("phase"), message=status.get("message")
    )


def _get_pod(ctx: AgentContext, spec: Obj) -> Obj | None:
    pod_ref = spec.get("pod") or {}
    try:
        pod = ctx.kube.get(PODS, str(pod_ref.get("name") or ""), str(pod_ref.get("namespace") or ""))
    except (NotFound, ValueError):
        return None
    if pod_ref.get("uid") and pod["metadata"].get("uid") != pod_ref["uid"]:
        return None  # a newer pod of the same name: not the one this object is about
    return pod


def _unsupported_uploader(ctx: AgentContext, ref: GroupVersionResource, name: str, spec: Obj) -> bool:
    """kopia objects (Velero's default uploader) fail clearly instead of waiting for ever."""
    uploader = str(spec.get("uploaderType") or "restic")
    if uploader == "restic":
        return False
    _finish(
        ctx,
        ref,
        name,
        {
            "phase": "Failed",
            "message": (
                f"uploader type {uploader!r} is not supported by veloro's node agent; only restic is"
            ),
        },
    )
    return True


def is_mine_pvb(ctx: AgentContext, obj: Obj) -> bool:
    phase = (obj.get("status") or {}).get("phase") or "New"
    return phase == "New" and (obj.get("spec") or {}).get("node") == ctx.node_name


def reconcile_pvb(ctx: AgentContext, obj: Obj) -> None:
    """Back up one pod volume: claim, locate the directory, ensure the repository, run restic."""
    if not is_mine_pvb(ctx, obj) or not _claim(ctx, PVBS, obj):
        return
    name, spec = str(obj["metadata"]["name"]), obj.get("spec") or {}
    pod_ref = spec.get("pod") or {}
    if _unsupported_uploader(ctx, PVBS, name, spec):
        return
    try:
        pod = _get_pod(ctx, spec)
        if pod is None:
            raise PodVolumeError(
                f"pod {pod_ref.get('namespace')}/{pod_ref.get('name')} (uid {pod_ref.get('uid')}) "
                "no longer exists"
            )
        path = find_volume_dir(ctx.kube, ctx.pods_dir, pod, str(spec.get("volume") or ""))
        location, volume_ns = (
            str(spec.get("backupStorageLocation") or ""),
            str(pod_ref.get("namespace") or ""),
        )
        repo = ctx.repos.ensure(location, volume_ns)
        try:
            summary = ctx.restic.backup(repo, str(path), spec.get("tags") or {}, _Progress(ctx, PVBS, name))
        except RepositoryNotFoundError:
            ctx.repos.mark_not_ready(location, volume_ns, "the repository disappeared from the location")
            raise
    except (PodVolumeError, KubeError) as exc:
        _finish(ctx, PVBS, name, {"phase": "Failed", "message": str(exc)})
        return
    _finish(
        ctx,
        PVBS,
        name,
        {
            "phase": "Completed",
            "snapshotID": summary.snapshot_id,
            "path": str(path),
            "message": None,
            "progress": {"totalBytes": summary.total_bytes, "bytesDone": summary.total_bytes},
        },
    )


def reconcile_pvr(ctx: AgentContext, obj: Obj) -> None:
    """Restore one snapshot into a restored pod's volume, once the pod runs here and the volume exists."""
    if ((obj.get("status") or {}).get("phase") or "New") != "New":
        return
    name, spec = str(obj["metadata"]["name"]), obj.get("spec") or {}
    pod = _get_pod(ctx, spec)
    if pod is None or (pod.get("spec") or {}).get("nodeName") != ctx.node_name:
        return  # not created or not scheduled yet, or another node's: looked at again on the next pass
    try:
        path = find_volume_dir(ctx.kube, ctx.pods_dir, pod, str(spec.get("volume") or ""))
    except VolumeDirNotFoundError:
        return  # the kubelet has not set the volume up yet
    if not _claim(ctx, PVRS, obj) or _unsupported_uploader(ctx, PVRS, name, spec):
        return
    try:
        source_ns = str(spec.get("sourceNamespace") or (spec.get("pod") or {}).get("namespace") or "")
        repo = ctx.repos.open(str(spec.get("backupStorageLocation") or ""), source_ns)
        # The kubelet path may be a symlink (kubesim, some CSI drivers): restore into what it points at.
        ctx.restic.restore(repo, str(spec.get("snapshotID") or ""), str(path.resolve()))
        _mark_done(path, obj)
    except (PodVolumeError, KubeError, OSError) as exc:
        _finish(ctx, PVRS, name, {"phase": "Failed", "message": str(exc)})
        return
    size = _tree_size(path)
    _finish(
        ctx,
        PVRS,
        name,
        {"phase": "Completed", "message": None, "progress": {"totalBytes": size, "bytesDone": size}},
    )


def _mark_done(path: Path, obj: Obj) -> None:
    """The file a restore-wait init container looks for (Velero's protocol, in veloro's folder)."""
    uid = str(((obj.get("metadata") or {}).get("ownerReferences") or [{}])[0].get("uid") or "")
    if uid:
        marker = path / DONE_MARKER_DIR
        marker.mkdir(exist_ok=True)
        (marker / uid).touch()


def _tree_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for file in files:
            try:
                total += os.lstat(os.path.join(root, file)).st_size
            except OSError:
                continue
    return total


def fail_interrupted(ctx: AgentContext, obj: Obj, ref: GroupVersionResource) -> None:
    """At start: an InProgress object of this node was cut short by our own restart."""
    mine = ref == PVRS or (obj.get("spec") or {}).get("node") == ctx.node_name
    if mine and (obj.get("status") or {}).get("phase") == "InProgress":
        if ref == PVRS:
            pod = _get_pod(ctx, obj.get("spec") or {})
            if pod is None or (pod.get("spec") or {}).get("nodeName") != ctx.node_name:
                return
        _finish(
            ctx,
            ref,
            str(obj["metadata"]["name"]),
            {
                "phase": "Failed",
                "message": "the node agent restarted while this was in progress; run it again",
            },
        )
