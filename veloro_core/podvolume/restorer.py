"""The restore engine's side of file-level volume restore: PodVolumeRestore objects per restored pod.

    restorer = PodVolumeRestorer(kube, "veloro", restore)            # one per Restore run
    pvbs = store.get_pod_volume_backups(backup_name) or []           # the backup's PodVolumeBackups
    results = restorer.restore_pod(created_pod, pvbs)                # create + wait (bounded)

`created_pod` is the pod as the API server returned it on create (its uid is how the node agent finds the
new pod's volume directories). The node agent waits until the pod is scheduled on its node and the volume
directory exists, then restores the snapshot into it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import structlog

from veloro_core.api import DEFAULT_ITEM_OPERATION_TIMEOUT, PodVolumeRestore
from veloro_core.kube import KubeClient, KubeError
from veloro_core.podvolume.objects import (
    POD_UID,
    PVRS,
    RESTORE_NAME,
    RESTORE_UID,
    UPLOADER_TYPE,
    Obj,
    VolumeResult,
    labels,
    owner_reference,
    owner_selector,
    wait_results,
)

log = structlog.get_logger("veloro.podvolume.restore")


def snapshots_for_pod(pvbs: Iterable[Mapping[str, Any]], namespace: str, pod_name: str) -> dict[str, Obj]:
    """The Completed PodVolumeBackups (with a snapshot) of the backed-up pod namespace/pod_name, by volume."""
    out: dict[str, Obj] = {}
    for pvb in pvbs:
        spec, status = pvb.get("spec") or {}, pvb.get("status") or {}
        pod = spec.get("pod") or {}
        if pod.get("namespace") != namespace or pod.get("name") != pod_name:
            continue
        if status.get("phase") == "Completed" and status.get("snapshotID") and spec.get("volume"):
            out[str(spec["volume"])] = dict(pvb)
    return out


class PodVolumeRestorer:
    """Creates and waits for the PodVolumeRestores of one Restore."""

    def __init__(
        self,
        kube: KubeClient,
        namespace: str,
        restore: Mapping[str, Any],
        *,
        timeout: float | None = None,
        poll: float = 0.5,
    ) -> None:
        self.kube = kube
        self.namespace = namespace
        self.restore = restore
        meta = restore.get("metadata") or {}
        self.restore_name = str(meta.get("name") or "")
        self.restore_uid = str(meta.get("uid") or "")
        self.mapping: dict[str, str] = dict((restore.get("spec") or {}).get("namespaceMapping") or {})
        self.timeout = timeout if timeout is not None else DEFAULT_ITEM_OPERATION_TIMEOUT.seconds
        self.poll = poll

    def source_namespaces(self, target: str) -> list[str]:
        """The backed-up namespaces that restore into `target` (namespaceMapping reversed)."""
        sources = [src for src, dst in self.mapping.items() if dst == target]
        if target not in self.mapping:
            sources.append(target)
        return sources

    def start_pod(self, pod: Mapping[str, Any], pvbs: Iterable[Mapping[str, Any]]) -> list[VolumeResult]:
        meta = pod.get("metadata") or {}
        ns, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        pvb_list = list(pvbs)
        volumes = {str(v.get("name")) for v in (pod.get("spec") or {}).get("volumes") or []}
        results: list[VolumeResult] = []
        for source in self.source_namespaces(ns):
            for volume, pvb in snapshots_for_pod(pvb_list, source, name).items():
                if volume not in volumes:
                    log.warning("restored pod lacks a backed-up volume", pod=f"{ns}/{name}", volume=volume)
                    continue
                results.append(self._create(pod, pvb, source))
        return results

    def _create(self, pod: Mapping[str, Any], pvb: Mapping[str, Any], source: str) -> VolumeResult:
        meta = pod.get("metadata") or {}
        ns, name, uid = str(meta.get("namespace")), str(meta.get("name")), str(meta.get("uid") or "")
        spec, status = pvb.get("spec") or {}, pvb.get("status") or {}
        volume, snapshot = str(spec.get("volume")), str(status.get("snapshotID"))
        result = VolumeResult(ns, name, volume, snapshot_id=snapshot)
        body = {
            "apiVersion": PVRS.api_version,
            "kind": PodVolumeRestore.KIND,
            "metadata": {
                "generateName": f"{self.restore_name}-",
                "namespace": self.namespace,
                "labels": labels(
                    (RESTORE_NAME, self.restore_name), (RESTORE_UID, self.restore_uid), (POD_UID, uid)
                ),
                "ownerReferences": owner_reference("Restore", self.restore),
            },
            "spec": {
                "pod": {"kind": "Pod", "namespace": ns, "name": name, "uid": uid},
                "volume": volume,
                "backupStorageLocation": str(spec.get("backupStorageLocation") or ""),
                "repoIdentifier": str(spec.get("repoIdentifier") or ""),
                "uploaderType": str(spec.get("uploaderType") or UPLOADER_TYPE),
                "snapshotID": snapshot,
                "sourceNamespace": source,
            },
        }
        try:
            created = self.kube.create(PVRS, body, self.namespace)
        except KubeError as exc:
            result.phase, result.message = "Failed", f"could not create the PodVolumeRestore: {exc}"
            return result
        result.name, result.phase, result.obj = str(created["metadata"]["name"]), "New", created
        log.info("pod volume restore created", name=result.name, pod=f"{ns}/{name}", volume=volume)
        return result

    def wait(self, results: Sequence[VolumeResult]) -> list[VolumeResult]:
        selector = owner_selector((RESTORE_UID, self.restore_uid), (RESTORE_NAME, self.restore_name))
        return wait_results(
            self.kube, PVRS, "PodVolumeRestore", self.namespace, results, selector, self.timeout, self.poll
        )

    def restore_pod(self, pod: Mapping[str, Any], pvbs: Iterable[Mapping[str, Any]]) -> list[VolumeResult]:
        return self.wait(self.start_pod(pod, pvbs))
