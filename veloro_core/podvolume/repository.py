"""Where a (backup storage location, volume namespace) keeps its restic repository, and how to reach it.

Layout (backup-format.md): `<bucket>/<prefix>/restic/<namespace>` inside the location.
- filesystem store (`veloro.io/filesystem`, config.root): the local path
  `<root>/<bucket>/<prefix>/restic/<ns>`;
- aws: `s3:<s3Url>/<bucket>/<prefix>/restic/<ns>`, or `s3:s3.amazonaws.com/...` (`s3-<region>.amazonaws.com`
  outside us-east-1) without s3Url, the identifier Velero writes.
"""

from __future__ import annotations

import base64
import os

from veloro_core.api import (
    GROUP,
    VERSION,
    ApiValidationError,
    BackupStorageLocation,
)
from veloro_core.kube import GroupVersionResource, KubeClient, NotFound
from veloro_core.podvolume.credentials import CredentialFiles, aws_env_from_file
from veloro_core.podvolume.errors import PodVolumeError, UnsupportedLocationError
from veloro_core.podvolume.restic import ResticRepo

FILESYSTEM_PROVIDERS = frozenset({"veloro.io/filesystem", "filesystem"})
AWS_PROVIDERS = frozenset({"aws", "velero.io/aws", "veloro.io/aws"})
_TRUE = frozenset({"1", "t", "true", "y", "yes", "on"})
BSLS = GroupVersionResource(GROUP, VERSION, BackupStorageLocation.PLURAL)


def repository_key(bsl: BackupStorageLocation, volume_namespace: str) -> str:
    """The repository's folder inside the bucket: `<prefix>/restic/<namespace>`."""
    if not volume_namespace or "/" in volume_namespace or volume_namespace in (".", ".."):
        raise PodVolumeError(f"invalid volume namespace {volume_namespace!r} for a restic repository")
    return "/".join(p for p in (bsl.spec.prefix, "restic", volume_namespace) if p)


def _require_bucket(bsl: BackupStorageLocation) -> str:
    if not bsl.spec.bucket:
        raise UnsupportedLocationError(
            f"backup storage location {bsl.name!r} has no spec.objectStorage.bucket"
        )
    return bsl.spec.bucket


def repository_identifier(bsl: BackupStorageLocation, volume_namespace: str) -> str:
    """restic's repository string for the location and namespace (PodVolumeBackup.spec.repoIdentifier)."""
    provider = bsl.spec.provider
    bucket = _require_bucket(bsl)
    key = repository_key(bsl, volume_namespace)
    if provider in FILESYSTEM_PROVIDERS:
        root = bsl.spec.config.get("root", "").strip()
        if not root:
            raise UnsupportedLocationError(
                f"backup storage location {bsl.name!r} (filesystem) has no config.root; set it to the "
                "folder that holds the buckets"
            )
        return os.path.join(os.path.abspath(os.path.expanduser(root)), bucket, key)
    if provider in AWS_PROVIDERS:
        return f"s3:{_s3_endpoint(bsl)}/{bucket}/{key}"
    raise UnsupportedLocationError(
        f"file-level volume backup does not support provider {provider!r} of backup storage location "
        f"{bsl.name!r}; supported: {', '.join(sorted(FILESYSTEM_PROVIDERS | AWS_PROVIDERS))}"
    )


def _s3_endpoint(bsl: BackupStorageLocation) -> str:
    url = bsl.spec.config.get("s3Url", "").strip().rstrip("/")
    if url:
        return url
    region = bsl.spec.config.get("region", "").strip() or "us-east-1"
    return "s3.amazonaws.com" if region == "us-east-1" else f"s3-{region}.amazonaws.com"


def repository_access(
    bsl: BackupStorageLocation, volume_namespace: str, files: CredentialFiles
) -> ResticRepo:
    """Identifier, password file, credentials (environment) and flags to open the repository."""
    identifier = repository_identifier(bsl, volume_namespace)
    password = files.password_file()
    if bsl.spec.provider not in AWS_PROVIDERS:
        return ResticRepo(identifier, password)
    config = bsl.spec.config
    flags: list[str] = []
    if config.get("region", "").strip():
        flags += ["-o", f"s3.region={config['region'].strip()}"]
    if config.get("s3ForcePathStyle", "").strip().lower() in _TRUE:
        flags += ["-o", "s3.bucket-lookup=path"]
    if config.get("insecureSkipTLSVerify", "").strip().lower() in _TRUE:
        flags.append("--insecure-tls")
    if bsl.spec.object_storage is not None and bsl.spec.object_storage.ca_cert:
        flags += ["--cacert", files.write(base64.b64decode(bsl.spec.object_storage.ca_cert))]
    return ResticRepo(identifier, password, _aws_env(bsl, files), tuple(flags))


def _aws_env(bsl: BackupStorageLocation, files: CredentialFiles) -> dict[str, str]:
    """Keys from the location's own credential, else its credentialsFile, else the shared file the
    install mounts (AWS_SHARED_CREDENTIALS_FILE); nothing (ambient identity) when there is none."""
    profile = bsl.spec.config.get("profile", "").strip()
    if bsl.spec.credential is not None and bsl.spec.credential.name:
        return aws_env_from_file(files.selector_file(bsl.spec.credential), profile)
    path = bsl.spec.config.get("credentialsFile", "").strip() or os.environ.get(
        "AWS_SHARED_CREDENTIALS_FILE", ""
    )
    if path and os.path.isfile(path) and not os.environ.get("AWS_ACCESS_KEY_ID"):
        return aws_env_from_file(path, profile)
    return {}


def load_bsl(kube: KubeClient, namespace: str, name: str) -> BackupStorageLocation:
    try:
        obj = kube.get(BSLS, name, namespace)
    except NotFound as exc:
        raise PodVolumeError(
            f"backup storage location {name!r} does not exist in namespace {namespace!r}"
        ) from exc
    try:
        return BackupStorageLocation.from_dict(obj)
    except ApiValidationError as exc:
        raise PodVolumeError(f"backup storage location {name!r} is malformed: {exc}") from exc
