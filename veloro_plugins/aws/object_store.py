"""ObjectStore `veloro.io/aws`: Amazon S3 and S3-compatible stores (MinIO, Ceph RGW, moto...) on boto3."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from botocore.exceptions import BotoCoreError, ClientError
from veloro_sdk.contracts import ObjectStore, PluginError

from veloro_plugins.aws import s3_setup
from veloro_plugins.aws.config import CABundle
from veloro_plugins.aws.errors import Where, error_code, http_status, translate
from veloro_plugins.aws.multipart import MIN_PART_SIZE, StreamedUpload, UploadSpec

log = structlog.get_logger(__name__)

DEFAULT_PART_SIZE = 16 * 1024 * 1024
DEFAULT_CONCURRENCY = 4
READ_CHUNK = 1024 * 1024
MAX_SIGNED_URL_SECONDS = 7 * 24 * 3600  # SigV4 presigned URLs cannot live longer


@dataclass(frozen=True)
class _State:
    """Everything Init produced; replaced as a whole so a re-Init never mixes two configs."""

    client: Any
    presign_client: Any
    endpoint: str
    region: str
    put_args: dict[str, Any]
    part_args: dict[str, Any]
    read_args: dict[str, Any]
    checksum_algorithm: str
    ca_bundle: CABundle


class S3ObjectStore(ObjectStore):
    """S3 object store; config keys as Velero's aws plugin (see s3_setup.OBJECT_STORE_KEYS)."""

    def __init__(self, *, part_size: int = DEFAULT_PART_SIZE, concurrency: int = DEFAULT_CONCURRENCY) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (S3's minimum part size)")
        self._part_size = part_size
        self._concurrency = concurrency
        self._state: _State | None = None
        self._lock = threading.Lock()

    # -- configuration -------------------------------------------------------------------------------

    def init(self, config: dict[str, str]) -> None:
        settings = s3_setup.parse(config)
        ca_bundle = CABundle(settings.ca_cert, settings.insecure)
        try:
            clients = s3_setup.make_clients(settings, ca_bundle, pool_size=self._concurrency + 4)
        except BaseException:
            ca_bundle.close()
            raise
        state = _State(
            client=clients.client,
            presign_client=clients.presign_client,
            endpoint=clients.endpoint,
            region=clients.region,
            put_args=settings.put_args(),
            part_args=settings.part_args(),
            read_args=settings.read_args(),
            checksum_algorithm=settings.checksum_algorithm,
            ca_bundle=ca_bundle,
        )
        with self._lock:
            previous, self._state = self._state, state
        if previous is not None:
            previous.ca_bundle.close()
        log.info(
            "s3 object store configured",
            endpoint=clients.endpoint,
            region=clients.region,
            bucket=settings.bucket,
            path_style=settings.force_path_style,
        )

    def _ready(self) -> _State:
        state = self._state
        if state is None:
            raise PluginError("the aws object store was used before Init: the host must call Init first")
        return state

    @property
    def region(self) -> str:
        """The region in use (configured or discovered from the bucket)."""
        return self._ready().region

    # -- objects -------------------------------------------------------------------------------------

    def put_object(self, bucket: str, key: str, body: Iterable[bytes]) -> None:
        state = self._ready()
        spec = UploadSpec(
            bucket=bucket,
            key=key,
            put_args=state.put_args,
            part_args=state.part_args,
            checksum_algorithm=state.checksum_algorithm,
        )
        upload = StreamedUpload(state.client, spec, part_size=self._part_size, concurrency=self._concurrency)
        try:
            upload.run(body)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "upload", Where(state.endpoint, bucket, key)) from exc

    def object_exists(self, bucket: str, key: str) -> bool:
        state = self._ready()
        try:
            state.client.head_object(Bucket=bucket, Key=key, **state.read_args)
        except ClientError as exc:
            if http_status(exc) == 404 or error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise translate(exc, "check", Where(state.endpoint, bucket, key)) from exc
        except BotoCoreError as exc:
            raise translate(exc, "check", Where(state.endpoint, bucket, key)) from exc
        return True

    def get_object(self, bucket: str, key: str) -> Iterator[bytes]:
        """Issues GetObject now (a missing key raises here), then streams the body in 1 MiB chunks."""
        state = self._ready()
        where = Where(state.endpoint, bucket, key)
        try:
            response = state.client.get_object(Bucket=bucket, Key=key, **state.read_args)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "download", where) from exc
        return _stream(response["Body"], where)

    def list_common_prefixes(self, bucket: str, prefix: str, delimiter: str) -> list[str]:
        state = self._ready()
        prefixes: list[str] = []
        for page in self._pages(state, bucket, prefix, delimiter):
            prefixes.extend(entry["Prefix"] for entry in page.get("CommonPrefixes", []))
        return prefixes

    def list_objects(self, bucket: str, prefix: str) -> list[str]:
        state = self._ready()
        keys: list[str] = []
        for page in self._pages(state, bucket, prefix, ""):
            keys.extend(entry["Key"] for entry in page.get("Contents", []))
        # Reverse order like Velero: a store that lists a pseudo-folder "x/" as an object gets it deleted
        # after the keys below it.
        keys.sort(reverse=True)
        return keys

    def _pages(self, state: _State, bucket: str, prefix: str, delimiter: str) -> Iterator[Mapping[str, Any]]:
        args: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        if delimiter:
            args["Delimiter"] = delimiter
        try:
            yield from state.client.get_paginator("list_objects_v2").paginate(**args)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "list", Where(state.endpoint, bucket)) from exc

    def delete_object(self, bucket: str, key: str) -> None:
        state = self._ready()
        try:
            state.client.delete_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) in {"NoSuchKey", "404", "NotFound"}:
                return
            raise translate(exc, "delete", Where(state.endpoint, bucket, key)) from exc
        except BotoCoreError as exc:
            raise translate(exc, "delete", Where(state.endpoint, bucket, key)) from exc

    def create_signed_url(self, bucket: str, key: str, ttl: timedelta) -> str:
        """A presigned GET on publicUrl when configured (the host the user's browser/CLI can reach)."""
        state = self._ready()
        seconds = int(ttl.total_seconds())
        if seconds > MAX_SIGNED_URL_SECONDS:
            log.warning("signed URL ttl capped at 7 days (the SigV4 maximum)", requested_seconds=seconds)
        seconds = min(max(seconds, 1), MAX_SIGNED_URL_SECONDS)
        params: dict[str, Any] = {"Bucket": bucket, "Key": key, **state.read_args}
        try:
            url: str = state.presign_client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=seconds
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "sign a URL for", Where(state.endpoint, bucket, key)) from exc
        return url


def _stream(body: Any, where: Where) -> Iterator[bytes]:
    """The body in chunks; a connection lost mid-way becomes a clear error, and the connection is always
    released (also when the consumer stops early)."""
    try:
        yield from body.iter_chunks(READ_CHUNK)
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, "download", where) from exc
    except OSError as exc:
        raise PluginError(f"download of {where.object_text()} was interrupted: {exc}") from exc
    finally:
        body.close()
