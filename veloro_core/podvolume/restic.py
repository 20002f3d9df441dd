"""A thin wrapper around the restic executable: init, backup, restore, forget/prune, snapshots.

restic runs as a subprocess with an argument list (never through a shell). The repository password reaches
it through RESTIC_PASSWORD_FILE (a private file) and object-store credentials through the environment, so
neither ever appears on a command line, in `ps`, or in our logs. Known failure texts of restic 0.14+ are
translated into the error classes of veloro_core.podvolume.errors with a message saying what to do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson
import structlog

from veloro_core.podvolume.errors import (
    RepositoryLockedError,
    RepositoryNotFoundError,
    ResticCommandError,
    ResticNotFoundError,
    WrongPasswordError,
)

log = structlog.get_logger("veloro.podvolume.restic")

# Every snapshot gets this host name, so `restic snapshots` does not depend on which node made it.
SNAPSHOT_HOST = "veloro"
STDERR_TAIL_LINES = 20
ProgressCallback = Callable[[int, int], None]  # (bytes_done, total_bytes)


@dataclass(frozen=True)
class ResticRepo:
    """How to reach one repository. `env` carries credentials: never log it (repr hides it)."""

    identifier: str
    password_file: str
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    flags: tuple[str, ...] = ()  # e.g. --cacert FILE, -o s3.region=...


@dataclass(frozen=True)
class BackupSummary:
    snapshot_id: str
    total_bytes: int
    files: int


class Restic:
    """restic commands on a ResticRepo. lock_wait: how long to retry while the repository is locked."""

    def __init__(
        self, binary: str = "restic", *, lock_wait: float = 30.0, cache_dir: str | None = None
    ) -> None:
        self.binary = binary
        self.lock_wait = lock_wait
        self.cache_dir = cache_dir

    # ---- plumbing -----------------------------------------------------------------------------
    def _executable(self) -> str:
        path = shutil.which(self.binary)
        if path is None:
            raise ResticNotFoundError(
                f"the restic executable {self.binary!r} was not found on PATH: install restic "
                "(e.g. apt-get install restic) on every node that runs the node agent"
            )
        return path

    def _env(self, repo: ResticRepo) -> dict[str, str]:
        # Inherit the environment (PATH, proxies, ambient cloud identity) but never stray RESTIC_* settings.
        env = {k: v for k, v in os.environ.items() if not k.startswith("RESTIC_")}
        if any(k.startswith("AWS_") for k in repo.env):
            # the location's own keys: an ambient session token or profile must not mix with them
            env = {k: v for k, v in env.items() if not k.startswith("AWS_")}
        env.update(repo.env)
        env["RESTIC_REPOSITORY"] = repo.identifier
        env["RESTIC_PASSWORD_FILE"] = repo.password_file
        if self.cache_dir:
            env["RESTIC_CACHE_DIR"] = self.cache_dir
        return env

    def _command(self, repo: ResticRepo, args: Sequence[str]) -> list[str]:
        return [self._executable(), *repo.flags, *args]

    def run(
        self,
        repo: ResticRepo,
        args: Sequence[str],
        *,
        cwd: str | None = None,
        on_line: Callable[[bytes], None] | None = None,
        ok_codes: tuple[int, ...] = (0,),
    ) -> bytes:
        """Run restic, retrying while the repository is locked; stdout is returned (or fed to on_line)."""
        deadline = time.monotonic() + self.lock_wait
        delay = 0.5
        while True:
            try:
                return self._run_once(repo, args, cwd=cwd, on_line=on_line, ok_codes=ok_codes)
            except RepositoryLockedError:
                if time.monotonic() + delay > deadline:
                    raise
                log.info("restic repository locked, retrying", command=args[0], repository=repo.identifier)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _run_once(
        self,
        repo: ResticRepo,
        args: Sequence[str],
        *,
        cwd: str | None,
        on_line: Callable[[bytes], None] | None,
        ok_codes: tuple[int, ...],
    ) -> bytes:
        command = self._command(repo, args)
        try:
            proc = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                cwd=cwd,
                env=self._env(repo),
            )
        except OSError as exc:
            raise ResticNotFoundError(f"could not start restic ({command[0]}): {exc}") from exc
        assert proc.stdout is not None and proc.stderr is not None
        tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        reader = threading.Thread(target=_drain, args=(proc.stderr, tail), daemon=True)
        reader.start()
        out = bytearray()
        for line in proc.stdout:
            if on_line is not None:
                on_line(line)
            else:
                out += line
        code = proc.wait()
        reader.join()
        if code not in ok_codes:
            raise classify(args[0], repo.identifier, code, "\n".join(tail))
        return bytes(out)

    # ---- repository -----------------------------------------------------------------------------
    def version(self) -> str:
        result = subprocess.run([self._executable(), "version"], capture_output=True, text=True, check=False)
        return result.stdout.strip()

    def is_initialized(self, repo: ResticRepo) -> bool:
        """True when a repository exists and the password opens it (WrongPasswordError otherwise)."""
        try:
            self.run(repo, ["cat", "config", "--no-lock"])
        except RepositoryNotFoundError:
            return False
        return True

    def init(self, repo: ResticRepo) -> None:
        if repo.identifier and not repo.identifier.startswith(
            ("s3:", "azure:", "gs:", "b2:", "rest:", "sftp:")
        ):
            Path(repo.identifier).parent.mkdir(parents=True, exist_ok=True)
        self.run(repo, ["init"])
        log.info("restic repository initialised", repository=repo.identifier)

    def ensure(self, repo: ResticRepo) -> bool:
        """Initialise the repository unless it exists; True when it was created now."""
        if self.is_initialized(repo):
            return False
        try:
            self.init(repo)
        except ResticCommandError as exc:
            # Another agent may have initialised it in the meantime: that is fine if we can open it now.
            if "already" in exc.stderr and self.is_initialized(repo):
                return False
            raise
        return True

    def unlock(self, repo: ResticRepo) -> None:
        """Remove stale locks (restic only removes locks whose process is gone)."""
        self.run(repo, ["unlock"])

    # ---- data -----------------------------------------------------------------------------------
    def backup(
        self,
        repo: ResticRepo,
        path: str,
        tags: Mapping[str, str],
        on_progress: ProgressCallback | None = None,
    ) -> BackupSummary:
        """Back up the contents of directory `path`. restic runs IN the directory on ".", so the snapshot's
        tree holds the volume's files at its root (as Velero's does) and restores need no path rewriting."""
        args = ["backup", "--json", "--host", SNAPSHOT_HOST]
        for key, value in sorted(tags.items()):
            args += ["--tag", f"{key}={value}"]
        args.append(".")
        parser = _BackupOutput(on_progress)
        # Exit code 3: the snapshot was written but some files could not be read (they changed or vanished
        # while reading); like restic itself we keep the snapshot.
        self.run(repo, args, cwd=path, on_line=parser.feed, ok_codes=(0, 3))
        if not parser.snapshot_id:
            raise ResticCommandError(f"restic backup of {path} finished without reporting a snapshot id")
        return BackupSummary(self._full_id(repo, parser.snapshot_id), parser.total_bytes, parser.files)

    def _full_id(self, repo: ResticRepo, short_id: str) -> str:
        """restic 0.14 reports the short id in its summary; store the full one, as Velero does."""
        for snap in self.snapshots(repo, ids=[short_id]):
            if str(snap.get("id", "")).startswith(short_id):
                return str(snap["id"])
        return short_id

    def snapshots(
        self, repo: ResticRepo, *, ids: Sequence[str] = (), tags: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        args = ["snapshots", "--json", "--no-lock"]
        if tags:
            args += ["--tag", ",".join(f"{k}={v}" for k, v in sorted(tags.items()))]
        data = orjson.loads(self.run(repo, [*args, *ids]) or b"[]")
        return [s for s in data or [] if isinstance(s, dict)]

    def ls_root(self, repo: ResticRepo, snapshot_id: str, directory: str = "/") -> list[dict[str, Any]]:
        """Nodes directly inside `directory` of a snapshot's tree."""
        nodes = []
        for line in self.run(repo, ["ls", "--json", "--no-lock", snapshot_id, directory]).splitlines():
            if line.strip():
                item = orjson.loads(line)
                if isinstance(item, dict) and item.get("struct_type") == "node":
                    nodes.append(item)
        return nodes

    def restore(self, repo: ResticRepo, snapshot_id: str, target: str) -> None:
        """Restore a snapshot's volume files into directory `target`.

        Snapshots made by veloro/Velero hold the files at the tree's root. A snapshot made of an absolute
        path (`restic backup /some/dir`) holds them under that path; those are restored into a staging
        folder inside `target` and the inner folder's entries moved up, so either way the files land
        directly in `target`.
        """
        inner = self._absolute_root(repo, snapshot_id)
        if inner is None:
            self.run(repo, ["restore", snapshot_id, "--target", target])
            return
        staging = Path(target) / f".veloro-restore-{snapshot_id[:12]}"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            self.run(repo, ["restore", snapshot_id, "--target", str(staging), "--include", inner])
            source = staging / inner.lstrip("/")
            for entry in source.iterdir() if source.is_dir() else ():
                destination = Path(target) / entry.name
                if destination.is_dir() and not destination.is_symlink():
                    shutil.rmtree(destination)
                os.replace(entry, destination)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _absolute_root(self, repo: ResticRepo, snapshot_id: str) -> str | None:
        """The snapshot's path when its tree nests the files under it (an absolute-path backup)."""
        snaps = self.snapshots(repo, ids=[snapshot_id])
        paths = [str(p) for p in (snaps[0].get("paths") or [])] if snaps else []
        if len(paths) != 1 or not paths[0].startswith("/") or paths[0] == "/":
            return None
        if snaps[0].get("hostname") in (SNAPSHOT_HOST, "velero"):
            return None  # made by veloro or Velero: always relative to the volume (saves a restic call)
        for node in self.ls_root(repo, snapshot_id, paths[0]):
            if node.get("path") == paths[0] and node.get("type") == "dir":
                return paths[0]
        return None

    def forget(self, repo: ResticRepo, snapshot_ids: Sequence[str], *, prune: bool = True) -> list[str]:
        """Forget the snapshots that still exist (deleting twice is not an error); returns those forgotten."""
        existing = [str(s.get("id", "")) for s in self.snapshots(repo)]
        present = sorted(
            {full for wanted in snapshot_ids for full in existing if wanted and full.startswith(wanted)}
        )
        if present:
            self.run(repo, ["forget", *(["--prune"] if prune else []), *present])
        return present

    def prune(self, repo: ResticRepo) -> None:
        self.run(repo, ["prune"])


def _drain(stream: IO[bytes], tail: deque[str]) -> None:
    for raw in stream:
        tail.append(raw.decode(errors="replace").rstrip())


class _BackupOutput:
    """Parses `restic backup --json` lines: status (progress) and the final summary (snapshot id)."""

    def __init__(self, on_progress: ProgressCallback | None) -> None:
        self.on_progress = on_progress
        self.snapshot_id = ""
        self.total_bytes = 0
        self.files = 0

    def feed(self, line: bytes) -> None:
        try:
            msg = orjson.loads(line)
        except orjson.JSONDecodeError:
            return  # restic prints the odd non-JSON warning even in --json mode
        if not isinstance(msg, dict):
            return
        kind = msg.get("message_type")
        if kind == "status":
            self.total_bytes = int(msg.get("total_bytes") or 0)
            if self.on_progress is not None:
                self.on_progress(int(msg.get("bytes_done") or 0), self.total_bytes)
        elif kind == "summary":
            self.snapshot_id = str(msg.get("snapshot_id") or "")
            self.total_bytes = int(msg.get("total_bytes_processed") or 0)
            self.files = int(msg.get("total_files_processed") or 0)
            if self.on_progress is not None:
                self.on_progress(self.total_bytes, self.total_bytes)


def classify(command: str, identifier: str, code: int, stderr: str) -> ResticCommandError:
    """The error class and a user-facing message for a failed restic command."""
    text = stderr.lower()
    detail = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit code {code}"
    if "wrong password" in text or "no key found" in text:
        return WrongPasswordError(
            f"restic repository {identifier}: wrong password (no key in the repository matches it); the "
            "repository password secret must hold the password the repository was created with",
            stderr=stderr,
            exit_code=code,
        )
    if "already locked" in text or "unable to create lock" in text:
        return RepositoryLockedError(
            f"restic repository {identifier} is locked by another restic process; wait for it to finish, or "
            f"if none runs remove the stale lock with `restic unlock` ({detail})",
            stderr=stderr,
            exit_code=code,
        )
    if "is there a repository at the following location" in text or "repository does not exist" in text:
        return RepositoryNotFoundError(
            f"there is no restic repository at {identifier}: it has not been initialised yet, or the "
            "backup storage location points somewhere else",
            stderr=stderr,
            exit_code=code,
        )
    return ResticCommandError(
        f"restic {command} failed for repository {identifier}: {detail}", stderr=stderr, exit_code=code
    )
