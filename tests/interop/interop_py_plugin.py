"""A small Python plugin process for the Go-host interop tests, built only on veloro_sdk.serve.

Run as a script (`python interop_py_plugin.py`): it serves an in-memory ObjectStore and one item action
of each of the four action kinds, so a go-plugin host can exercise every client it has:

    ObjectStore          example.io/py-store
    BackupItemAction     example.io/py-annotate       (v1, generated.BackupItemAction)
    BackupItemActionV2   example.io/py-annotate-v2    (v2.BackupItemAction)
    RestoreItemAction    example.io/py-restore        (v1)
    RestoreItemActionV2  example.io/py-restore-v2     (v2)
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Iterator
from datetime import timedelta

from veloro_sdk.contracts import PluginKind
from veloro_sdk.contracts.backup_item_action import (
    BackupItemAction,
    BackupItemActionExecuteRequest,
    BackupItemActionExecuteResponse,
    BackupItemActionV2,
)
from veloro_sdk.contracts.common import JSONDict, ResourceIdentifier, ResourceSelector
from veloro_sdk.contracts.object_store import ObjectStore
from veloro_sdk.contracts.restore_item_action import (
    RestoreItemAction,
    RestoreItemActionExecuteRequest,
    RestoreItemActionExecuteResponse,
    RestoreItemActionV2,
)
from veloro_sdk.serve import PluginServer

ANNOTATION = "example.io/py-annotated"
_CHUNK = 64 * 1024


class MemoryStore(ObjectStore):
    """Objects in a dict; a missing key is an error, as the contract requires."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._objects: dict[tuple[str, str], bytes] = {}
        self._config: dict[str, str] | None = None

    def init(self, config: dict[str, str]) -> None:
        self._config = dict(config)

    def _ready(self) -> None:
        if self._config is None:
            raise RuntimeError("object store used before init(); the host must call Init first")

    def put_object(self, bucket: str, key: str, body: Iterable[bytes]) -> None:
        self._ready()
        data = b"".join(body)
        with self._lock:
            self._objects[(bucket, key)] = data

    def object_exists(self, bucket: str, key: str) -> bool:
        self._ready()
        with self._lock:
            return (bucket, key) in self._objects

    def get_object(self, bucket: str, key: str) -> Iterator[bytes]:
        self._ready()
        with self._lock:
            data = self._objects.get((bucket, key))
        if data is None:
            raise KeyError(f"object {key!r} not found in bucket {bucket!r}")
        return (data[i : i + _CHUNK] for i in range(0, len(data), _CHUNK))

    def list_objects(self, bucket: str, prefix: str) -> list[str]:
        self._ready()
        with self._lock:
            return sorted(k for b, k in self._objects if b == bucket and k.startswith(prefix))

    def list_common_prefixes(self, bucket: str, prefix: str, delimiter: str) -> list[str]:
        found: set[str] = set()
        for key in self.list_objects(bucket, prefix):
            rest = key[len(prefix) :]
            if delimiter and delimiter in rest:
                found.add(prefix + rest[: rest.index(delimiter) + len(delimiter)])
        return sorted(found)

    def delete_object(self, bucket: str, key: str) -> None:
        self._ready()
        with self._lock:
            self._objects.pop((bucket, key), None)

    def create_signed_url(self, bucket: str, key: str, ttl: timedelta) -> str:
        return f"memory://{bucket}/{key}?ttl={int(ttl.total_seconds())}"


def _annotated(item: JSONDict, value: str) -> JSONDict:
    out = copy.deepcopy(item)
    out.setdefault("metadata", {}).setdefault("annotations", {})[ANNOTATION] = value
    return out


class Annotate(BackupItemAction):
    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=["configmaps"], excluded_namespaces=["kube-system"])

    def execute(self, request: BackupItemActionExecuteRequest) -> BackupItemActionExecuteResponse:
        meta = request.item.get("metadata", {})
        extra = ResourceIdentifier("", "secrets", meta.get("namespace", ""), f"{meta.get('name', '')}-secret")
        return BackupItemActionExecuteResponse(
            item=_annotated(request.item, "backup"), additional_items=[extra]
        )


class AnnotateV2(BackupItemActionV2):
    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=["configmaps"])

    def execute(self, request: BackupItemActionExecuteRequest) -> BackupItemActionExecuteResponse:
        return BackupItemActionExecuteResponse(
            item=_annotated(request.item, "backup-v2"), operation_id="op-1"
        )


class Restore(RestoreItemAction):
    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=["configmaps"])

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        return RestoreItemActionExecuteResponse(item=_annotated(request.item, "restore"))


class RestoreV2(RestoreItemActionV2):
    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=["configmaps"])

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        return RestoreItemActionExecuteResponse(item=None, skip_restore=False)  # None = unchanged


def main() -> None:
    server = PluginServer()
    server.register(PluginKind.OBJECT_STORE, "example.io/py-store", MemoryStore)
    server.register(PluginKind.BACKUP_ITEM_ACTION, "example.io/py-annotate", Annotate)
    server.register(PluginKind.BACKUP_ITEM_ACTION_V2, "example.io/py-annotate-v2", AnnotateV2)
    server.register(PluginKind.RESTORE_ITEM_ACTION, "example.io/py-restore", Restore)
    server.register(PluginKind.RESTORE_ITEM_ACTION_V2, "example.io/py-restore-v2", RestoreV2)
    server.serve()


if __name__ == "__main__":
    main()
