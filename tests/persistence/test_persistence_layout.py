"""Key layout of a backup storage location (backup-format.md section 1) and download targets."""

from __future__ import annotations

import pytest

from veloro_core.api.requests import DownloadTargetKind
from veloro_core.persistence import BackupFile, BackupStoreError, RestoreFile, StoreLayout


@pytest.mark.parametrize(("prefix", "root"), [("", ""), ("/", ""), ("/team/a/", "team/a/"), ("x", "x/")])
def test_prefix_normalised(prefix: str, root: str) -> None:
    assert StoreLayout(prefix).metadata_key("b1") == f"{root}backups/b1/velero-backup.json"


def test_every_backup_key() -> None:
    layout = StoreLayout("pre")
    expected = {
        BackupFile.CONTENTS: "b1.tar.gz",
        BackupFile.LOG: "b1-logs.gz",
        BackupFile.RESOURCE_LIST: "b1-resource-list.json.gz",
        BackupFile.RESULTS: "b1-results.gz",
        BackupFile.VOLUME_SNAPSHOTS: "b1-volumesnapshots.json.gz",
        BackupFile.POD_VOLUME_BACKUPS: "b1-podvolumebackups.json.gz",
        BackupFile.ITEM_OPERATIONS: "b1-itemoperations.json.gz",
        BackupFile.VOLUME_INFO: "b1-volumeinfo.json.gz",
        BackupFile.CSI_VOLUME_SNAPSHOTS: "b1-csi-volumesnapshots.json.gz",
        BackupFile.CSI_VOLUME_SNAPSHOT_CONTENTS: "b1-csi-volumesnapshotcontents.json.gz",
        BackupFile.CSI_VOLUME_SNAPSHOT_CLASSES: "b1-csi-volumesnapshotclasses.json.gz",
    }
    assert set(expected) == set(BackupFile)
    for file, leaf in expected.items():
        assert layout.backup_key("b1", file) == f"pre/backups/b1/{leaf}"


def test_every_restore_key() -> None:
    layout = StoreLayout("")
    expected = {
        RestoreFile.LOG: "restore-r1-logs.gz",
        RestoreFile.RESULTS: "restore-r1-results.gz",
        RestoreFile.RESOURCE_LIST: "restore-r1-resource-list.json.gz",
        RestoreFile.ITEM_OPERATIONS: "restore-r1-itemoperations.json.gz",
        RestoreFile.VOLUME_INFO: "r1-volumeinfo.json.gz",
    }
    assert set(expected) == set(RestoreFile)
    for file, leaf in expected.items():
        assert layout.restore_key("r1", file) == f"restores/r1/{leaf}"


def test_download_keys_cover_every_target_kind() -> None:
    layout = StoreLayout("p")
    for kind in DownloadTargetKind:
        key = layout.download_key(kind, "n1")
        folder = "restores" if kind.value.startswith("Restore") else "backups"
        assert key.startswith(f"p/{folder}/n1/"), (kind, key)
    assert layout.download_key("BackupContents", "b") == "p/backups/b/b.tar.gz"
    assert layout.download_key(DownloadTargetKind.RESTORE_LOG, "r") == "p/restores/r/restore-r-logs.gz"
    assert layout.download_key("CSIBackupVolumeSnapshots", "b") == "p/backups/b/b-csi-volumesnapshots.json.gz"
    with pytest.raises(BackupStoreError, match="unknown download target kind 'Nope'"):
        layout.download_key("Nope", "b")


@pytest.mark.parametrize("name", ["", "..", "a/b", "x\x00"])
def test_unsafe_names_refused(name: str) -> None:
    with pytest.raises(BackupStoreError, match="invalid backup name"):
        StoreLayout().metadata_key(name)


def test_restic_prefix() -> None:
    assert StoreLayout("/v/").restic_repo_prefix("ns1") == "v/restic/ns1"
