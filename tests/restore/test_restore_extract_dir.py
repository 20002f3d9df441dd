"""Where the restore extracts the backup: a roomy tmpfs (/dev/shm) unless the server names a temp dir or
turns it off; a full tmpfs makes it extract again on disk."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest
from restore_helpers import CONFIGMAPS, restore_cr, run, write_backup

import veloro_core.restore.engine as engine
from veloro_core.api.restore import RestorePhase
from veloro_core.archive import ArchiveError
from veloro_core.kube import KubeClient
from veloro_core.persistence import BackupStore
from veloro_core.restore import RestoreSettings, extractdir
from veloro_core.restore.extractdir import extract_parent, no_space


def test_extract_parent_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extractdir, "SHM", str(tmp_path))
    assert extract_parent(None, True, 1_000_000) == str(tmp_path)
    assert extract_parent("/srv/tmp", True, 1_000_000) == "/srv/tmp"  # the server's choice wins
    assert extract_parent(None, False, 1_000_000) is None  # turned off: the system temp dir
    free = os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize
    assert extract_parent(None, True, free // extractdir.EXPANSION) is None  # would not fit in half
    monkeypatch.setattr(extractdir, "SHM", str(tmp_path / "missing"))
    assert extract_parent(None, True, 10) is None


def test_no_space_sees_wrapped_errors() -> None:
    full = OSError(errno.ENOSPC, "No space left on device")
    wrapped = ArchiveError("cannot extract backup tarball entry 'x'")
    wrapped.__cause__ = full
    assert no_space(full) and no_space(wrapped)
    assert not no_space(ArchiveError("corrupt")) and not no_space(OSError(errno.EACCES, "denied"))


def _backup(store: BackupStore, ns: str, name: str) -> dict[str, Any]:
    items = [
        (
            "configmaps",
            "v1",
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}", "namespace": ns}},
        )
        for i in range(5)
    ]
    return write_backup(store, name, items)


def test_restore_extracts_on_tmpfs_and_falls_back_to_disk_when_full(
    kube: KubeClient, store: BackupStore, ns: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shm = tmp_path / "shm"
    shm.mkdir()
    monkeypatch.setattr(extractdir, "SHM", str(shm))
    real = engine.extract_tarball
    parents: list[str | None] = []

    def full_shm(fileobj: Any, **kwargs: Any) -> Any:
        parents.append(kwargs.get("parent_dir"))
        if kwargs.get("parent_dir") == str(shm):
            raise ArchiveError("cannot extract backup tarball entry") from OSError(errno.ENOSPC, "full")
        return real(fileobj, **kwargs)

    monkeypatch.setattr(engine, "extract_tarball", full_shm)
    backup = _backup(store, ns, "b-shm")
    settings = RestoreSettings(poll_interval=0.05, background_cleanup=False)
    result = run(kube, None, store, restore_cr("r-shm", "b-shm"), backup, settings)

    assert result.phase is RestorePhase.COMPLETED, result.failure_reason
    assert parents == [str(shm), None]  # tmpfs first, then the system temp dir
    assert "extracting it on disk" in b"".join(store.get_restore_log("r-shm")).decode()
    assert kube.get(CONFIGMAPS, "c4", ns)


def test_restore_extracts_on_tmpfs_when_it_has_room(
    kube: KubeClient, store: BackupStore, ns: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extractdir, "SHM", str(tmp_path))
    real = engine.extract_tarball
    seen: list[list[str]] = []

    def spy(fileobj: Any, **kwargs: Any) -> Any:
        contents = real(fileobj, **kwargs)
        seen.append(os.listdir(tmp_path))  # the extracted tree lives under the tmpfs folder
        return contents

    monkeypatch.setattr(engine, "extract_tarball", spy)
    backup = _backup(store, ns, "b-mem")
    settings = RestoreSettings(poll_interval=0.05, background_cleanup=False)
    result = run(kube, None, store, restore_cr("r-mem", "b-mem"), backup, settings)

    assert result.phase is RestorePhase.COMPLETED, result.failure_reason
    assert len(seen) == 1 and [n for n in seen[0] if n.startswith("veloro-backup-")]
    assert not [n for n in os.listdir(tmp_path) if n.startswith("veloro-backup-")]  # removed afterwards
    assert kube.get(CONFIGMAPS, "c0", ns)
