"""Config parsing and boto3 session construction shared by the S3 store and the EBS snapshotter.

The keys and their meaning follow Velero's aws plugin so that a BackupStorageLocation or
VolumeSnapshotLocation written for Velero works unchanged here.
"""

from __future__ import annotations

import os
import tempfile
import weakref
from collections.abc import Iterable, Mapping

import boto3
import botocore.session
import structlog
import urllib3
from botocore.exceptions import BotoCoreError, ProfileNotFound
from botocore.httpsession import DEFAULT_CA_BUNDLE
from veloro_sdk.contracts import PluginError

log = structlog.get_logger(__name__)

REGION = "region"
PROFILE = "profile"
CREDENTIALS_FILE = "credentialsFile"
ENABLE_SHARED_CONFIG = "enableSharedConfig"  # accepted for Velero compatibility; boto3 always reads it

_TRUE = {"1", "t", "true", "y", "yes", "on"}
_FALSE = {"0", "f", "false", "n", "no", "off", ""}


def validate_keys(config: Mapping[str, str], valid: Iterable[str], what: str) -> None:
    """Reject unknown keys like Velero does, so a typo ("s3URL") is an error instead of a silent default."""
    allowed = set(valid)
    unknown = sorted(k for k in config if k not in allowed)
    if unknown:
        raise PluginError(f"{what} config has invalid keys {unknown}; valid keys are {sorted(allowed)}")


def parse_bool(config: Mapping[str, str], key: str) -> bool:
    raw = config.get(key, "")
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise PluginError(f"could not parse config {key}={raw!r} (expected a boolean such as true or false)")


def validate_url(config: Mapping[str, str], key: str) -> str:
    url = config.get(key, "").strip()
    if url and not (url.startswith("http://") or url.startswith("https://")):
        raise PluginError(f"invalid config {key} {url!r}: it must be a URL starting with http:// or https://")
    return url.rstrip("/")


def make_session(config: Mapping[str, str]) -> boto3.Session:
    """A boto3 session honouring profile and credentialsFile.

    A credentialsFile named by the location wins over credentials in the environment: the user chose that
    secret for this location, so ambient AWS_ACCESS_KEY_ID must not silently replace it. The file is also
    used as the shared config file (Velero does the same, for role/web-identity setups).
    """
    credentials_file = config.get(CREDENTIALS_FILE, "").strip()
    profile = config.get(PROFILE, "").strip()
    core = botocore.session.Session()
    if credentials_file:
        if not os.path.isfile(credentials_file):
            raise PluginError(
                f"credentialsFile {credentials_file!r} does not exist or is not a file: check the credential "
                "named by the location and that the secret is mounted"
            )
        core.set_config_variable("credentials_file", credentials_file)
        core.set_config_variable("config_file", credentials_file)
        # An explicitly set profile makes botocore skip the environment's keys and web-identity variables
        # (Velero unsets those variables for the same reason).
        profile = profile or "default"
    if profile:
        core.set_config_variable("profile", profile)
    try:
        if credentials_file and core.get_credentials() is None:
            raise PluginError(
                f"credentialsFile {credentials_file!r} holds no credentials for profile "
                f"{profile or 'default'!r}: add aws_access_key_id and aws_secret_access_key"
            )
        return boto3.Session(botocore_session=core)
    except ProfileNotFound as exc:
        where = f" in {credentials_file!r}" if credentials_file else ""
        raise PluginError(f"AWS profile {profile!r} not found{where}: fix config.profile") from exc
    except BotoCoreError as exc:
        raise PluginError(f"could not load AWS credentials: {type(exc).__name__}: {exc}") from exc


class CABundle:
    """The `verify` argument for botocore, from caCert / insecureSkipTLSVerify.

    botocore wants a file path, so the PEM goes to a private (0600) temp file together with botocore's
    default bundle (Velero adds caCert to the system pool rather than replacing it). The file is removed on
    close, when the owner is collected, or at exit.
    """

    def __init__(self, ca_cert: str, insecure: bool) -> None:
        self.path: str | None = None
        self.verify: bool | str = True
        if insecure:
            log.warning("insecureSkipTLSVerify is set: the server's TLS certificate is not verified")
            # said once above; urllib3 would repeat it on stderr for every request
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
            self.verify = False
            return
        if not ca_cert.strip():
            return
        fd, path = tempfile.mkstemp(prefix="veloro-aws-ca-", suffix=".pem")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(_default_bundle())
            handle.write("\n")
            handle.write(ca_cert.strip())
            handle.write("\n")
        self.path = path
        self.verify = path
        self._finalizer = weakref.finalize(self, _remove, path)

    def close(self) -> None:
        if self.path is not None:
            self._finalizer()
            self.path = None


def _default_bundle() -> str:
    """The bundle botocore would otherwise use: AWS_CA_BUNDLE when set, else its own."""
    path = os.environ.get("AWS_CA_BUNDLE") or DEFAULT_CA_BUNDLE
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return ""


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
