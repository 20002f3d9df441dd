"""Translation of boto3/botocore failures into PluginErrors a user can act on.

Every message names the endpoint and the bucket or resource, says what to do, and never contains a
credential: for refused credentials the service's own text is dropped because some services echo the
access key id or the string to sign.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSLError,
)
from veloro_sdk.contracts import PluginError

# Codes meaning "these keys are not accepted here" (S3 and EC2 spellings).
CREDENTIAL_CODES = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "InvalidToken",
        "ExpiredToken",
        "TokenRefreshRequired",
        "InvalidClientTokenId",
        "AuthFailure",
        "UnrecognizedClientException",
    }
)
ACCESS_CODES = frozenset({"AccessDenied", "UnauthorizedOperation", "AllAccessDisabled", "403"})
WRONG_REGION_CODES = frozenset(
    {"PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"}
)


@dataclass(frozen=True)
class Where:
    """What an operation touched, for the message: the endpoint and a bucket/key or resource id."""

    endpoint: str
    bucket: str = ""
    key: str = ""
    resource: str = ""  # for non-S3 calls, e.g. "volume vol-123"

    def object_text(self) -> str:
        if self.resource:
            return f"{self.resource} at {self.endpoint}"
        if self.key:
            return f"object {self.key!r} in bucket {self.bucket!r} at {self.endpoint}"
        if self.bucket:
            return f"bucket {self.bucket!r} at {self.endpoint}"
        return self.endpoint


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def http_status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def translate(exc: BaseException, action: str, where: Where) -> PluginError:
    """A PluginError for `exc` raised while doing `action` (a verb phrase like "upload") at `where`."""
    if isinstance(exc, PluginError):
        return exc
    if isinstance(exc, ClientError):
        return PluginError(_client_error_text(exc, action, where))
    if isinstance(exc, BotoCoreError):
        return PluginError(_botocore_error_text(exc, action, where))
    return PluginError(f"{action} {where.object_text()} failed: {type(exc).__name__}: {exc}")


def _client_error_text(exc: ClientError, action: str, where: Where) -> str:
    code = error_code(exc)
    if code == "NoSuchBucket":
        return (
            f"bucket {where.bucket!r} does not exist at {where.endpoint}: "
            "create it or fix spec.objectStorage.bucket"
        )
    if code in CREDENTIAL_CODES:
        return (
            f"the credentials were refused by {where.endpoint} ({code}) during {action}: check the secret "
            "(credentialsFile / profile) holds a valid access key id and secret access key"
        )
    if code in ACCESS_CODES:
        return (
            f"access denied by {where.endpoint} to {action} {where.object_text()}: the credentials are valid "
            "but lack the permission; grant it in the account's policy"
        )
    if code in WRONG_REGION_CODES:
        return (
            f"{where.object_text()} is in another region than the one configured ({code}): "
            "set config.region to the bucket's region"
        )
    if code in {"NoSuchKey", "404", "NotFound"} or code.endswith(".NotFound"):
        return f"{where.object_text()} does not exist"
    message = str(exc.response.get("Error", {}).get("Message", "")) or str(exc)
    return f"{action} {where.object_text()} failed: {code or http_status(exc)}: {message}"


def _botocore_error_text(exc: BotoCoreError, action: str, where: Where) -> str:
    if isinstance(exc, SSLError):
        return (
            f"TLS verification of {where.endpoint} failed during {action}: give the server's CA as caCert "
            "(or, for tests only, set insecureSkipTLSVerify=true)"
        )
    if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError)):
        return (
            f"cannot reach {where.endpoint} to {action} {where.object_text()}: check s3Url/ec2Url and the "
            "network, and that the service is running"
        )
    if isinstance(exc, ReadTimeoutError):
        return (
            f"{where.endpoint} did not answer in time during {action} of {where.object_text()}; retry later"
        )
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return (
            f"no usable AWS credentials for {where.endpoint}: name a credential (credentialsFile) on the "
            "location, or provide them through the environment or an instance role"
        )
    if isinstance(exc, ProfileNotFound):
        return f"{exc}: fix config.profile or add the profile to the credentials file"
    return f"{action} {where.object_text()} failed: {type(exc).__name__}: {exc}"
