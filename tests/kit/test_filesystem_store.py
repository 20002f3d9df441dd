"""The veloro.io/filesystem ObjectStore, in-process: config, key safety, atomic writes, S3 listing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from veloro_sdk.contracts import PluginError

from veloro_plugins.filesystem import (
    FileSystemObjectStore,
    InvalidKeyError,
    KeyConflictError,
    ObjectNotFoundError,
)
from veloro_plugins.filesystem.paths import TEMP_PREFIX
from veloro_plugins.filesystem.store import READ_CHUNK

BUCKET = "bkt"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(root: Path) -> FileSystemObjectStore:
    s = FileSystemObjectStore()
    s.init({"root": str(root), "bucket": BUCKET})
    return s


def put(store: FileSystemObjectStore, key: str, data: bytes = b"x") -> None:
    store.put_object(BUCKET, key, [data])


def get(store: FileSystemObjectStore, key: str) -> bytes:
    return b"".join(store.get_object(BUCKET, key))


def test_init_requires_root() -> None:
    with pytest.raises(PluginError, match="config key 'root' is required"):
        FileSystemObjectStore().init({"bucket": "b"})


def test_init_root_not_creatable(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("not a directory")
    with pytest.raises(PluginError, match="cannot create root directory"):
        FileSystemObjectStore().init({"root": str(a_file / "sub")})


def test_init_rejects_unknown_keys_naming_valid_ones(root: Path) -> None:
    with pytest.raises(PluginError, match=r"unknown config key\(s\) rot.*valid keys are .*root"):
        FileSystemObjectStore().init({"root": str(root), "rot": "/x"})


def test_init_creates_root_and_bucket_and_accepts_velero_keys(root: Path) -> None:
    FileSystemObjectStore().init(
        {"root": str(root), "bucket": "b1", "prefix": "team/a", "caCert": "", "credentialsFile": "/c"}
    )
    assert (root / "b1").is_dir()


@pytest.mark.parametrize("prefix", ["", "/"])
def test_init_accepts_an_empty_prefix(root: Path, prefix: str) -> None:
    # Velero hosts send prefix="" for a location that uses the whole bucket.
    FileSystemObjectStore().init({"root": str(root), "bucket": "b1", "prefix": prefix})
    assert (root / "b1").is_dir()


def test_init_refuses_a_prefix_that_escapes_the_bucket(root: Path) -> None:
    with pytest.raises(PluginError, match=r"\.\."):
        FileSystemObjectStore().init({"root": str(root), "bucket": "b1", "prefix": "../x"})


def test_use_before_init_is_a_clear_error() -> None:
    with pytest.raises(PluginError, match="before Init"):
        FileSystemObjectStore().object_exists(BUCKET, "k")


def test_init_again_replaces_config(store: FileSystemObjectStore, tmp_path: Path) -> None:
    put(store, "k", b"old root")
    store.init({"root": str(tmp_path / "other")})
    assert not store.object_exists(BUCKET, "k")
    put(store, "k", b"new root")
    assert (tmp_path / "other" / BUCKET / "k").read_bytes() == b"new root"


def test_prefix_is_not_prepended(store: FileSystemObjectStore, root: Path) -> None:
    # Velero's object stores take keys as given; the host's backup store builds `<prefix>/...` keys.
    store.init({"root": str(root), "bucket": BUCKET, "prefix": "pfx"})
    put(store, "backups/b1/x", b"data")
    assert (root / BUCKET / "backups" / "b1" / "x").read_bytes() == b"data"
    assert not (root / BUCKET / "pfx").exists()


def test_round_trip_streams_in_1mib_chunks(store: FileSystemObjectStore) -> None:
    data = os.urandom(2 * READ_CHUNK + 1000)
    store.put_object(BUCKET, "big/object.bin", (data[i : i + 16384] for i in range(0, len(data), 16384)))
    chunks = list(store.get_object(BUCKET, "big/object.bin"))
    assert [len(c) for c in chunks] == [READ_CHUNK, READ_CHUNK, 1000]
    assert b"".join(chunks) == data


def test_empty_object(store: FileSystemObjectStore) -> None:
    store.put_object(BUCKET, "empty", [b""])
    assert store.object_exists(BUCKET, "empty")
    assert get(store, "empty") == b""


def test_failed_upload_keeps_old_object_and_leaves_no_temp_file(
    store: FileSystemObjectStore, root: Path
) -> None:
    put(store, "dir/obj", b"old")

    def body() -> Iterator[bytes]:
        yield b"partial new content"
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        store.put_object(BUCKET, "dir/obj", body())
    assert get(store, "dir/obj") == b"old"
    assert os.listdir(root / BUCKET / "dir") == ["obj"]


def test_temp_files_are_never_listed(store: FileSystemObjectStore, root: Path) -> None:
    put(store, "a/real")
    (root / BUCKET / "a" / f"{TEMP_PREFIX}abc").write_bytes(b"in flight")
    (root / BUCKET / f"{TEMP_PREFIX}dir").mkdir()
    (root / BUCKET / f"{TEMP_PREFIX}dir" / "x").write_bytes(b"")
    assert store.list_objects(BUCKET, "") == ["a/real"]
    assert store.list_common_prefixes(BUCKET, "", "/") == ["a/"]


@pytest.mark.parametrize(
    "key",
    ["../escape", "a/../../escape", "/etc/passwd", "a//b", "a/./b", "a/", "", "x\x00y", f"a/{TEMP_PREFIX}1"],
)
def test_unsafe_keys_are_refused_everywhere(store: FileSystemObjectStore, root: Path, key: str) -> None:
    for call in (
        lambda: put(store, key),
        lambda: get(store, key),
        lambda: store.object_exists(BUCKET, key),
        lambda: store.delete_object(BUCKET, key),
        lambda: store.create_signed_url(BUCKET, key, timedelta(minutes=1)),
    ):
        with pytest.raises(InvalidKeyError, match="invalid key"):
            call()
    assert not (root.parent / "escape").exists()


@pytest.mark.parametrize("bucket", ["..", "a/b", "", "."])
def test_unsafe_buckets_are_refused(store: FileSystemObjectStore, bucket: str) -> None:
    with pytest.raises(InvalidKeyError, match="invalid bucket"):
        store.put_object(bucket, "k", [b""])


@pytest.mark.parametrize("prefix", ["../", "a/../", "/abs/"])
def test_unsafe_prefixes_are_refused(store: FileSystemObjectStore, prefix: str) -> None:
    with pytest.raises(InvalidKeyError, match="invalid prefix"):
        store.list_objects(BUCKET, prefix)
    with pytest.raises(InvalidKeyError, match="invalid prefix"):
        store.list_common_prefixes(BUCKET, prefix, "/")


def test_get_missing_key_is_a_clear_error(store: FileSystemObjectStore) -> None:
    with pytest.raises(ObjectNotFoundError, match="object 'nope/x' not found in bucket 'bkt'"):
        store.get_object(BUCKET, "nope/x")  # fails at the call, not when iterated
    put(store, "folder/inner")
    with pytest.raises(ObjectNotFoundError):
        store.get_object(BUCKET, "folder")  # a folder of keys is not an object


def test_delete_missing_is_ok_and_empty_folders_are_pruned(store: FileSystemObjectStore, root: Path) -> None:
    store.delete_object(BUCKET, "never/written")
    put(store, "p/backups/b1/one")
    put(store, "p/keep")
    store.delete_object(BUCKET, "p/backups/b1/one")
    assert not store.object_exists(BUCKET, "p/backups/b1/one")
    assert not (root / BUCKET / "p" / "backups").exists()
    assert (root / BUCKET / "p").is_dir()
    assert store.list_common_prefixes(BUCKET, "p/", "/") == []


@pytest.fixture
def tree(store: FileSystemObjectStore) -> FileSystemObjectStore:
    for key in [
        "pfx/backups/b1/b1.tar.gz",
        "pfx/backups/b1/velero-backup.json",
        "pfx/backups/b10/velero-backup.json",
        "pfx/backups/b2/velero-backup.json",
        "pfx/restores/r1/log.gz",
        "pfx/metadata/revision",
        "pfx/top-level-file",
        "other/file",
    ]:
        put(store, key, key.encode())
    return store


def test_list_objects_s3_semantics(tree: FileSystemObjectStore) -> None:
    assert tree.list_objects(BUCKET, "pfx/backups/b1") == [
        "pfx/backups/b1/b1.tar.gz",
        "pfx/backups/b1/velero-backup.json",
        "pfx/backups/b10/velero-backup.json",
    ]
    assert tree.list_objects(BUCKET, "pfx/backups/b1/") == [
        "pfx/backups/b1/b1.tar.gz",
        "pfx/backups/b1/velero-backup.json",
    ]
    assert len(tree.list_objects(BUCKET, "")) == 8
    assert tree.list_objects(BUCKET, "pfx/top") == ["pfx/top-level-file"]
    assert tree.list_objects(BUCKET, "pfx/top-level-file/") == []  # a file is not a folder
    assert tree.list_objects(BUCKET, "nothing/here/") == []
    assert tree.list_objects("missing-bucket", "") == []


def test_common_prefixes_include_prefix_and_end_with_delimiter(tree: FileSystemObjectStore) -> None:
    assert tree.list_common_prefixes(BUCKET, "pfx/backups/", "/") == [
        "pfx/backups/b1/",
        "pfx/backups/b10/",
        "pfx/backups/b2/",
    ]
    assert tree.list_common_prefixes(BUCKET, "pfx/", "/") == [
        "pfx/backups/",
        "pfx/metadata/",
        "pfx/restores/",
    ]
    assert tree.list_common_prefixes(BUCKET, "", "/") == ["other/", "pfx/"]
    assert tree.list_common_prefixes(BUCKET, "pfx/backups/b1", "/") == ["pfx/backups/b1/", "pfx/backups/b10/"]
    assert tree.list_common_prefixes(BUCKET, "pfx/", "") == []


def test_common_prefixes_with_other_delimiter(tree: FileSystemObjectStore) -> None:
    assert tree.list_common_prefixes(BUCKET, "pfx/backups/b1/", ".") == [
        "pfx/backups/b1/b1.",
        "pfx/backups/b1/velero-backup.",
    ]
    # as S3: the cut is at the first delimiter after the prefix, wherever it is (even past a '/')
    assert tree.list_common_prefixes(BUCKET, "pfx/", "-") == [
        "pfx/backups/b1/velero-",
        "pfx/backups/b10/velero-",
        "pfx/backups/b2/velero-",
        "pfx/top-",
    ]


def test_key_conflicts_are_clear(tree: FileSystemObjectStore) -> None:
    with pytest.raises(KeyConflictError, match="already an object"):
        put(tree, "pfx/top-level-file/child")
    with pytest.raises(KeyConflictError, match="folder of other keys"):
        put(tree, "pfx/backups")


def test_signed_url_is_file_url_of_the_object(tree: FileSystemObjectStore) -> None:
    url = tree.create_signed_url(BUCKET, "pfx/backups/b1/b1.tar.gz", timedelta(minutes=10))
    parsed = urlparse(url)
    assert parsed.scheme == "file"
    assert Path(unquote(parsed.path)).read_bytes() == b"pfx/backups/b1/b1.tar.gz"


def test_signed_url_quotes_special_characters(store: FileSystemObjectStore) -> None:
    put(store, "with space/and#hash", b"q")
    url = store.create_signed_url(BUCKET, "with space/and#hash", timedelta(seconds=1))
    assert " " not in url and "#" not in url
    assert Path(unquote(urlparse(url).path)).read_bytes() == b"q"
