"""BackupRepository objects: one per (location, volume namespace, restic), New -> Ready / NotReady.

`RepositoryManager.ensure()` is what the node agent calls before a backup or restore: it makes sure the
BackupRepository object exists, initialises the restic repository when the object is not Ready yet, and
records the outcome (Ready, or NotReady with the reason) on the object.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime
from typing import Any

import structlog

from veloro_core.api import (
    DEFAULT_MAINTENANCE_FREQUENCY,
    GROUP,
    VERSION,
    BackupRepository,
    BackupRepositoryPhase,
    format_time,
)
from veloro_core.kube import AlreadyExists, GroupVersionResource, KubeClient, KubeError, NotFound
from veloro_core.podvolume.credentials import CredentialFiles
from veloro_core.podvolume.errors import PodVolumeError
from veloro_core.podvolume.repository import load_bsl, repository_access, repository_identifier
from veloro_core.podvolume.restic import Restic, ResticRepo

log = structlog.get_logger("veloro.podvolume.repository")
REPOS = GroupVersionResource(GROUP, VERSION, BackupRepository.PLURAL)
REPO_TYPE = "restic"
VOLUME_NAMESPACE_LABELS = ("veloro.io/volume-namespace", "velero.io/volume-namespace")
STORAGE_LOCATION_LABELS = ("veloro.io/storage-location", "velero.io/storage-location")
REPO_TYPE_LABELS = ("veloro.io/repository-type", "velero.io/repository-type")


def _label(value: str) -> str:
    return value if len(value) <= 63 else value[:57] + hashlib.sha256(value.encode()).hexdigest()[:6]


def repository_name(volume_namespace: str, location: str) -> str:
    """Deterministic, so agents on several nodes converge on one object instead of racing to create many."""
    name = f"{volume_namespace}-{location}-{REPO_TYPE}"
    return name if len(name) <= 253 else name[:240] + "-" + hashlib.sha256(name.encode()).hexdigest()[:12]


def _now() -> str:
    return format_time(datetime.now(UTC).replace(microsecond=0))


class RepositoryManager:
    """Opens and initialises restic repositories and keeps their BackupRepository objects current."""

    def __init__(self, kube: KubeClient, namespace: str, restic: Restic, files: CredentialFiles) -> None:
        self.kube = kube
        self.namespace = namespace
        self.restic = restic
        self.files = files
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def _lock(self, location: str, volume_namespace: str) -> threading.Lock:
        # Two volumes of one namespace start together: only one may `restic init` (a second init of a
        # local repository overwrites the first one's keys).
        with self._locks_guard:
            return self._locks.setdefault((location, volume_namespace), threading.Lock())

    def open(self, location: str, volume_namespace: str) -> ResticRepo:
        """How to reach the repository (no check that it exists)."""
        return repository_access(load_bsl(self.kube, self.namespace, location), volume_namespace, self.files)

    def ensure(self, location: str, volume_namespace: str) -> ResticRepo:
        """The repository, initialised if needed; PodVolumeError (recorded as NotReady) when it cannot be."""
        with self._lock(location, volume_namespace):
            return self._ensure(location, volume_namespace)

    def _ensure(self, location: str, volume_namespace: str) -> ResticRepo:
        obj = self._get_or_create(location, volume_namespace)
        phase = (obj.get("status") or {}).get("phase")
        try:
            repo = self.open(location, volume_namespace)
            if phase != BackupRepositoryPhase.READY:
                created = self.restic.ensure(repo)
                log.info("repository ready", repository=repo.identifier, created=created)
        except PodVolumeError as exc:
            self._set_phase(obj, BackupRepositoryPhase.NOT_READY, str(exc))
            raise
        if phase != BackupRepositoryPhase.READY:
            self._set_phase(obj, BackupRepositoryPhase.READY, "")
        return repo

    def mark_not_ready(self, location: str, volume_namespace: str, message: str) -> None:
        """After a repository went missing or broke, so the next ensure() checks/initialises it again."""
        try:
            obj = self.kube.get(REPOS, repository_name(volume_namespace, location), self.namespace)
        except NotFound:
            return
        self._set_phase(obj, BackupRepositoryPhase.NOT_READY, message)

    def reconcile(self, obj: dict[str, Any]) -> None:
        """The BackupRepository controller's step: New (or NotReady) objects are checked/initialised."""
        spec = obj.get("spec") or {}
        phase = (obj.get("status") or {}).get("phase")
        if phase == BackupRepositoryPhase.READY or (spec.get("repositoryType") or REPO_TYPE) != REPO_TYPE:
            return
        location, volume_ns = (
            str(spec.get("backupStorageLocation") or ""),
            str(spec.get("volumeNamespace") or ""),
        )
        try:
            repo = self.open(location, volume_ns)
            with self._lock(location, volume_ns):
                self.restic.ensure(repo)
        except PodVolumeError as exc:
            if phase != BackupRepositoryPhase.NOT_READY or (obj.get("status") or {}).get("message") != str(
                exc
            ):
                self._set_phase(obj, BackupRepositoryPhase.NOT_READY, str(exc))
            return
        self._set_phase(obj, BackupRepositoryPhase.READY, "")

    # ---- objects --------------------------------------------------------------------------------
    def _get_or_create(self, location: str, volume_namespace: str) -> dict[str, Any]:
        name = repository_name(volume_namespace, location)
        try:
            return self.kube.get(REPOS, name, self.namespace)
        except NotFound:
            pass
        body = self.new_object(location, volume_namespace)
        try:
            return self.kube.create(REPOS, body, self.namespace)
        except AlreadyExists:
            return self.kube.get(REPOS, name, self.namespace)

    def new_object(self, location: str, volume_namespace: str) -> dict[str, Any]:
        try:
            identifier = repository_identifier(
                load_bsl(self.kube, self.namespace, location), volume_namespace
            )
        except PodVolumeError:
            identifier = ""  # recorded as NotReady by ensure(), with the reason
        labels: dict[str, str] = {}
        for names, value in (
            (VOLUME_NAMESPACE_LABELS, volume_namespace),
            (STORAGE_LOCATION_LABELS, location),
            (REPO_TYPE_LABELS, REPO_TYPE),
        ):
            labels.update({n: _label(value) for n in names})
        return {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": BackupRepository.KIND,
            "metadata": {
                "name": repository_name(volume_namespace, location),
                "namespace": self.namespace,
                "labels": labels,
            },
            "spec": {
                "volumeNamespace": volume_namespace,
                "backupStorageLocation": location,
                "repositoryType": REPO_TYPE,
                "resticIdentifier": identifier,
                "maintenanceFrequency": str(DEFAULT_MAINTENANCE_FREQUENCY),
            },
        }

    def _set_phase(self, obj: dict[str, Any], phase: BackupRepositoryPhase, message: str) -> None:
        status: dict[str, Any] = {"phase": str(phase), "message": message or None}
        name = str(obj["metadata"]["name"])
        try:
            self.kube.patch_status(REPOS, name, {"status": status}, self.namespace)
        except KubeError as exc:
            log.warning("could not update backup repository status", repository=name, error=str(exc))
        obj["status"] = {**(obj.get("status") or {}), **status}
