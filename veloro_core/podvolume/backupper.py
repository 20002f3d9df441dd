"""The backup engine's side of file-level volume backup: PodVolumeBackup objects per pod, and the wait.

    backupper = PodVolumeBackupper(kube, "veloro", bsl, backup)      # one per Backup run
    results = backupper.backup_pod(pod)                              # create + wait (bounded)
    # or, to overlap pods: pending = backupper.start_pod(pod) ... backupper.wait(pending)

The node agent of the pod's node does the work (veloro_core.nodeagent). A result per selected volume says
Completed (with the snapshot id) or Failed (with the reason); volumes the rules skipped with a user-visible
reason are in `backupper.warnings`. PVCs backed up here are in `backupper.covered_pvcs`: the engine must
not also snapshot their PVs natively.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import structlog

from veloro_core.api import DEFAULT_ITEM_OPERATION_TIMEOUT, BackupStorageLocation, PodVolumeBackup
from veloro_core.kube import KubeClient, KubeError, NotFound
from veloro_core.podvolume.errors import PodVolumeError
from veloro_core.podvolume.objects import (
    BACKUP_NAME,
    BACKUP_UID,
    PVBS,
    PVC_UID,
    PVCS,
    PVS,
    UPLOADER_TYPE,
    Obj,
    VolumeResult,
    labels,
    owner_reference,
    owner_selector,
    wait_results,
)
from veloro_core.podvolume.repository import load_bsl, repository_identifier
from veloro_core.podvolume.selection import choose_volumes, pvc_of

log = structlog.get_logger("veloro.podvolume.backup")


class PodVolumeBackupper:
    """Creates and waits for the PodVolumeBackups of one Backup (thread-safe: pods may run in parallel)."""

    def __init__(
        self,
        kube: KubeClient,
        namespace: str,
        bsl: BackupStorageLocation | str,
        backup: Mapping[str, Any],
        *,
        timeout: float | None = None,
        poll: float = 0.5,
    ) -> None:
        self.kube = kube
        self.namespace = namespace
        self.bsl = bsl if isinstance(bsl, BackupStorageLocation) else load_bsl(kube, namespace, bsl)
        self.backup = backup
        meta = backup.get("metadata") or {}
        self.backup_name = str(meta.get("name") or "")
        self.backup_uid = str(meta.get("uid") or "")
        spec = backup.get("spec") or {}
        self.default_to_fs = bool(spec.get("defaultVolumesToFsBackup"))
        self.timeout = timeout if timeout is not None else DEFAULT_ITEM_OPERATION_TIMEOUT.seconds
        self.poll = poll
        self.warnings: list[str] = []
        self.covered_pvcs: set[tuple[str, str]] = set()  # (namespace, claim) backed up file by file
        self._lock = threading.Lock()

    # ---- create ---------------------------------------------------------------------------------
    def start_pod(self, pod: Mapping[str, Any]) -> list[VolumeResult]:
        """Create a PodVolumeBackup per selected volume; results are New (created) or Failed (not created)."""
        meta = pod.get("metadata") or {}
        ns, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        choices = choose_volumes(pod, self.default_to_fs)
        for choice in choices:
            if not choice.selected and choice.warn:
                self._warn(f"pod {ns}/{name}: volume {choice.name} is not backed up: {choice.reason}")
        selected = [c.name for c in choices if c.selected]
        if not selected:
            return []
        problem = self._pod_problem(pod)
        if problem:
            return [
                VolumeResult(ns, name, v, phase="Failed", message=problem, pvc=pvc_of(pod, v))
                for v in selected
            ]
        results: list[VolumeResult] = []
        for volume in selected:
            result = self._start_volume(pod, ns, name, volume)
            if result is not None:
                results.append(result)
        return results

    def _pod_problem(self, pod: Mapping[str, Any]) -> str:
        meta = pod.get("metadata") or {}
        ref = f"{meta.get('namespace')}/{meta.get('name')}"
        if not (pod.get("spec") or {}).get("nodeName"):
            return (
                f"pod {ref} is not scheduled on a node (no spec.nodeName), so no node agent can read its "
                "volumes; back it up once it runs"
            )
        phase = (pod.get("status") or {}).get("phase")
        if phase != "Running":
            return (
                f"pod {ref} is not running (phase {phase or 'unknown'}); its volumes are only readable "
                "while it runs"
            )
        try:
            repository_identifier(self.bsl, str(meta.get("namespace") or ""))
        except PodVolumeError as exc:
            return str(exc)
        return ""

    def _start_volume(self, pod: Mapping[str, Any], ns: str, name: str, volume: str) -> VolumeResult | None:
        result = VolumeResult(ns, name, volume, pvc=pvc_of(pod, volume))
        pvc_uid = ""
        if result.pvc:
            pvc = self._get(PVCS, result.pvc, ns)
            pvc_uid = str(((pvc or {}).get("metadata") or {}).get("uid") or "")
            result.pv = str(((pvc or {}).get("spec") or {}).get("volumeName") or "")
            pv = self._get(PVS, result.pv) if result.pv else None
            if pv is not None and (pv.get("spec") or {}).get("hostPath"):
                self._warn(
                    f"pod {ns}/{name}: volume {volume} is a hostPath PersistentVolume ({result.pv}), "
                    "which file-level backup does not support; it is not backed up"
                )
                return None
            with self._lock:
                if (ns, result.pvc) in self.covered_pvcs:
                    log.info("pvc already backed up by another pod", pvc=result.pvc, namespace=ns)
                    return None
                self.covered_pvcs.add((ns, result.pvc))
        body = self._object(pod, volume, pvc_uid)
        try:
            created = self.kube.create(PVBS, body, self.namespace)
        except KubeError as exc:
            result.phase, result.message = "Failed", f"could not create the PodVolumeBackup: {exc}"
            return result
        result.name, result.phase, result.obj = str(created["metadata"]["name"]), "New", created
        log.info("pod volume backup created", name=result.name, pod=f"{ns}/{name}", volume=volume)
        return result

    def _object(self, pod: Mapping[str, Any], volume: str, pvc_uid: str) -> Obj:
        meta = pod.get("metadata") or {}
        ns, name, uid = str(meta.get("namespace")), str(meta.get("name")), str(meta.get("uid") or "")
        tags = {
            "backup": self.backup_name,
            "backup-uid": self.backup_uid,
            "pod": name,
            "pod-uid": uid,
            "ns": ns,
            "volume": volume,
        }
        if pvc_uid:
            tags["pvc-uid"] = pvc_uid
        return {
            "apiVersion": PVBS.api_version,
            "kind": PodVolumeBackup.KIND,
            "metadata": {
                "generateName": f"{self.backup_name}-",
                "namespace": self.namespace,
                "labels": labels(
                    (BACKUP_NAME, self.backup_name), (BACKUP_UID, self.backup_uid), (PVC_UID, pvc_uid)
                ),
                "ownerReferences": owner_reference("Backup", self.backup),
            },
            "spec": {
                "node": str((pod.get("spec") or {}).get("nodeName") or ""),
                "pod": {"kind": "Pod", "namespace": ns, "name": name, "uid": uid},
                "volume": volume,
                "backupStorageLocation": self.bsl.name,
                "repoIdentifier": repository_identifier(self.bsl, ns),
                "uploaderType": UPLOADER_TYPE,
                "tags": tags,
            },
        }

    # ---- wait -----------------------------------------------------------------------------------
    def wait(self, results: Sequence[VolumeResult]) -> list[VolumeResult]:
        """Wait (at most the timeout) for the created ones; fills phase, snapshot id, message and obj."""
        selector = owner_selector((BACKUP_UID, self.backup_uid), (BACKUP_NAME, self.backup_name))
        return wait_results(
            self.kube,
            PVBS,
            "PodVolumeBackup",
            self.namespace,
            results,
            selector,
            self.timeout,
            self.poll,
            snapshot_ids=True,
        )

    def backup_pod(self, pod: Mapping[str, Any]) -> list[VolumeResult]:
        return self.wait(self.start_pod(pod))

    # ---- helpers --------------------------------------------------------------------------------
    def _get(self, ref: Any, name: str, namespace: str | None = None) -> Obj | None:
        try:
            return self.kube.get(ref, name, namespace)
        except NotFound:
            return None
        except KubeError as exc:
            log.warning("lookup failed", resource=str(ref), name=name, error=str(exc))
            return None

    def _warn(self, message: str) -> None:
        with self._lock:
            self.warnings.append(message)
        log.warning(message)
