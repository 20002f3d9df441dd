"""File-level (pod volume) restore inside the restore engine.

A pod whose backup holds Completed PodVolumeBackups gets one PodVolumeRestore per backed-up volume right
after it is created; the node agent of the pod's node fills the volume once the kubelet has made it. The
engine does not wait pod by pod: every pod's PodVolumeRestores are started while pass 2 goes on, and the
restore waits for all of them (bounded) at its end, as Velero does. Failures are errors of the pod's
namespace, so the restore ends PartiallyFailed.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from veloro_core.api import DEFAULT_ITEM_OPERATION_TIMEOUT
from veloro_core.kube import KubeClient
from veloro_core.podvolume import PodVolumeRestorer, VolumeResult
from veloro_core.restore.logcapture import RestoreLog
from veloro_core.restore.results import Results

Obj = dict[str, Any]
DEFAULT_SERVER_NAMESPACE = "veloro"


class PodVolumeRestores:
    """The PodVolumeRestores of one restore: started per created pod, waited for at the end."""

    def __init__(
        self,
        kube: KubeClient,
        namespace: str,
        restore: Mapping[str, Any],
        pvbs: Sequence[Obj],
        *,
        timeout: float | None = None,
        poll: float = 0.5,
    ) -> None:
        self.pvbs = list(pvbs)
        self.restorer = PodVolumeRestorer(
            kube,
            namespace or str((restore.get("metadata") or {}).get("namespace") or DEFAULT_SERVER_NAMESPACE),
            restore,
            timeout=timeout if timeout is not None else DEFAULT_ITEM_OPERATION_TIMEOUT.seconds,
            poll=poll,
        )
        self._pending: list[VolumeResult] = []
        self._lock = threading.Lock()
        # (namespace in the backup, pod name): pods that may have something to restore (cheap pre-check)
        refs = [(p.get("spec") or {}).get("pod") or {} for p in self.pvbs]
        self._pods = {(str(r.get("namespace") or ""), str(r.get("name") or "")) for r in refs}

    def wanted(self, source_namespace: str, pod_name: str) -> bool:
        """Whether the backed-up pod source_namespace/pod_name has Completed pod volume backups."""
        return (source_namespace, pod_name) in self._pods

    def start(self, created_pod: Obj, log: RestoreLog) -> None:
        """Create the PodVolumeRestores of a just-created pod (no waiting here)."""
        results = self.restorer.start_pod(created_pod, self.pvbs)
        if results:
            claims = {
                str(v.get("name")): str((v.get("persistentVolumeClaim") or {}).get("claimName") or "")
                for v in (created_pod.get("spec") or {}).get("volumes") or []
            }
            for result in results:
                result.pvc = claims.get(result.volume, "")
            meta = created_pod.get("metadata") or {}
            log.info(
                "pod volume restores started",
                pod=f"{meta.get('namespace')}/{meta.get('name')}",
                volumes=[r.volume for r in results],
            )
        with self._lock:
            self._pending.extend(results)

    @property
    def started(self) -> int:
        with self._lock:
            return len(self._pending)

    def wait(self, warnings: Results, errors: Results, log: RestoreLog) -> list[VolumeResult]:
        """Wait for every started PodVolumeRestore (bounded by the timeout); failures become errors."""
        with self._lock:
            pending, self._pending = list(self._pending), []
        if not pending:
            return []
        log.info("waiting for pod volume restores", count=len(pending))
        results = self.restorer.wait(pending)
        for result in results:
            where = f"{result.namespace}/{result.pod}"
            if result.ok:
                log.info("pod volume restored", pod=where, volume=result.volume, name=result.name)
                continue
            message = f"pod volume restore of volume {result.volume} of pod {where} failed: {result.message}"
            errors.add(result.namespace, message)
            log.error(message)
        return results


def restore_volume_info(results: Sequence[VolumeResult]) -> list[Obj]:
    """`<restore>-volumeinfo.json.gz` records for file-level restores (Velero's RestoreVolumeInfo shape)."""
    records: list[Obj] = []
    for result in results:
        spec: Mapping[str, Any] = (result.obj or {}).get("spec") or {}
        records.append(
            {
                "pvcName": result.pvc,
                "pvcNamespace": result.namespace if result.pvc else "",
                "pvName": result.pv,
                "restoreMethod": "PodVolumeRestore",
                "snapshotDataMoved": False,
                "pvrInfo": {
                    "snapshotHandle": result.snapshot_id,
                    "uploaderType": str(spec.get("uploaderType") or ""),
                    "volumeName": result.volume,
                    "podName": result.pod,
                    "podNamespace": result.namespace,
                },
                **({} if result.ok else {"result": "failed", "message": result.message}),
            }
        )
    return records
