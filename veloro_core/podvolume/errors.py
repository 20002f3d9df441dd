"""Errors of file-level volume backup. Every message says what went wrong and what to do about it."""

from __future__ import annotations


class PodVolumeError(Exception):
    """Base of every pod volume backup/restore error."""


class ResticNotFoundError(PodVolumeError):
    """The restic executable is not installed (or not on PATH)."""


class ResticCommandError(PodVolumeError):
    """restic exited non-zero; `stderr` holds the tail of what it printed (credentials never appear in it,
    they travel through files and the environment)."""

    def __init__(self, message: str, *, stderr: str = "", exit_code: int | None = None) -> None:
        super().__init__(message)
        self.stderr = stderr
        self.exit_code = exit_code


class WrongPasswordError(ResticCommandError):
    """The repository exists but the repository password does not open it."""


class RepositoryLockedError(ResticCommandError):
    """Another restic process holds a (possibly stale) lock on the repository."""


class RepositoryNotFoundError(ResticCommandError):
    """No restic repository at the identifier (never initialised, or the location points elsewhere)."""


class UnsupportedLocationError(PodVolumeError):
    """The backup storage location's provider has no restic backend mapping."""


class CredentialsError(PodVolumeError):
    """The repository password or the location's credentials could not be read."""


class VolumeDirNotFoundError(PodVolumeError):
    """The pod volume's directory is not (yet) on this node's disk."""


class PodVolumeTimeoutError(PodVolumeError):
    """PodVolumeBackups/PodVolumeRestores did not finish in time."""
