"""BackupStore against the real filesystem ObjectStore: in-process, and in its plugin process through the
PluginManager (the path the server uses), with a real tarball written by the archive writer."""

from __future__ import annotations

import io
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from veloro_sdk.contracts import ObjectStore

from veloro_core.archive import TarballWriter, extract_tarball
from veloro_core.persistence import (
    BackupAlreadyExistsError,
    BackupFile,
    BackupNotFoundError,
    BackupStore,
    BackupUploadError,
    InvalidBackupStoreError,
    RestoreFile,
    gzip_json,
    gzip_stream,
)
from veloro_core.plugins import PluginManager, PluginSettings
from veloro_plugins.filesystem import FileSystemObjectStore


def _tarball_file(n: int) -> io.BufferedRandom:
    f = tempfile.TemporaryFile()  # noqa: SIM115 - returned to the caller, who closes it
    with TarballWriter(f) as writer:  # type: ignore[arg-type]
        for i in range(n):
            writer.add_item("configmaps", f"ns-{i % 5}", f"cm-{i}", "v1", b'{"kind":"ConfigMap","i":%d}' % i)
    f.seek(0)
    return f  # type: ignore[return-value]


@pytest.fixture
def fs_store(tmp_path: Path) -> ObjectStore:
    store = FileSystemObjectStore()
    store.init({"root": str(tmp_path / "root"), "bucket": "velero"})
    return store


@pytest.fixture(scope="module")
def plugin_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ObjectStore]:
    settings = PluginSettings(
        builtin_commands=[[sys.executable, "-m", "veloro_core.cli", "run-plugins"]],
        entry_point_group=None,
        call_timeout=30.0,
        start_timeout=30.0,
    )
    with PluginManager.discover(settings) as manager:
        store = manager.object_store("filesystem")
        store.init({"root": str(tmp_path_factory.mktemp("plugin-root")), "bucket": "velero"})
        yield store


def _full_cycle(store: ObjectStore, prefix: str) -> None:
    bs = BackupStore(store, "velero", prefix)
    bs.validate()
    assert bs.list_backups() == []
    with _tarball_file(1_000) as tarball:
        size = tarball.seek(0, io.SEEK_END)
        tarball.seek(0)
        warnings = bs.put_backup(
            "nightly",
            {"apiVersion": "velero.io/v1", "kind": "Backup", "metadata": {"name": "nightly"}},
            tarball,
            log_body=b"".join(gzip_stream([b"backup started\n", b"backup done\n"])),
            files={BackupFile.RESULTS: gzip_json({"warnings": {}, "errors": {}})},
        )
    assert warnings == []
    assert bs.list_backups() == ["nightly"]
    assert bs.get_backup_metadata("nightly")["metadata"]["name"] == "nightly"
    with pytest.raises(BackupAlreadyExistsError):
        bs.put_backup("nightly", {"apiVersion": "veloro.io/v1", "kind": "Backup"}, b"x")
    with tempfile.TemporaryFile() as download:
        assert bs.download_backup_contents("nightly", download) == size  # type: ignore[arg-type]
        download.seek(0)
        with extract_tarball(download) as contents:  # type: ignore[arg-type]
            assert len(contents.items("configmaps")) == 1_000
            ref = contents.namespaced_items("configmaps", "ns-1")[0]
            assert contents.read_item(ref)["kind"] == "ConfigMap"
    assert b"".join(bs.get_backup_log("nightly")) == b"backup started\nbackup done\n"
    assert bs.get_backup_results("nightly") == {"warnings": {}, "errors": {}}
    bs.put_restore_file("nightly-1", RestoreFile.RESULTS, gzip_json({"errors": {}}))
    assert bs.get_restore_file("nightly-1", RestoreFile.RESULTS) == {"errors": {}}
    bs.validate()
    bs.delete_backup("nightly")
    bs.delete_restore("nightly-1")
    assert bs.list_backups() == []
    with pytest.raises(BackupNotFoundError):
        bs.get_backup_metadata("nightly")
    store.put_object("velero", f"{bs.layout.root}junk/file", [b"x"])
    with pytest.raises(InvalidBackupStoreError, match=r"invalid top-level directories: \[junk\]"):
        bs.validate()
    store.delete_object("velero", f"{bs.layout.root}junk/file")


def test_filesystem_store_in_process(fs_store: ObjectStore) -> None:
    _full_cycle(fs_store, "")
    _full_cycle(fs_store, "/cluster-a/")


def test_filesystem_store_through_plugin_process(plugin_store: ObjectStore) -> None:
    _full_cycle(plugin_store, "team/prod")


def test_failed_upload_through_plugin_leaves_nothing(plugin_store: ObjectStore) -> None:
    def tarball_that_breaks() -> Iterator[bytes]:
        yield b"\x1f\x8b" + b"x" * (3 << 20)
        raise OSError("the backup's temp file disappeared")

    bs = BackupStore(plugin_store, "velero", "broken")
    with pytest.raises(BackupUploadError, match="temp file disappeared"):
        bs.put_backup("b1", {"apiVersion": "veloro.io/v1", "kind": "Backup"}, tarball_that_breaks(),
                      log_body=b"".join(gzip_stream([b"log\n"])))
    assert plugin_store.list_objects("velero", "broken/") == []
    assert not bs.is_complete("b1")
