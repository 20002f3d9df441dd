"""The ObjectStore contract: a bucket of keys holding backups (S3, GCS, a directory, ...)."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator
from datetime import timedelta


class ObjectStore(abc.ABC):
    """A store of objects under keys in buckets.

    Bodies are streams of bytes chunks in both directions so that neither side ever holds a whole object
    (tarballs can be many GiB).
    """

    @abc.abstractmethod
    def init(self, config: dict[str, str]) -> None:
        """Configure the store. `config` is the location's spec.config plus bucket, prefix, caCert and
        credentialsFile. Called again with a new config it replaces the old one."""

    @abc.abstractmethod
    def put_object(self, bucket: str, key: str, body: Iterable[bytes]) -> None:
        """Store the concatenation of `body`'s chunks at `key`, replacing any existing object."""

    @abc.abstractmethod
    def object_exists(self, bucket: str, key: str) -> bool:
        """Whether `key` exists."""

    @abc.abstractmethod
    def get_object(self, bucket: str, key: str) -> Iterator[bytes]:
        """Stream the object's bytes. A missing key raises an error (it is not an empty object)."""

    @abc.abstractmethod
    def list_common_prefixes(self, bucket: str, prefix: str, delimiter: str) -> list[str]:
        """Keys under `prefix` cut after the first `delimiter` past the prefix, de-duplicated; each
        returned prefix includes `prefix` and ends with `delimiter` (as S3 returns them)."""

    @abc.abstractmethod
    def list_objects(self, bucket: str, prefix: str) -> list[str]:
        """Every key that starts with `prefix`."""

    @abc.abstractmethod
    def delete_object(self, bucket: str, key: str) -> None:
        """Delete `key`; deleting a missing key is not an error."""

    @abc.abstractmethod
    def create_signed_url(self, bucket: str, key: str, ttl: timedelta) -> str:
        """A URL from which `key` can be downloaded for `ttl`."""
