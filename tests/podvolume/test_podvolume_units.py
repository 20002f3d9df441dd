"""One layer at a time: the selection rules (pure), repository identifiers, and the restic wrapper against
the real restic binary on local repositories."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from pv_helpers import read_tree, restic_env, write_tree

from veloro_core.api import BackupStorageLocation
from veloro_core.podvolume import (
    RepositoryLockedError,
    RepositoryNotFoundError,
    Restic,
    ResticNotFoundError,
    ResticRepo,
    UnsupportedLocationError,
    WrongPasswordError,
    choose_volumes,
    repository_identifier,
    volumes_to_back_up,
)
from veloro_core.podvolume.credentials import aws_env_from_file
from veloro_core.podvolume.errors import CredentialsError


def _pod(annotations: dict[str, str] | None = None, unmounted: tuple[str, ...] = ()) -> dict[str, Any]:
    volumes = [
        {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
        {"name": "scratch", "emptyDir": {}},
        {"name": "cfg", "configMap": {"name": "c"}},
        {"name": "sec", "secret": {"secretName": "s"}},
        {"name": "proj", "projected": {"sources": []}},
        {"name": "down", "downwardAPI": {"items": []}},
        {"name": "host", "hostPath": {"path": "/var/log"}},
        {"name": "default-token-abcde", "secret": {"secretName": "t"}},
        {"name": "nfs", "nfs": {"server": "x", "path": "/"}},
    ]
    mounts = [
        {"name": v["name"], "mountPath": "/m/" + v["name"]} for v in volumes if v["name"] not in unmounted
    ]
    return {
        "metadata": {"name": "p", "namespace": "ns", "annotations": annotations or {}},
        "spec": {
            "containers": [{"name": "c", "volumeMounts": mounts[:4]}],
            "initContainers": [{"name": "i", "volumeMounts": mounts[4:]}],
            "volumes": volumes,
        },
    }


def test_nothing_is_backed_up_without_opt_in_or_the_default() -> None:
    assert volumes_to_back_up(_pod(), False) == []


def test_opt_in_takes_the_named_volumes_in_both_spellings() -> None:
    pod = _pod(
        {
            "backup.velero.io/backup-volumes": " data,scratch ,, data",
            "backup.veloro.io/backup-volumes": "cfg,nfs",
        }
    )
    assert volumes_to_back_up(pod, False) == ["data", "scratch", "cfg", "nfs"]


def test_opt_in_refuses_host_path_unknown_and_unmounted_volumes_with_warnings() -> None:
    pod = _pod({"backup.velero.io/backup-volumes": "host,nope,scratch"}, unmounted=("scratch",))
    choices = {c.name: c for c in choose_volumes(pod, False)}
    assert volumes_to_back_up(pod, False) == []
    assert choices["host"].warn and "hostPath" in choices["host"].reason
    assert choices["nope"].warn and "no volume" in choices["nope"].reason
    assert choices["scratch"].warn and "mounts" in choices["scratch"].reason


def test_default_takes_data_volumes_only_and_honours_excludes() -> None:
    assert volumes_to_back_up(_pod(), True) == ["data", "scratch", "nfs"]
    pod = _pod(
        {
            "backup.velero.io/backup-volumes-excludes": "scratch",
            "backup.veloro.io/backup-volumes-excludes": "nfs",
        }
    )
    assert volumes_to_back_up(pod, True) == ["data"]
    # with the default on, the opt-in annotation does not narrow the selection (Velero ignores it then)
    assert volumes_to_back_up(_pod({"backup.velero.io/backup-volumes": "data"}), True) == [
        "data",
        "scratch",
        "nfs",
    ]
    assert not any(c.warn for c in choose_volumes(_pod(), True))


def _bsl(provider: str, config: dict[str, str], prefix: str = "/pre/fix/") -> BackupStorageLocation:
    return BackupStorageLocation.from_dict(
        {
            "metadata": {"name": "loc"},
            "spec": {
                "provider": provider,
                "objectStorage": {"bucket": "bkt", "prefix": prefix},
                "config": config,
            },
        }
    )


def test_repository_identifiers_follow_the_bucket_layout() -> None:
    assert (
        repository_identifier(_bsl("veloro.io/filesystem", {"root": "/srv/store"}), "app")
        == "/srv/store/bkt/pre/fix/restic/app"
    )
    assert (
        repository_identifier(_bsl("aws", {"s3Url": "http://127.0.0.1:9000/"}, ""), "app")
        == "s3:http://127.0.0.1:9000/bkt/restic/app"
    )
    assert (
        repository_identifier(_bsl("velero.io/aws", {"region": "eu-west-1"}), "app")
        == "s3:s3-eu-west-1.amazonaws.com/bkt/pre/fix/restic/app"
    )
    assert repository_identifier(_bsl("aws", {}), "app") == "s3:s3.amazonaws.com/bkt/pre/fix/restic/app"
    with pytest.raises(UnsupportedLocationError, match="does not support provider 'azure'"):
        repository_identifier(_bsl("azure", {}), "app")
    with pytest.raises(UnsupportedLocationError, match=r"config\.root"):
        repository_identifier(_bsl("veloro.io/filesystem", {}), "app")


def test_aws_credentials_file_becomes_environment_and_bad_files_say_why(tmp_path: Path) -> None:
    good = tmp_path / "cloud"
    good.write_text(
        "[default]\naws_access_key_id = AK\naws_secret_access_key = SK\n[other]\n"
        "aws_access_key_id=A2\naws_secret_access_key=S2\naws_session_token=T\n"
    )
    assert aws_env_from_file(str(good)) == {"AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK"}
    assert aws_env_from_file(str(good), "other")["AWS_SESSION_TOKEN"] == "T"
    with pytest.raises(CredentialsError, match=r"no profile \[nope\]"):
        aws_env_from_file(str(good), "nope")
    bad = tmp_path / "bad"
    bad.write_text("[default]\naws_access_key_id = AK\n")
    with pytest.raises(CredentialsError, match="lacks") as info:
        aws_env_from_file(str(bad))
    assert "AK" not in str(info.value)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> ResticRepo:
    """`restic init` costs seconds (key derivation): initialise once, copy per test."""
    root = tmp_path_factory.mktemp("template")
    password = root / "password"
    password.write_text("pw")
    password.chmod(0o600)
    repo = ResticRepo(str(root / "repo"), str(password))
    Restic().init(repo)
    return repo


@pytest.fixture
def repo(template: ResticRepo, tmp_path: Path) -> ResticRepo:
    shutil.copytree(template.identifier, tmp_path / "repo")
    return ResticRepo(str(tmp_path / "repo"), template.password_file)


@pytest.fixture
def empty_repo(template: ResticRepo, tmp_path: Path) -> ResticRepo:
    return ResticRepo(str(tmp_path / "fresh"), template.password_file)


def test_missing_restic_is_reported_with_what_to_install(repo: ResticRepo) -> None:
    with pytest.raises(ResticNotFoundError, match="install restic"):
        Restic("restic-not-installed-here").ensure(repo)


def test_ensure_initialises_a_missing_repository_once(empty_repo: ResticRepo) -> None:
    restic = Restic()
    assert restic.is_initialized(empty_repo) is False
    with pytest.raises(RepositoryNotFoundError, match="no restic repository"):
        restic.snapshots(empty_repo)
    assert restic.ensure(empty_repo) is True
    assert restic.ensure(empty_repo) is False


def test_backup_and_restore_with_tags_progress_and_full_snapshot_ids(
    repo: ResticRepo, tmp_path: Path
) -> None:
    restic = Restic()
    source = tmp_path / "src"
    files = write_tree(source, seed=7)
    progress: list[tuple[int, int]] = []
    summary = restic.backup(
        repo, str(source), {"backup": "b", "volume": "v"}, lambda d, t: progress.append((d, t))
    )
    assert len(summary.snapshot_id) == 64 and summary.files == len(files)
    assert progress and progress[-1][0] == progress[-1][1] == summary.total_bytes
    snaps = restic.snapshots(repo, tags={"backup": "b"})
    assert [s["id"] for s in snaps] == [summary.snapshot_id] and sorted(snaps[0]["tags"]) == [
        "backup=b",
        "volume=v",
    ]
    target = tmp_path / "dst"
    target.mkdir()
    restic.restore(repo, summary.snapshot_id, str(target))
    assert read_tree(target) == files


def test_snapshots_of_absolute_paths_restore_their_inner_files(repo: ResticRepo, tmp_path: Path) -> None:
    """`restic backup /abs/dir` (not veloro's way) nests the files under the path: they still land in
    the target itself."""
    restic = Restic()
    source = tmp_path / "abs" / "vol"
    files = write_tree(source, seed=8)
    restic.run(repo, ["backup", "-q", str(source)])
    snapshot = str(restic.snapshots(repo)[0]["id"])
    target = tmp_path / "out"
    target.mkdir()
    (target / "nested").mkdir()  # an existing folder of the same name is replaced, not nested into
    restic.restore(repo, snapshot, str(target))
    assert read_tree(target) == files
    assert sorted(p.name for p in target.iterdir()) == sorted({r.split("/")[0] for r in files})


def test_wrong_password_is_reported_as_such(repo: ResticRepo, tmp_path: Path) -> None:
    restic = Restic()
    wrong = tmp_path / "wrong"
    wrong.write_text("nope")
    with pytest.raises(WrongPasswordError, match="wrong password"):
        restic.ensure(ResticRepo(repo.identifier, str(wrong)))


def test_a_locked_repository_is_retried_then_reported(repo: ResticRepo, tmp_path: Path) -> None:
    restic = Restic(lock_wait=1.0)
    summary = restic.backup(repo, str(write_tree(tmp_path / "s", 9) and tmp_path / "s"), {})
    env = restic_env(repo.identifier, "pw", tmp_path)
    # A backup reading stdin holds a (shared) lock as long as stdin stays open; forget needs an exclusive one.
    holder = subprocess.Popen(
        ["restic", "backup", "--stdin"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        lock_dir = Path(repo.identifier) / "locks"
        deadline = time.monotonic() + 10
        while not any(lock_dir.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)
        started = time.monotonic()
        with pytest.raises(RepositoryLockedError, match="locked by another restic process") as info:
            restic.forget(repo, [summary.snapshot_id])
        assert time.monotonic() - started >= 1.0  # retried for lock_wait before giving up
        assert "restic unlock" in str(info.value)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=20)
    assert restic.forget(repo, [summary.snapshot_id[:8]]) == [summary.snapshot_id]
