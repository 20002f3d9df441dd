"""Key names of a backup storage location (the layout Velero uses; backup-format.md section 1)."""

from __future__ import annotations

import enum

from veloro_core.api.requests import DownloadTargetKind
from veloro_core.persistence.errors import BackupStoreError

ALLOWED_TOP_LEVEL = ("backups", "restores", "restic", "kopia", "metadata", "plugins")
METADATA_FILE = "velero-backup.json"


class BackupFile(enum.Enum):
    """The files of a backup other than its metadata; value = suffix after `<name>`."""

    CONTENTS = ".tar.gz"
    LOG = "-logs.gz"
    RESOURCE_LIST = "-resource-list.json.gz"
    RESULTS = "-results.gz"
    VOLUME_SNAPSHOTS = "-volumesnapshots.json.gz"
    POD_VOLUME_BACKUPS = "-podvolumebackups.json.gz"
    ITEM_OPERATIONS = "-itemoperations.json.gz"
    VOLUME_INFO = "-volumeinfo.json.gz"
    CSI_VOLUME_SNAPSHOTS = "-csi-volumesnapshots.json.gz"
    CSI_VOLUME_SNAPSHOT_CONTENTS = "-csi-volumesnapshotcontents.json.gz"
    CSI_VOLUME_SNAPSHOT_CLASSES = "-csi-volumesnapshotclasses.json.gz"


class RestoreFile(enum.Enum):
    """The files of a restore; value = (file-name prefix, suffix) around `<name>`."""

    LOG = ("restore-", "-logs.gz")
    RESULTS = ("restore-", "-results.gz")
    RESOURCE_LIST = ("restore-", "-resource-list.json.gz")
    ITEM_OPERATIONS = ("restore-", "-itemoperations.json.gz")
    VOLUME_INFO = ("", "-volumeinfo.json.gz")  # no "restore-" prefix, as Velero names it


_DOWNLOAD_TARGETS: dict[DownloadTargetKind, BackupFile | RestoreFile] = {
    DownloadTargetKind.BACKUP_LOG: BackupFile.LOG,
    DownloadTargetKind.BACKUP_CONTENTS: BackupFile.CONTENTS,
    DownloadTargetKind.BACKUP_VOLUME_SNAPSHOTS: BackupFile.VOLUME_SNAPSHOTS,
    DownloadTargetKind.BACKUP_ITEM_OPERATIONS: BackupFile.ITEM_OPERATIONS,
    DownloadTargetKind.BACKUP_RESOURCE_LIST: BackupFile.RESOURCE_LIST,
    DownloadTargetKind.BACKUP_RESULTS: BackupFile.RESULTS,
    DownloadTargetKind.BACKUP_VOLUME_INFOS: BackupFile.VOLUME_INFO,
    DownloadTargetKind.CSI_BACKUP_VOLUME_SNAPSHOTS: BackupFile.CSI_VOLUME_SNAPSHOTS,
    DownloadTargetKind.CSI_BACKUP_VOLUME_SNAPSHOT_CONTENTS: BackupFile.CSI_VOLUME_SNAPSHOT_CONTENTS,
    DownloadTargetKind.RESTORE_LOG: RestoreFile.LOG,
    DownloadTargetKind.RESTORE_RESULTS: RestoreFile.RESULTS,
    DownloadTargetKind.RESTORE_RESOURCE_LIST: RestoreFile.RESOURCE_LIST,
    DownloadTargetKind.RESTORE_ITEM_OPERATIONS: RestoreFile.ITEM_OPERATIONS,
    DownloadTargetKind.RESTORE_VOLUME_INFO: RestoreFile.VOLUME_INFO,
}


def normalize_prefix(prefix: str) -> str:
    """The location prefix with its slashes trimmed ("" for none)."""
    return prefix.strip("/")


def check_name(kind: str, name: str) -> str:
    """Backup and restore names become key components: refuse what could leave their folder."""
    if not name or name in (".", "..") or "/" in name or "\x00" in name:
        raise BackupStoreError(
            f"invalid {kind} name {name!r}: it must be a non-empty Kubernetes object name without '/'"
        )
    return name


class StoreLayout:
    """Every key of one location, below its (normalised) prefix."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = normalize_prefix(prefix)
        self.root = f"{self.prefix}/" if self.prefix else ""

    def backups_prefix(self) -> str:
        return f"{self.root}backups/"

    def restores_prefix(self) -> str:
        return f"{self.root}restores/"

    def backup_dir(self, name: str) -> str:
        return f"{self.backups_prefix()}{check_name('backup', name)}/"

    def metadata_key(self, name: str) -> str:
        return self.backup_dir(name) + METADATA_FILE

    def backup_key(self, name: str, file: BackupFile) -> str:
        return f"{self.backup_dir(name)}{name}{file.value}"

    def restore_dir(self, name: str) -> str:
        return f"{self.restores_prefix()}{check_name('restore', name)}/"

    def restore_key(self, name: str, file: RestoreFile) -> str:
        before, after = file.value
        return f"{self.restore_dir(name)}{before}{name}{after}"

    def restic_repo_prefix(self, namespace: str) -> str:
        """Where the restic repository of one namespace lives."""
        return f"{self.root}restic/{check_name('namespace', namespace)}"

    def download_key(self, kind: DownloadTargetKind | str, name: str) -> str:
        """The key a DownloadRequest for (`kind`, `name`) serves; `name` is a backup or restore name."""
        try:
            target = _DOWNLOAD_TARGETS[DownloadTargetKind(kind)]
        except (ValueError, KeyError) as exc:
            valid = ", ".join(k.value for k in DownloadTargetKind)
            raise BackupStoreError(f"unknown download target kind {kind!r}; valid kinds: {valid}") from exc
        if isinstance(target, BackupFile):
            return self.backup_key(name, target)
        return self.restore_key(name, target)
