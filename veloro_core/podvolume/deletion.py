"""Removing a deleted backup's volume data: `restic forget --prune` of its snapshots, per repository."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import structlog

from veloro_core.kube import KubeClient
from veloro_core.podvolume.credentials import CredentialFiles
from veloro_core.podvolume.errors import PodVolumeError
from veloro_core.podvolume.repository import load_bsl, repository_access
from veloro_core.podvolume.restic import Restic

log = structlog.get_logger("veloro.podvolume.deletion")


def forget_snapshots(
    kube: KubeClient,
    namespace: str,
    pvbs: Iterable[Mapping[str, Any]],
    restic: Restic | None = None,
    files: CredentialFiles | None = None,
) -> list[str]:
    """Forget and prune the snapshots of `pvbs` (the backup's PodVolumeBackups, from the cluster or from
    `<name>-podvolumebackups.json.gz`). Returns one error message per repository that failed; an empty
    list means every snapshot is gone. Repositories are pruned once each, not once per snapshot."""
    restic = restic or Restic()
    own_files = files is None
    files = files or CredentialFiles(kube, namespace)
    groups: dict[tuple[str, str], list[str]] = {}
    for pvb in pvbs:
        spec, status = pvb.get("spec") or {}, pvb.get("status") or {}
        snapshot = str(status.get("snapshotID") or "")
        pod_ns = str((spec.get("pod") or {}).get("namespace") or "")
        if snapshot and pod_ns:
            groups.setdefault((str(spec.get("backupStorageLocation") or ""), pod_ns), []).append(snapshot)
    errors: list[str] = []
    try:
        for (location, volume_ns), snapshots in sorted(groups.items()):
            try:
                repo = repository_access(load_bsl(kube, namespace, location), volume_ns, files)
                restic.forget(repo, sorted(set(snapshots)), prune=True)
                log.info(
                    "pod volume snapshots forgotten",
                    location=location,
                    namespace=volume_ns,
                    snapshots=len(snapshots),
                )
            except PodVolumeError as exc:
                errors.append(
                    f"deleting pod volume snapshots of namespace {volume_ns} in location {location}: {exc}"
                )
    finally:
        if own_files:
            files.close()
    return errors
