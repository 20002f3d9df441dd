"""Secrets restic needs, as private files: the repository password and a location's cloud credentials.

The repository password lives in the Secret `veloro-repo-credentials` (key `repository-password`) of the
server namespace. When it is missing it is created with Velero's default password: the password must
survive the loss of the cluster (a disaster-recovery restore into a new cluster has to open the
repository), and repositories written by Velero with its default stay readable. Operators who want their
own password create the Secret before the first file-level backup (docs/file-system-backup.md).
"""

from __future__ import annotations

import base64
import configparser
import hashlib
import os
import shutil
import tempfile
import threading

from veloro_core.api import SecretKeySelector
from veloro_core.kube import AlreadyExists, GroupVersionResource, KubeClient, KubeError, NotFound
from veloro_core.podvolume.errors import CredentialsError

SECRETS = GroupVersionResource("", "v1", "secrets")
REPO_PASSWORD_SECRET = "veloro-repo-credentials"
REPO_PASSWORD_KEY = "repository-password"
DEFAULT_REPO_PASSWORD = "static-passw0rd"  # Velero's default, for interoperability (see module docstring)


class CredentialFiles:
    """Writes secret values to files (0600, in a private 0700 folder), named by content hash."""

    def __init__(self, kube: KubeClient, namespace: str, directory: str | None = None) -> None:
        self.kube = kube
        self.namespace = namespace
        self._own_dir = directory is None
        self.directory = directory or tempfile.mkdtemp(prefix="veloro-restic-")
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        self._lock = threading.Lock()

    def write(self, data: bytes) -> str:
        path = os.path.join(self.directory, hashlib.sha256(data).hexdigest()[:24])
        with self._lock:
            if not os.path.exists(path):
                fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                os.replace(path + ".tmp", path)
        return path

    def _secret(self, name: str) -> dict[str, str] | None:
        try:
            secret = self.kube.get(SECRETS, name, self.namespace)
        except NotFound:
            return None
        except KubeError as exc:
            raise CredentialsError(f"could not read secret {self.namespace}/{name}: {exc}") from exc
        data = secret.get("data") or {}
        return {str(k): str(v) for k, v in data.items()}

    def password_file(self) -> str:
        """The repository password, creating the Secret with the default password when it is missing."""
        data = self._secret(REPO_PASSWORD_SECRET)
        if data is None:
            data = self._create_password_secret()
        raw = data.get(REPO_PASSWORD_KEY)
        if not raw:
            raise CredentialsError(
                f"secret {self.namespace}/{REPO_PASSWORD_SECRET} has no key {REPO_PASSWORD_KEY!r}; add the "
                "restic repository password under that key"
            )
        return self.write(base64.b64decode(raw))

    def _create_password_secret(self) -> dict[str, str]:
        encoded = base64.b64encode(DEFAULT_REPO_PASSWORD.encode()).decode()
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {
                "name": REPO_PASSWORD_SECRET,
                "namespace": self.namespace,
                "labels": {"component": "veloro"},
            },
            "data": {REPO_PASSWORD_KEY: encoded},
        }
        try:
            self.kube.create(SECRETS, body, self.namespace)
        except AlreadyExists:  # another agent or the server created it first: use theirs
            existing = self._secret(REPO_PASSWORD_SECRET)
            if existing is not None:
                return existing
        except KubeError as exc:
            raise CredentialsError(
                f"could not create the repository password secret {self.namespace}/{REPO_PASSWORD_SECRET}: "
                f"{exc}"
            ) from exc
        return {REPO_PASSWORD_KEY: encoded}

    def selector_file(self, selector: SecretKeySelector) -> str:
        """The value of a location's credential (a key of a Secret in the server namespace)."""
        data = self._secret(selector.name)
        if data is None:
            raise CredentialsError(
                f"credential secret {self.namespace}/{selector.name} does not exist; create it or fix the "
                "backup storage location's spec.credential"
            )
        raw = data.get(selector.key)
        if raw is None:
            raise CredentialsError(
                f"credential secret {self.namespace}/{selector.name} has no key {selector.key!r}; fix "
                "spec.credential.key of the backup storage location"
            )
        return self.write(base64.b64decode(raw))

    def close(self) -> None:
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)


def aws_env_from_file(path: str, profile: str = "") -> dict[str, str]:
    """AWS_* variables for restic's S3 backend from an AWS shared-credentials file (INI)."""
    parser = configparser.ConfigParser()
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except (OSError, configparser.Error) as exc:
        raise CredentialsError(
            f"could not read the AWS credentials file of the location ({type(exc).__name__}); it must be "
            "an AWS shared-credentials file with aws_access_key_id and aws_secret_access_key"
        ) from exc
    section = profile or "default"
    if not parser.has_section(section):
        raise CredentialsError(
            f"the AWS credentials file of the location has no profile [{section}]; add it or set the "
            "location's config.profile"
        )
    keys = {
        "aws_access_key_id": "AWS_ACCESS_KEY_ID",
        "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY",
        "aws_session_token": "AWS_SESSION_TOKEN",
    }
    env = {
        var: parser.get(section, key).strip() for key, var in keys.items() if parser.has_option(section, key)
    }
    if "AWS_ACCESS_KEY_ID" not in env or "AWS_SECRET_ACCESS_KEY" not in env:
        raise CredentialsError(
            f"profile [{section}] of the location's AWS credentials file lacks aws_access_key_id or "
            "aws_secret_access_key"
        )
    return env
