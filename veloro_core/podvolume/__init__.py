"""File-level (pod volume) backup with restic: selection rules, repositories, and the engine-facing API.

Engines:
    PodVolumeBackupper(kube, namespace, bsl, backup).backup_pod(pod) -> list[VolumeResult]
    PodVolumeRestorer(kube, namespace, restore).restore_pod(created_pod, pvbs) -> list[VolumeResult]
    pod_volume_backups_document(results) / volume_info_records(results)   -> what the backup stores
    forget_snapshots(kube, namespace, pvbs)                              -> backup deletion
The node agent (veloro_core.nodeagent) does the restic work on each node. See docs/file-system-backup.md.
"""

from veloro_core.podvolume.backupper import PodVolumeBackupper
from veloro_core.podvolume.backuprepo import RepositoryManager, repository_name
from veloro_core.podvolume.credentials import (
    DEFAULT_REPO_PASSWORD,
    REPO_PASSWORD_KEY,
    REPO_PASSWORD_SECRET,
    CredentialFiles,
)
from veloro_core.podvolume.deletion import forget_snapshots
from veloro_core.podvolume.errors import (
    CredentialsError,
    PodVolumeError,
    PodVolumeTimeoutError,
    RepositoryLockedError,
    RepositoryNotFoundError,
    ResticCommandError,
    ResticNotFoundError,
    UnsupportedLocationError,
    VolumeDirNotFoundError,
    WrongPasswordError,
)
from veloro_core.podvolume.objects import PVBS, PVRS, VolumeResult
from veloro_core.podvolume.records import pod_volume_backups_document, volume_info_records
from veloro_core.podvolume.repository import repository_access, repository_identifier, repository_key
from veloro_core.podvolume.restic import BackupSummary, Restic, ResticRepo
from veloro_core.podvolume.restorer import PodVolumeRestorer, snapshots_for_pod
from veloro_core.podvolume.selection import (
    BACKUP_VOLUMES_ANNOTATIONS,
    EXCLUDES_ANNOTATIONS,
    VolumeChoice,
    choose_volumes,
    volumes_to_back_up,
)

__all__ = [
    "BACKUP_VOLUMES_ANNOTATIONS",
    "DEFAULT_REPO_PASSWORD",
    "EXCLUDES_ANNOTATIONS",
    "PVBS",
    "PVRS",
    "REPO_PASSWORD_KEY",
    "REPO_PASSWORD_SECRET",
    "BackupSummary",
    "CredentialFiles",
    "CredentialsError",
    "PodVolumeBackupper",
    "PodVolumeError",
    "PodVolumeRestorer",
    "PodVolumeTimeoutError",
    "RepositoryLockedError",
    "RepositoryManager",
    "RepositoryNotFoundError",
    "Restic",
    "ResticCommandError",
    "ResticNotFoundError",
    "ResticRepo",
    "UnsupportedLocationError",
    "VolumeChoice",
    "VolumeDirNotFoundError",
    "VolumeResult",
    "WrongPasswordError",
    "choose_volumes",
    "forget_snapshots",
    "pod_volume_backups_document",
    "repository_access",
    "repository_identifier",
    "repository_key",
    "repository_name",
    "snapshots_for_pod",
    "volume_info_records",
    "volumes_to_back_up",
]
