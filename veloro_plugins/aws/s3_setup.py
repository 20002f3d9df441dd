"""From an ObjectStore Init config to configured S3 clients: key validation, region discovery, TLS,
encryption and checksum arguments. Kept apart from object_store.py so the operations read plainly."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import boto3
import structlog
from botocore.compat import HAS_CRT
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from veloro_sdk.contracts import PluginError

from veloro_plugins.aws.config import (
    CREDENTIALS_FILE,
    ENABLE_SHARED_CONFIG,
    PROFILE,
    REGION,
    CABundle,
    make_session,
    parse_bool,
    validate_keys,
    validate_url,
)

log = structlog.get_logger(__name__)

S3_URL = "s3Url"
PUBLIC_URL = "publicUrl"
KMS_KEY_ID = "kmsKeyId"
CUSTOMER_KEY_FILE = "customerKeyEncryptionFile"
FORCE_PATH_STYLE = "s3ForcePathStyle"
SIGNATURE_VERSION = "signatureVersion"
SERVER_SIDE_ENCRYPTION = "serverSideEncryption"
INSECURE_SKIP_TLS_VERIFY = "insecureSkipTLSVerify"
TAGGING = "tagging"
CHECKSUM_ALGORITHM = "checksumAlgorithm"
BUCKET = "bucket"
PREFIX = "prefix"
CA_CERT = "caCert"

OBJECT_STORE_KEYS = (
    REGION, S3_URL, PUBLIC_URL, KMS_KEY_ID, CUSTOMER_KEY_FILE, FORCE_PATH_STYLE, SIGNATURE_VERSION,
    CREDENTIALS_FILE, PROFILE, SERVER_SIDE_ENCRYPTION, INSECURE_SKIP_TLS_VERIFY, ENABLE_SHARED_CONFIG,
    TAGGING, CHECKSUM_ALGORITHM, BUCKET, PREFIX, CA_CERT,
)  # fmt: skip
CHECKSUM_ALGORITHMS = ("CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME")
NEEDS_CRT = ("CRC32C", "CRC64NVME")  # botocore computes these only with awscrt installed
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class S3Settings:
    """The parsed and validated config."""

    bucket: str
    region: str
    s3_url: str
    public_url: str
    force_path_style: bool
    insecure: bool
    ca_cert: str
    kms_key_id: str
    server_side_encryption: str
    customer_key: bytes
    tagging: str
    checksum_algorithm: str
    signature_version: str
    config: Mapping[str, str]

    def put_args(self) -> dict[str, Any]:
        """Arguments of PutObject and CreateMultipartUpload (Velero's precedence: KMS, SSE-C, SSE)."""
        args: dict[str, Any] = {}
        if self.kms_key_id:
            args.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=self.kms_key_id)
        elif self.customer_key:
            args.update(self.read_args())
        elif self.server_side_encryption:
            args["ServerSideEncryption"] = self.server_side_encryption
        if self.tagging:
            args["Tagging"] = self.tagging
        if self.checksum_algorithm:
            args["ChecksumAlgorithm"] = self.checksum_algorithm
        return args

    def part_args(self) -> dict[str, Any]:
        args = self.read_args()
        if self.checksum_algorithm:
            args["ChecksumAlgorithm"] = self.checksum_algorithm
        return args

    def read_args(self) -> dict[str, Any]:
        """SSE-C objects need the key on every read as well (botocore adds the MD5 and base64)."""
        if not self.customer_key:
            return {}
        return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": self.customer_key}


def parse(config: Mapping[str, str]) -> S3Settings:
    validate_keys(config, OBJECT_STORE_KEYS, "aws object store")
    kms_key_id = config.get(KMS_KEY_ID, "").strip()
    customer_key_file = config.get(CUSTOMER_KEY_FILE, "").strip()
    if kms_key_id and customer_key_file:
        raise PluginError(f"set only one of {KMS_KEY_ID} and {CUSTOMER_KEY_FILE}")
    signature_version = config.get(SIGNATURE_VERSION, "").strip()
    if signature_version not in {"", "1", "4"}:
        raise PluginError(f"invalid {SIGNATURE_VERSION} {signature_version!r}: use 1 or 4")
    return S3Settings(
        bucket=config.get(BUCKET, ""),
        region=config.get(REGION, "").strip(),
        s3_url=validate_url(config, S3_URL),
        public_url=validate_url(config, PUBLIC_URL),
        force_path_style=parse_bool(config, FORCE_PATH_STYLE),
        insecure=parse_bool(config, INSECURE_SKIP_TLS_VERIFY),
        ca_cert=config.get(CA_CERT, ""),
        kms_key_id=kms_key_id,
        server_side_encryption=config.get(SERVER_SIDE_ENCRYPTION, "").strip(),
        customer_key=_read_customer_key(customer_key_file) if customer_key_file else b"",
        tagging=_check_tagging(config.get(TAGGING, "").strip()),
        checksum_algorithm=_checksum_algorithm(config),
        signature_version=signature_version,
        config=config,
    )


def _checksum_algorithm(config: Mapping[str, str]) -> str:
    """CRC32 when the key is absent (Velero's default); present and empty disables checksums, for stores
    that reject them."""
    if CHECKSUM_ALGORITHM not in config:
        return "CRC32"
    algorithm = config[CHECKSUM_ALGORITHM].strip().upper()
    if algorithm and algorithm not in CHECKSUM_ALGORITHMS:
        raise PluginError(
            f"invalid {CHECKSUM_ALGORITHM} {config[CHECKSUM_ALGORITHM]!r}: use one of "
            f"{', '.join(CHECKSUM_ALGORITHMS)}, or an empty value to disable checksums"
        )
    if algorithm in NEEDS_CRT and not HAS_CRT:
        raise PluginError(
            f"{CHECKSUM_ALGORITHM} {algorithm} needs the awscrt package; use CRC32 or install it"
        )
    return algorithm


def _check_tagging(tagging: str) -> str:
    if tagging:
        try:
            parse_qsl(tagging, keep_blank_values=True, strict_parsing=True)
        except ValueError as exc:
            raise PluginError(f"invalid {TAGGING} {tagging!r}: use the form key1=value1&key2=value2") from exc
    return tagging


def _read_customer_key(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            key = handle.read(33)
    except OSError as exc:
        raise PluginError(f"could not read {CUSTOMER_KEY_FILE} {path!r}: {exc.strerror}") from exc
    if len(key) != 32:
        raise PluginError(f"{CUSTOMER_KEY_FILE} {path!r} must hold exactly 32 bytes (an AES-256 key)")
    return key


@dataclass(frozen=True)
class S3Clients:
    client: Any
    presign_client: Any
    endpoint: str
    region: str


def make_clients(settings: S3Settings, ca_bundle: CABundle, *, pool_size: int) -> S3Clients:
    session = make_session(settings.config)
    region = settings.region or discover_region(session, settings, ca_bundle)
    client = _client(session, settings, ca_bundle, region, settings.s3_url, pool_size, "s3v4")
    presign_client = client
    if settings.public_url or settings.signature_version == "1":
        # signatureVersion 1 (SigV2, "s3" in botocore) applies to signed URLs only, as in Velero
        signature = "s3" if settings.signature_version == "1" else "s3v4"
        url = settings.public_url or settings.s3_url
        presign_client = _client(session, settings, ca_bundle, region, url, 2, signature)
    return S3Clients(client, presign_client, str(client.meta.endpoint_url), region)


def _client(
    session: boto3.Session,
    settings: S3Settings,
    ca: CABundle,
    region: str,
    url: str,
    pool_size: int,
    signature: str,
) -> Any:
    checksums = "when_supported" if settings.checksum_algorithm else "when_required"
    config = Config(
        signature_version=signature,
        s3={"addressing_style": "path" if settings.force_path_style else "auto"},
        # attempts left to boto's default (3) unless AWS_MAX_ATTEMPTS / the profile's max_attempts say more
        retries={"mode": "standard"},
        connect_timeout=10,
        read_timeout=120,
        max_pool_connections=pool_size,
        request_checksum_calculation=checksums,
    )
    return session.client("s3", region_name=region, endpoint_url=url or None, verify=ca.verify, config=config)


def discover_region(session: boto3.Session, settings: S3Settings, ca: CABundle) -> str:
    """The bucket's region from HeadBucket's x-amz-bucket-region header (sent on success and on the
    redirect/denial answers too), as Velero does when no region is configured; us-east-1 otherwise."""
    if not settings.bucket:
        return DEFAULT_REGION
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path" if settings.force_path_style else "auto"},
        retries={"mode": "standard", "max_attempts": 1},
        connect_timeout=5,
        read_timeout=10,
    )
    client = session.client(
        "s3",
        region_name=DEFAULT_REGION,
        endpoint_url=settings.s3_url or None,
        verify=ca.verify,
        config=config,
    )
    headers: Mapping[str, str] = {}
    try:
        headers = client.head_bucket(Bucket=settings.bucket)["ResponseMetadata"]["HTTPHeaders"]
    except ClientError as exc:
        headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    except BotoCoreError as exc:
        log.warning(
            "could not discover the bucket's region", bucket=settings.bucket, error=type(exc).__name__
        )
    region = headers.get("x-amz-bucket-region", "")
    if not region:
        log.info("bucket region unknown; using the default", bucket=settings.bucket, region=DEFAULT_REGION)
        return DEFAULT_REGION
    log.info("discovered the bucket's region", bucket=settings.bucket, region=region)
    return region
