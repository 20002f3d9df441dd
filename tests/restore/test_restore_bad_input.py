"""Bad input ends in a clear FailedValidation or Failed (or a per-item error), never a crash or a hang."""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Iterable, Iterator
from datetime import timedelta

import orjson
import pytest
from restore_helpers import CONFIGMAPS, backup_cr, restore_cr, run, write_backup
from veloro_sdk.contracts import ObjectStore

from veloro_core.api.restore import RestorePhase
from veloro_core.archive import ExtractLimits
from veloro_core.kube import KubeClient, NotFound
from veloro_core.persistence import BackupStore
from veloro_core.plugins import PluginManager
from veloro_core.restore import RestoreSettings


def tarball(entries: list[tuple[str, bytes]], links: Iterable[tuple[str, str, bytes]] = ()) -> bytes:
    """A tar.gz written entry by entry with tarfile (links: (name, target, typeflag))."""
    buf = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
        for name, target, flag in links:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = flag, target
            tar.addfile(info)
    return buf.getvalue()


def cm_json(ns: str, name: str) -> bytes:
    return orjson.dumps(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": ns},
            "data": {"x": "y"},
        }
    )


def good_entries(ns: str) -> list[tuple[str, bytes]]:
    return [
        ("metadata/version", b"1.1.0\n"),
        (f"resources/configmaps/namespaces/{ns}/a.json", cm_json(ns, "a")),
        (f"resources/configmaps/v1-preferredversion/namespaces/{ns}/a.json", cm_json(ns, "a")),
    ]


def put_raw(store: BackupStore, name: str, data: bytes) -> dict:  # type: ignore[type-arg]
    meta = backup_cr(name)
    store.put_backup(name, meta, data)
    return meta


def failed(
    kube: KubeClient,
    plugins: PluginManager,
    store: BackupStore,
    name: str,
    data: bytes,
    settings: RestoreSettings | None = None,
) -> str:
    backup = put_raw(store, name, data)
    result = run(kube, plugins, store, restore_cr(f"r-{name}", name), backup, settings)
    assert result.phase is RestorePhase.FAILED, (result.phase, result.errors.to_dict())
    return result.failure_reason


def test_truncated_and_corrupt_tarballs(
    kube: KubeClient, plugins: PluginManager, store: BackupStore, ns: str
) -> None:
    data = tarball(good_entries(ns) * 1)
    assert "corrupt or truncated" in failed(kube, plugins, store, "trunc", data[: len(data) // 2])
    assert "corrupt or truncated" in failed(kube, plugins, store, "garbage", b"\x1f\x8b" + b"not gzip" * 50)
    with pytest.raises(NotFound):
        kube.get(CONFIGMAPS, "a", ns)


def test_path_traversal_and_link_entries_refused(
    kube: KubeClient, plugins: PluginManager, store: BackupStore, ns: str
) -> None:
    evil = tarball(
        [*good_entries(ns), (f"resources/configmaps/namespaces/{ns}/../../../../evil.json", b"{}")]
    )
    assert "'..'" in failed(kube, plugins, store, "dotdot", evil)
    absolute = tarball([*good_entries(ns), ("/etc/evil.json", b"{}")])
    assert "absolute" in failed(kube, plugins, store, "abs", absolute)
    link = tarball(
        good_entries(ns),
        links=[(f"resources/configmaps/namespaces/{ns}/l.json", "/etc/passwd", tarfile.SYMTYPE)],
    )
    assert "symbolic link" in failed(kube, plugins, store, "symlink", link)
    hard = tarball(
        good_entries(ns),
        links=[(f"resources/configmaps/namespaces/{ns}/h.json", "metadata/version", tarfile.LNKTYPE)],
    )
    assert "hard link" in failed(kube, plugins, store, "hardlink", hard)
    with pytest.raises(NotFound):
        kube.get(CONFIGMAPS, "a", ns)


def test_gzip_bomb_refused(kube: KubeClient, plugins: PluginManager, store: BackupStore, ns: str) -> None:
    bomb = tarball(
        [*good_entries(ns), (f"resources/configmaps/namespaces/{ns}/big.json", b"\0" * (40 << 20))]
    )
    assert len(bomb) < (1 << 20)
    settings = RestoreSettings(extract_limits=ExtractLimits(max_total_size=8 << 20, max_entry_size=4 << 20))
    reason = failed(kube, plugins, store, "bomb", bomb, settings)
    assert "limit" in reason


def test_unknown_format_version(
    kube: KubeClient, plugins: PluginManager, store: BackupStore, ns: str
) -> None:
    entries = [("metadata/version", b"2.0.0\n"), *good_entries(ns)[1:]]
    assert "format version 2.0.0 is not supported" in failed(kube, plugins, store, "v2", tarball(entries))


def test_non_json_item_is_an_item_error(
    kube: KubeClient, plugins: PluginManager, store: BackupStore, ns: str
) -> None:
    entries = [
        *good_entries(ns),
        (f"resources/configmaps/namespaces/{ns}/broken.json", b"{not json"),
        (f"resources/configmaps/namespaces/{ns}/list.json", b"[1, 2]"),
    ]
    backup = put_raw(store, "nonjson", tarball(entries))
    result = run(kube, plugins, store, restore_cr("r-nonjson", "nonjson"), backup)
    assert result.phase is RestorePhase.PARTIALLY_FAILED
    errors = result.errors.to_dict()["namespaces"][ns]
    assert len(errors) == 2 and all("not valid JSON" in e for e in errors), errors
    assert kube.get(CONFIGMAPS, "a", ns)["data"] == {"x": "y"}


def test_backup_missing_incomplete_or_not_completed(
    kube: KubeClient, plugins: PluginManager, store: BackupStore
) -> None:
    result = run(kube, plugins, store, restore_cr("r-missing", "nope"), backup_cr("nope"))
    assert result.phase is RestorePhase.FAILED_VALIDATION
    assert "backup 'nope' was not found" in result.validation_errors[0]
    store.store.put_object(store.bucket, "backups/half/half.tar.gz", [b"x"])
    result = run(kube, plugins, store, restore_cr("r-half", "half"), backup_cr("half"))
    assert result.phase is RestorePhase.FAILED_VALIDATION and "incomplete" in result.validation_errors[0]
    write_backup(store, "inprog", [])
    result = run(kube, plugins, store, restore_cr("r-ip", "inprog"), backup_cr("inprog", phase="InProgress"))
    assert result.phase is RestorePhase.FAILED_VALIDATION and "InProgress" in result.validation_errors[0]


class _DownStore(ObjectStore):
    """An object store whose every call fails as an unreachable endpoint does."""

    def _down(self) -> None:
        raise ConnectionError("connection refused (store endpoint down)")

    def init(self, config: dict[str, str]) -> None: ...
    def put_object(self, bucket: str, key: str, body: Iterable[bytes]) -> None:
        self._down()

    def object_exists(self, bucket: str, key: str) -> bool:
        self._down()
        return False

    def get_object(self, bucket: str, key: str) -> Iterator[bytes]:
        self._down()
        return iter(())

    def list_common_prefixes(self, bucket: str, prefix: str, delimiter: str) -> list[str]:
        self._down()
        return []

    def list_objects(self, bucket: str, prefix: str) -> list[str]:
        self._down()
        return []

    def delete_object(self, bucket: str, key: str) -> None:
        self._down()

    def create_signed_url(self, bucket: str, key: str, ttl: timedelta) -> str:
        self._down()
        return ""


def test_store_unavailable_fails_with_reason(kube: KubeClient, plugins: PluginManager) -> None:
    store = BackupStore(_DownStore(), "bucket", location="default")
    result = run(kube, plugins, store, restore_cr("r-down", "b"), backup_cr("b"))
    assert result.phase is RestorePhase.FAILED
    assert "unavailable" in result.failure_reason and "connection refused" in result.failure_reason
    assert any("uploading" in w for w in result.warnings.all_messages())  # results could not be uploaded
