"""BackupStore over in-process stores: write discipline, reads, listing, deletion, validation, errors."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import pytest
from persistence_helpers import Crash, FaultyStore, MemoryObjectStore
from veloro_sdk.contracts import PluginError

from veloro_core.persistence import (
    BackupAlreadyExistsError,
    BackupFile,
    BackupNotFoundError,
    BackupStore,
    BackupUploadError,
    CorruptStoreFileError,
    IncompleteBackupError,
    InvalidBackupStoreError,
    RestoreFile,
    StoreUnavailableError,
    gzip_json,
    gzip_stream,
)

VELERO_BACKUP = Path(__file__).parents[1] / "api" / "data" / "velero-backup.json"
TARBALL = b"\x1f\x8b fake tarball " * 100_000  # > 1 MiB: several chunks


def _meta(name: str = "b1", api: str = "veloro.io/v1") -> dict[str, Any]:
    return {"apiVersion": api, "kind": "Backup", "metadata": {"name": name}, "status": {"phase": "Completed"}}


def _files() -> dict[BackupFile, bytes]:
    return {
        BackupFile.RESOURCE_LIST: gzip_json({"v1/Pod": ["ns/a"]}),
        BackupFile.RESULTS: gzip_json({"warnings": {}, "errors": {}}),
        BackupFile.VOLUME_INFO: gzip_json([]),
        BackupFile.ITEM_OPERATIONS: gzip_json([]),
    }


def _put(bs: BackupStore, name: str = "b1") -> list[str]:
    return bs.put_backup(name, _meta(name), io.BytesIO(TARBALL), log_body=gzip.compress(b"line 1\nline 2\n"),
                         files=_files())


def test_put_and_read_back_metadata_last() -> None:
    mem = MemoryObjectStore()
    bs = BackupStore(mem, "bucket", "/pre/")
    assert _put(bs) == []
    puts = [key for op, key in mem.calls if op == "put"]
    assert puts[0] == "pre/backups/b1/b1-logs.gz"
    assert puts[1] == "pre/backups/b1/b1.tar.gz"
    assert puts[-1] == "pre/backups/b1/velero-backup.json", "metadata must be written last"
    assert len(puts) == 2 + len(_files()) + 1
    assert bs.is_complete("b1") and bs.backup_exists("b1")
    assert bs.get_backup_metadata("b1") == _meta()
    assert b"".join(bs.get_backup_contents("b1")) == TARBALL
    out = io.BytesIO()
    assert bs.download_backup_contents("b1", out) == len(TARBALL)
    assert b"".join(bs.get_backup_log("b1")) == b"line 1\nline 2\n"
    assert bs.get_backup_resource_list("b1") == {"v1/Pod": ["ns/a"]}
    assert bs.get_backup_results("b1") == {"warnings": {}, "errors": {}}
    assert bs.get_backup_volume_info("b1") == []
    assert bs.get_backup_item_operations("b1") == []
    assert bs.get_backup_volume_snapshots("b1") is None, "absent side files read as None"
    assert bs.get_pod_volume_backups("b1") is None


def _count_puts() -> int:
    mem = MemoryObjectStore()
    _put(BackupStore(mem, "bucket"))
    return sum(1 for op, _ in mem.calls if op == "put")


@pytest.mark.parametrize("step", range(_count_puts()))
def test_crash_at_any_put_leaves_nothing_complete(step: int) -> None:
    # A failing put may leave a partial object, except that one object is never half-written: every store
    # (S3, GCS, Azure, the filesystem store's rename) makes a single PutObject atomic.
    store = FaultyStore(lambda op, _k, i: op == "put" and i == step, Crash(), partial=True)
    store.partial = step < _count_puts() - 1
    bs = BackupStore(store, "bucket")
    with pytest.raises(Crash):
        _put(bs)
    assert "backups/b1/velero-backup.json" not in store.key_list()
    assert not bs.is_complete("b1")
    if store.key_list():
        with pytest.raises(IncompleteBackupError, match="incomplete"):
            bs.get_backup_metadata("b1")
        with pytest.raises(IncompleteBackupError):
            bs.get_backup_contents("b1")
        assert bs.list_backups() == ["b1"]


@pytest.mark.parametrize("step", range(1, _count_puts()))
def test_failure_at_any_put_removes_what_was_written(step: int) -> None:
    store = FaultyStore(lambda op, _k, i: op == "put" and i == step, PluginError("disk full"), partial=True)
    bs = BackupStore(store, "bucket")
    with pytest.raises(BackupUploadError, match=r"disk full.*nothing of it looks complete"):
        _put(bs)
    assert store.key_list() == [], "a failed upload must not leave objects behind"
    assert not bs.is_complete("b1")
    with pytest.raises(BackupNotFoundError):
        bs.get_backup_metadata("b1")


def test_failing_source_stream_cleans_up() -> None:
    def broken_tarball() -> Any:
        yield b"part"
        raise OSError("temp file vanished")

    mem = MemoryObjectStore()
    bs = BackupStore(mem, "bucket")
    with pytest.raises(BackupUploadError, match="temp file vanished"):
        bs.put_backup("b1", _meta(), broken_tarball())
    assert mem.key_list() == []


def test_log_upload_failure_is_only_a_warning() -> None:
    store = FaultyStore(lambda op, k, _i: op == "put" and k.endswith("-logs.gz"), PluginError("nope"))
    bs = BackupStore(store, "bucket")
    warnings = _put(bs)
    assert len(warnings) == 1 and "backup log was not uploaded" in warnings[0]
    assert bs.is_complete("b1")


def test_failed_cleanup_is_reported_and_still_not_complete() -> None:
    def fail(op: str, _key: str, i: int) -> bool:
        return (op == "put" and i == 3) or op == "delete"

    store = FaultyStore(fail, PluginError("store went away"))
    bs = BackupStore(store, "bucket")
    with pytest.raises(BackupUploadError, match=r"could not remove .*b1.tar.gz.* - delete the backup"):
        _put(bs)
    assert store.key_list() and not bs.is_complete("b1")


def test_completed_backup_never_rewritten() -> None:
    mem = MemoryObjectStore()
    bs = BackupStore(mem, "bucket")
    _put(bs)
    before = dict(mem.objects)
    mem.calls.clear()
    with pytest.raises(BackupAlreadyExistsError, match="never rewrites a completed backup"):
        bs.put_backup("b1", _meta(), b"other", files=_files())
    assert mem.objects == before
    assert not [c for c in mem.calls if c[0] in ("put", "delete")]


def test_list_backups() -> None:
    mem = MemoryObjectStore()
    bs = BackupStore(mem, "bucket", "p")
    for name in ("zeta", "alpha", "mid"):
        _put(bs, name)
    mem.objects[("bucket", "p/restores/r1/restore-r1-logs.gz")] = b""
    mem.objects[("bucket", "other/backups/x/velero-backup.json")] = b""
    mem.objects[("bucket", "p/backups/half/half.tar.gz")] = b""
    assert bs.list_backups() == ["alpha", "half", "mid", "zeta"]
    assert [n for n in bs.list_backups() if bs.is_complete(n)] == ["alpha", "mid", "zeta"]


def test_delete_metadata_first_and_everything() -> None:
    mem = MemoryObjectStore()
    bs = BackupStore(mem, "bucket")
    _put(bs, "b1")
    _put(bs, "b2")
    mem.calls.clear()
    bs.delete_backup("b1")
    deletes = [k for op, k in mem.calls if op == "delete"]
    assert deletes[0] == "backups/b1/velero-backup.json"
    assert len(deletes) == 2 + len(_files()) + 1
    assert all(k.startswith("backups/b2/") for k in mem.key_list())
    bs.delete_backup("b1")  # idempotent


def test_delete_stops_if_metadata_cannot_be_deleted() -> None:
    store = FaultyStore(lambda op, k, _i: op == "delete" and k.endswith("velero-backup.json"),
                        PluginError("denied"))
    bs = BackupStore(store, "bucket")
    _put(bs)
    keys = store.key_list()
    with pytest.raises(StoreUnavailableError, match="denied"):
        bs.delete_backup("b1")
    assert store.key_list() == keys, "nothing else deleted while the backup still looks complete"


def test_delete_partial_failure_leaves_it_incomplete() -> None:
    store = FaultyStore(lambda op, k, _i: op == "delete" and k.endswith(".tar.gz"), PluginError("denied"))
    bs = BackupStore(store, "bucket")
    _put(bs)
    with pytest.raises(StoreUnavailableError, match=r"could not delete .*b1.tar.gz.*retry"):
        bs.delete_backup("b1")
    assert not bs.is_complete("b1")
    assert store.key_list() == ["backups/b1/b1.tar.gz"]


def test_validate_top_level_folders() -> None:
    mem = MemoryObjectStore()
    bs = BackupStore(mem, "bucket", "pre")
    bs.validate()  # empty is fine
    for folder in ("backups", "restores", "restic", "kopia", "metadata", "plugins"):
        mem.objects[("bucket", f"pre/{folder}/x")] = b""
    mem.objects[("bucket", "pre/file-at-root.txt")] = b""
    mem.objects[("bucket", "elsewhere/x")] = b""
    bs.validate()
    mem.objects[("bucket", "pre/photos/cat.jpg")] = b""
    mem.objects[("bucket", "pre/backup/typo")] = b""
    with pytest.raises(InvalidBackupStoreError) as info:
        bs.validate()
    assert str(info.value).startswith(
        "Backup store contains invalid top-level directories: [backup photos]")
    assert "empty bucket or prefix" in str(info.value)
    with pytest.raises(InvalidBackupStoreError, match=r"\[elsewhere pre\]"):
        BackupStore(mem, "bucket", "").validate()


@pytest.mark.parametrize("api", ["velero.io/v1", "veloro.io/v1"])
def test_metadata_api_versions(api: str) -> None:
    mem = MemoryObjectStore()
    bs = BackupStore(mem, "bucket")
    bs.put_backup("b1", _meta(api=api), b"tar")
    assert bs.get_backup_metadata("b1")["apiVersion"] == api


def test_velero_written_metadata_fixture() -> None:
    mem = MemoryObjectStore()
    raw = VELERO_BACKUP.read_bytes()
    mem.objects[("bucket", "backups/nginx-backup/velero-backup.json")] = raw
    mem.objects[("bucket", "backups/nginx-backup/nginx-backup.tar.gz")] = b"tar"
    meta = BackupStore(mem, "bucket").get_backup_metadata("nginx-backup")
    assert meta == json.loads(raw)
    assert meta["apiVersion"] == "velero.io/v1"


@pytest.mark.parametrize(
    ("body", "match"),
    [(b"{not json", "not valid JSON"), (b'{"apiVersion":"v1","kind":"Pod"}', "does not hold a Backup"),
     (b'{"apiVersion":"other.io/v9","kind":"Backup"}', "apiVersion 'other.io/v9'")],
)
def test_bad_metadata(body: bytes, match: str) -> None:
    mem = MemoryObjectStore()
    mem.objects[("bucket", "backups/b/velero-backup.json")] = body
    with pytest.raises(CorruptStoreFileError, match=match):
        BackupStore(mem, "bucket").get_backup_metadata("b")


def test_not_found() -> None:
    bs = BackupStore(MemoryObjectStore(), "bucket")
    with pytest.raises(BackupNotFoundError, match="backup 'nope' was not found in location 'bucket'"):
        bs.get_backup_metadata("nope")
    with pytest.raises(BackupNotFoundError):
        bs.get_backup_contents("nope")
    with pytest.raises(BackupNotFoundError, match="no log"):
        bs.get_backup_log("nope")


def test_store_unavailable_wraps_plugin_errors() -> None:
    store = FaultyStore(lambda *_: True, PluginError("connection refused"))
    bs = BackupStore(store, "bucket", "p")
    for call in (bs.list_backups, bs.validate, lambda: bs.get_backup_metadata("b"), lambda: _put(bs)):
        with pytest.raises(StoreUnavailableError, match=r"'bucket/p'.*connection refused.*plugin is running"):
            call()


def test_store_failing_mid_stream() -> None:
    class Broken(MemoryObjectStore):
        def get_object(self, bucket: str, key: str) -> Any:
            yield b"first"
            raise PluginError("stream reset")

    store = Broken()
    bs = BackupStore(store, "bucket")
    _put(bs)
    chunks = bs.get_backup_contents("b1")
    with pytest.raises(StoreUnavailableError, match="stream reset"):
        list(chunks)


def test_corrupt_side_files() -> None:
    mem = MemoryObjectStore()
    bs = BackupStore(mem, "bucket")
    bs.put_backup("b1", _meta(), b"tar", files={
        BackupFile.RESULTS: b"not gzip",
        BackupFile.RESOURCE_LIST: gzip.compress(b"{bad json"),
        BackupFile.VOLUME_INFO: gzip_json([1, 2])[:-10],
    })
    with pytest.raises(CorruptStoreFileError, match=r"b1-results.gz is not valid gzip"):
        bs.get_backup_results("b1")
    with pytest.raises(CorruptStoreFileError, match="not valid JSON"):
        bs.get_backup_resource_list("b1")
    with pytest.raises(CorruptStoreFileError, match=r"truncated|not valid"):
        bs.get_backup_volume_info("b1")


def test_restore_files_and_deletion() -> None:
    mem = MemoryObjectStore()
    bs = BackupStore(mem, "bucket", "p")
    bs.put_restore_file("r1", RestoreFile.LOG, b"".join(gzip_stream([b"restored ", b"ok\n"])))
    bs.put_restore_file("r1", RestoreFile.RESULTS, gzip_json({"warnings": {}, "errors": {}}))
    bs.put_restore_file("r1", RestoreFile.VOLUME_INFO, gzip_json([]))
    bs.put_restore_file("r2", RestoreFile.LOG, gzip.compress(b"other"))
    assert "p/restores/r1/r1-volumeinfo.json.gz" in mem.key_list()
    assert b"".join(bs.get_restore_log("r1")) == b"restored ok\n"
    assert bs.get_restore_file("r1", RestoreFile.RESULTS) == {"warnings": {}, "errors": {}}
    assert bs.get_restore_file("r1", RestoreFile.RESOURCE_LIST) is None
    bs.delete_restore("r1")
    assert mem.key_list() == ["p/restores/r2/restore-r2-logs.gz"]


def test_signed_url_for_download_request() -> None:
    bs = BackupStore(MemoryObjectStore(), "bucket", "p")
    assert bs.signed_url("BackupLog", "b1") == "https://signed.example/bucket/p/backups/b1/b1-logs.gz?ttl=600"
