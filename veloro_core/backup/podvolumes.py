"""File-level (pod volume) backup inside the backup engine.

Each backed-up pod's selected volumes (opt-in annotation, or defaultVolumesToFsBackup) get a
PodVolumeBackup as soon as the pod is backed up; the node agents work while the backup goes on, and the
engine waits for all of them (bounded) before it finalises. One PodVolumeBackupper serves the whole run;
it is made on the first pod that needs it, so backups without file-level volumes cost nothing.

A PV whose claim is backed up file by file is not snapshotted natively. The PV may be backed up before
the pod that mounts it (items run concurrently, and a pod's claims may be additional items fetched at
once), so `covers` also asks the cluster: does a pod of this backup mount the claim with the volume
selected? The pods of a namespace are listed once per backup for that.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from veloro_core.api import BackupStorageLocation
from veloro_core.kube import KubeClient, KubeError
from veloro_core.podvolume import (
    PodVolumeBackupper,
    PodVolumeError,
    VolumeResult,
    choose_volumes,
    pod_volume_backups_document,
    volume_info_records,
)
from veloro_core.podvolume.objects import PODS
from veloro_core.podvolume.selection import pvc_of

Obj = dict[str, Any]
DEFAULT_SERVER_NAMESPACE = "veloro"


class PodVolumes:
    """The PodVolumeBackups of one backup: started per pod, waited for at the end (thread-safe)."""

    def __init__(
        self,
        *,
        kube: KubeClient,
        namespace: str,
        location: BackupStorageLocation | str,
        backup: Obj,
        timeout: float,
        poll: float,
        in_backup: Callable[[Obj], bool],
        warnings: Any,
        errors: Any,
        log: Any,
    ) -> None:
        self.kube = kube
        self.namespace = namespace
        self.location = location
        self.backup = backup
        self.default_to_fs = bool((backup.get("spec") or {}).get("defaultVolumesToFsBackup"))
        self.timeout = timeout
        self.poll = poll
        self.in_backup = in_backup
        self.warnings = warnings
        self.errors = errors
        self.log = log
        self.results: list[VolumeResult] = []
        self._pending: list[VolumeResult] = []
        self._backupper: PodVolumeBackupper | None = None
        self._setup_error = ""
        self._claims_by_ns: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()

    # ---------------------------------------------------------------------------------- during the run
    def on_pod(self, pod: Obj) -> None:
        """Start the PodVolumeBackups of a backed-up pod (no waiting here)."""
        choices = choose_volumes(pod, self.default_to_fs)
        if not any(c.selected or c.warn for c in choices):
            return
        meta = pod.get("metadata") or {}
        ns = str(meta.get("namespace") or "")
        where = f"{ns}/{meta.get('name')}"
        backupper = self._get_backupper()
        if backupper is None:
            self.errors.add(f"pod volume backup of pod {where} failed: {self._setup_error}", ns)
            return
        results = backupper.start_pod(pod)
        if results:
            self.log.info("pod volume backups started", pod=where, volumes=[r.volume for r in results])
        with self._lock:
            self._pending.extend(results)

    def _get_backupper(self) -> PodVolumeBackupper | None:
        with self._lock:
            if self._backupper is None and not self._setup_error:
                try:
                    self._backupper = PodVolumeBackupper(
                        self.kube, self.namespace, self.location, self.backup, timeout=self.timeout,
                        poll=self.poll)
                except (PodVolumeError, KubeError) as exc:
                    self._setup_error = f"cannot use the backup storage location for file-level backup: {exc}"
            return self._backupper

    def covers(self, pv: Obj) -> bool:
        """Whether the PV's claim is (or will be) backed up file by file in this backup."""
        spec = pv.get("spec") or {}
        claim = spec.get("claimRef") or {}
        ns, name = str(claim.get("namespace") or ""), str(claim.get("name") or "")
        if not ns or not name or spec.get("hostPath"):
            return False
        backupper = self._backupper
        if backupper is not None and (ns, name) in backupper.covered_pvcs:
            return True
        return name in self._selected_claims(ns)

    def _selected_claims(self, ns: str) -> frozenset[str]:
        """Claims of the namespace that a pod of this backup selects for file-level backup (one pod list
        per namespace and backup; only the claim names are kept)."""
        with self._lock:
            cached = self._claims_by_ns.get(ns)
        if cached is not None:
            return cached
        claims: set[str] = set()
        try:
            for pod in self.kube.list_items(PODS, ns):
                if (pod.get("metadata") or {}).get("deletionTimestamp") or not self.in_backup(pod):
                    continue
                selected = [c.name for c in choose_volumes(pod, self.default_to_fs) if c.selected]
                claims.update(pvc_of(pod, volume) for volume in selected)
        except KubeError as exc:
            self.log.warning("listing pods to find file-level volumes failed", namespace=ns, error=str(exc))
        claims.discard("")
        with self._lock:
            return self._claims_by_ns.setdefault(ns, frozenset(claims))

    # ---------------------------------------------------------------------------------- at the end
    def finish(self) -> list[VolumeResult]:
        """Wait for every started PodVolumeBackup; skips become warnings, failures errors."""
        with self._lock:
            pending, self._pending = self._pending, []
        backupper = self._backupper
        if backupper is None:
            return self.results
        if any(r.name and r.phase not in ("Completed", "Failed") for r in pending):
            self.log.info("waiting for pod volume backups", count=len(pending))
        self.results = backupper.wait(pending)
        for warning in backupper.warnings:
            self.warnings.add(warning, _namespace_of(warning))
        for result in self.results:
            where = f"{result.namespace}/{result.pod}"
            if result.ok:
                self.log.info("pod volume backed up", pod=where, volume=result.volume,
                              snapshot=result.snapshot_id)
            else:
                message = (f"pod volume backup of volume {result.volume} of pod {where} failed: "
                           f"{result.message}")
                self.errors.add(message, result.namespace)
                self.log.error(message)
        return self.results

    def document(self) -> list[Obj]:
        """`<backup>-podvolumebackups.json.gz`."""
        return pod_volume_backups_document(self.results)

    def records(self, covered_pvs: Iterable[tuple[str, str, str]]) -> list[Obj]:
        """volumeinfo records: one per PodVolumeBackup, plus one per covered PV that got none (its pod's
        volume backup could not even be created) so every backed-up PV has a record."""
        records = volume_info_records(self.results)
        recorded = {(r["pvcNamespace"], r["pvcName"]) for r in records}
        failures = {(r.namespace, r.pvc): r.message for r in self.results if r.pvc and not r.ok}
        for ns, claim, pv in covered_pvs:
            if (ns, claim) in recorded:
                continue
            reason = failures.get((ns, claim)) or "no PodVolumeBackup was made for the pod that mounts it"
            records.append({
                "pvcName": claim, "pvcNamespace": ns, "pvName": pv, "backupMethod": "PodVolumeBackup",
                "snapshotDataMoved": False, "skipped": False, "result": "failed", "message": reason,
            })
        return records


def _namespace_of(warning: str) -> str:
    """The backupper's warnings start `pod <ns>/<name>: ...`; file them under that namespace."""
    if warning.startswith("pod ") and "/" in warning:
        return warning[4:].split("/", 1)[0]
    return ""
