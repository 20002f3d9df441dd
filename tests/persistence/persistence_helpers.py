"""In-process ObjectStores for unit tests of the persistence layer: a memory store and a fault injector."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta

from veloro_sdk.contracts import ObjectStore, PluginError


class MemoryObjectStore(ObjectStore):
    """The ObjectStore contract over a dict; records every call in `calls` as (operation, key)."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.calls: list[tuple[str, str]] = []

    def init(self, config: dict[str, str]) -> None:
        self.calls.append(("init", ""))

    def put_object(self, bucket: str, key: str, body: Iterable[bytes]) -> None:
        self.calls.append(("put", key))
        self.objects[(bucket, key)] = b"".join(body)

    def object_exists(self, bucket: str, key: str) -> bool:
        self.calls.append(("exists", key))
        return (bucket, key) in self.objects

    def get_object(self, bucket: str, key: str) -> Iterator[bytes]:
        self.calls.append(("get", key))
        if (bucket, key) not in self.objects:
            raise PluginError(f"key {key} not found")
        data = self.objects[(bucket, key)]
        return iter([data[i : i + 4096] for i in range(0, len(data), 4096)])

    def list_common_prefixes(self, bucket: str, prefix: str, delimiter: str) -> list[str]:
        self.calls.append(("prefixes", prefix))
        out: set[str] = set()
        for b, key in self.objects:
            if b == bucket and key.startswith(prefix):
                rest = key[len(prefix) :]
                if delimiter in rest:
                    out.add(prefix + rest.split(delimiter, 1)[0] + delimiter)
        return sorted(out)

    def list_objects(self, bucket: str, prefix: str) -> list[str]:
        self.calls.append(("list", prefix))
        return sorted(k for b, k in self.objects if b == bucket and k.startswith(prefix))

    def delete_object(self, bucket: str, key: str) -> None:
        self.calls.append(("delete", key))
        self.objects.pop((bucket, key), None)

    def create_signed_url(self, bucket: str, key: str, ttl: timedelta) -> str:
        return f"https://signed.example/{bucket}/{key}?ttl={int(ttl.total_seconds())}"

    def key_list(self) -> list[str]:
        return sorted(k for _, k in self.objects)


class Crash(BaseException):
    """Simulates the process dying: not an Exception, so no cleanup code catches it."""


class FaultyStore(MemoryObjectStore):
    """Fails the call for which `should_fail(operation, key, index)` is true (index counts that operation).

    `partial=True` makes a failing put leave a partial object behind first (as a broken upload can).
    """

    def __init__(self, should_fail: Callable[[str, str, int], bool], exc: BaseException,
                 partial: bool = False) -> None:
        super().__init__()
        self.should_fail = should_fail
        self.exc = exc
        self.partial = partial
        self.counts: dict[str, int] = {}

    def _check(self, op: str, key: str) -> None:
        index = self.counts.get(op, 0)
        self.counts[op] = index + 1
        if self.should_fail(op, key, index):
            raise self.exc

    def put_object(self, bucket: str, key: str, body: Iterable[bytes]) -> None:
        index = self.counts.get("put", 0)
        if self.partial and self.should_fail("put", key, index):
            self.objects[(bucket, key)] = next(iter(body), b"")[:10]
        self._check("put", key)
        super().put_object(bucket, key, body)

    def delete_object(self, bucket: str, key: str) -> None:
        self._check("delete", key)
        super().delete_object(bucket, key)

    def object_exists(self, bucket: str, key: str) -> bool:
        self._check("exists", key)
        return super().object_exists(bucket, key)

    def get_object(self, bucket: str, key: str) -> Iterator[bytes]:
        self._check("get", key)
        return super().get_object(bucket, key)

    def list_common_prefixes(self, bucket: str, prefix: str, delimiter: str) -> list[str]:
        self._check("prefixes", prefix)
        return super().list_common_prefixes(bucket, prefix, delimiter)

    def list_objects(self, bucket: str, prefix: str) -> list[str]:
        self._check("list", prefix)
        return super().list_objects(bucket, prefix)
