"""Contract implementations that survive plugin crashes: each call goes to the binary's live process.

What the engines get from the manager. A call that finds its process dead restarts it first (with Init
replay, see host.py); a call that loses its process midway fails with PluginUnavailable naming the binary;
a call that times out fails with PluginTimeout and, by default, the hung process is killed so the next
call gets a fresh one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any, Generic, TypeVar, cast

from veloro_sdk.client import (
    BackupItemActionClient,
    BackupItemActionV2Client,
    DeleteItemActionClient,
    ItemBlockActionClient,
    ObjectStoreClient,
    PluginCallError,
    PluginTimeout,
    PluginUnavailable,
    RestoreItemActionClient,
    RestoreItemActionV2Client,
    VolumeSnapshotterClient,
)
from veloro_sdk.contracts import (
    BackupItemAction,
    BackupItemActionExecuteRequest,
    BackupItemActionExecuteResponse,
    BackupItemActionV2,
    CreateSnapshotRequest,
    CreateVolumeRequest,
    DeleteItemAction,
    DeleteItemActionExecuteRequest,
    ItemBlockAction,
    ItemBlockActionRequest,
    JSONDict,
    ObjectStore,
    OperationProgress,
    PluginKind,
    ResourceIdentifier,
    ResourceSelector,
    RestoreItemAction,
    RestoreItemActionExecuteRequest,
    RestoreItemActionExecuteResponse,
    RestoreItemActionV2,
    VolumeInfo,
    VolumeSnapshotter,
)

from veloro_core.plugins.host import PluginHost

C = TypeVar("C")
R = TypeVar("R")
_RESTART_ERRORS = (PluginUnavailable, PluginTimeout)


class _Restartable(Generic[C]):
    KIND: PluginKind

    def __init__(self, host: PluginHost, name: str) -> None:
        self._host = host
        self.name = name

    def _client(self) -> tuple[C, int]:
        client, generation = self._host.client(self.KIND, self.name)
        return cast(C, client), generation

    def _invoke(self, fn: Callable[[C], R]) -> R:
        with self._host.busy():
            client, generation = self._client()
            try:
                return fn(client)
            except _RESTART_ERRORS as exc:
                raise self._failed(exc, generation) from exc

    def _invoke_batch(self, fn: Callable[[C], list[R | Exception]]) -> list[R | Exception]:
        """A batch call: items lost with the process (or timed out) all carry one error naming the
        process, which is restarted on the next call, exactly as for a unary call."""
        with self._host.busy():
            client, generation = self._client()
            try:
                results = fn(client)
            except _RESTART_ERRORS as exc:
                raise self._failed(exc, generation) from exc
        lost = next((r for r in results if isinstance(r, _RESTART_ERRORS)), None)
        if lost is None:
            return results
        failed = self._failed(lost, generation)
        if failed is not lost:
            failed.__cause__ = lost
        return [failed if isinstance(r, _RESTART_ERRORS) else r for r in results]

    def _failed(self, exc: PluginCallError, generation: int) -> PluginCallError:
        timed_out = isinstance(exc, PluginTimeout)
        settings = self._host.settings
        if timed_out and not settings.restart_on_timeout:
            return exc
        detail = self._host.process_failed(generation, kill=timed_out)
        if timed_out:
            detail = (
                f"timeout {settings.call_timeout}s (PluginSettings.call_timeout); killed the hung {detail}"
            )
        return type(exc)(f"{exc.message}; {detail}", plugin=exc.plugin, method=exc.method, code=exc.code)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self._host.binary!r})"


class RestartableObjectStore(_Restartable[ObjectStoreClient], ObjectStore):
    KIND = PluginKind.OBJECT_STORE

    def init(self, config: dict[str, str]) -> None:
        with self._host.busy():  # recorded before the instance can be parked: its restart replays this
            self._invoke(lambda c: c.init(config))
            self._host.record_init(self.KIND, self.name, config)

    def put_object(self, bucket: str, key: str, body: Iterable[bytes]) -> None:
        self._invoke(lambda c: c.put_object(bucket, key, body))

    def object_exists(self, bucket: str, key: str) -> bool:
        return self._invoke(lambda c: c.object_exists(bucket, key))

    def get_object(self, bucket: str, key: str) -> Iterator[bytes]:
        busy = _Busy(self._host)  # held until the stream ends: a parked process would cut it
        try:
            client, generation = self._client()
            try:
                stream = client.get_object(bucket, key)
            except _RESTART_ERRORS as exc:
                raise self._failed(exc, generation) from exc
        except BaseException:
            busy.release()
            raise
        return _GuardedStream(self, stream, generation, busy)

    def list_common_prefixes(self, bucket: str, prefix: str, delimiter: str) -> list[str]:
        return self._invoke(lambda c: c.list_common_prefixes(bucket, prefix, delimiter))

    def list_objects(self, bucket: str, prefix: str) -> list[str]:
        return self._invoke(lambda c: c.list_objects(bucket, prefix))

    def delete_object(self, bucket: str, key: str) -> None:
        self._invoke(lambda c: c.delete_object(bucket, key))

    def create_signed_url(self, bucket: str, key: str, ttl: timedelta) -> str:
        return self._invoke(lambda c: c.create_signed_url(bucket, key, ttl))


class _Busy:
    """A host's busy mark that outlives the call (a stream's), released exactly once."""

    def __init__(self, host: PluginHost) -> None:
        self._mark: AbstractContextManager[None] | None = host.busy()
        self._mark.__enter__()

    def release(self) -> None:
        mark, self._mark = self._mark, None
        if mark is not None:
            mark.__exit__(None, None, None)


class _GuardedStream(Iterator[bytes]):
    """A GetObject stream: a lost process becomes the restartable error; the host stays busy until the
    stream is exhausted, fails, is closed or is dropped."""

    def __init__(
        self, owner: RestartableObjectStore, stream: Iterator[bytes], generation: int, busy: _Busy
    ) -> None:
        self._owner = owner
        self._stream = stream
        self._generation = generation
        self._busy = busy

    def __next__(self) -> bytes:
        try:
            return next(self._stream)
        except StopIteration:
            self._busy.release()
            raise
        except _RESTART_ERRORS as exc:
            self._busy.release()
            raise self._owner._failed(exc, self._generation) from exc
        except BaseException:
            self._busy.release()
            raise

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()
        self._busy.release()

    def __del__(self) -> None:
        self._busy.release()


class RestartableVolumeSnapshotter(_Restartable[VolumeSnapshotterClient], VolumeSnapshotter):
    KIND = PluginKind.VOLUME_SNAPSHOTTER

    def init(self, config: dict[str, str]) -> None:
        with self._host.busy():  # recorded before the instance can be parked: its restart replays this
            self._invoke(lambda c: c.init(config))
            self._host.record_init(self.KIND, self.name, config)

    def create_volume_from_snapshot(self, request: CreateVolumeRequest) -> str:
        return self._invoke(lambda c: c.create_volume_from_snapshot(request))

    def get_volume_info(self, volume_id: str, volume_az: str) -> VolumeInfo:
        return self._invoke(lambda c: c.get_volume_info(volume_id, volume_az))

    def create_snapshot(self, request: CreateSnapshotRequest) -> str:
        return self._invoke(lambda c: c.create_snapshot(request))

    def delete_snapshot(self, snapshot_id: str) -> None:
        self._invoke(lambda c: c.delete_snapshot(snapshot_id))

    def get_volume_id(self, persistent_volume: dict[str, Any]) -> str:
        return self._invoke(lambda c: c.get_volume_id(persistent_volume))

    def set_volume_id(self, persistent_volume: dict[str, Any], volume_id: str) -> dict[str, Any]:
        return self._invoke(lambda c: c.set_volume_id(persistent_volume, volume_id))


class RestartableBackupItemAction(_Restartable[BackupItemActionClient], BackupItemAction):
    KIND = PluginKind.BACKUP_ITEM_ACTION

    def applies_to(self) -> ResourceSelector:
        return self._invoke(lambda c: c.applies_to())

    def execute(self, request: BackupItemActionExecuteRequest) -> BackupItemActionExecuteResponse:
        return self._invoke(lambda c: c.execute(request))

    def execute_batch(
        self, requests: list[BackupItemActionExecuteRequest]
    ) -> list[BackupItemActionExecuteResponse | Exception]:
        return self._invoke_batch(lambda c: c.execute_batch(requests))


class RestartableBackupItemActionV2(_Restartable[BackupItemActionV2Client], BackupItemActionV2):
    KIND = PluginKind.BACKUP_ITEM_ACTION_V2

    def applies_to(self) -> ResourceSelector:
        return self._invoke(lambda c: c.applies_to())

    def execute(self, request: BackupItemActionExecuteRequest) -> BackupItemActionExecuteResponse:
        return self._invoke(lambda c: c.execute(request))

    def execute_batch(
        self, requests: list[BackupItemActionExecuteRequest]
    ) -> list[BackupItemActionExecuteResponse | Exception]:
        return self._invoke_batch(lambda c: c.execute_batch(requests))

    def progress(self, operation_id: str, backup: JSONDict) -> OperationProgress:
        return self._invoke(lambda c: c.progress(operation_id, backup))

    def cancel(self, operation_id: str, backup: JSONDict) -> None:
        self._invoke(lambda c: c.cancel(operation_id, backup))


class RestartableRestoreItemAction(_Restartable[RestoreItemActionClient], RestoreItemAction):
    KIND = PluginKind.RESTORE_ITEM_ACTION

    def applies_to(self) -> ResourceSelector:
        return self._invoke(lambda c: c.applies_to())

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        return self._invoke(lambda c: c.execute(request))

    def execute_batch(
        self, requests: list[RestoreItemActionExecuteRequest]
    ) -> list[RestoreItemActionExecuteResponse | Exception]:
        return self._invoke_batch(lambda c: c.execute_batch(requests))


class RestartableRestoreItemActionV2(_Restartable[RestoreItemActionV2Client], RestoreItemActionV2):
    KIND = PluginKind.RESTORE_ITEM_ACTION_V2

    def applies_to(self) -> ResourceSelector:
        return self._invoke(lambda c: c.applies_to())

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        return self._invoke(lambda c: c.execute(request))

    def execute_batch(
        self, requests: list[RestoreItemActionExecuteRequest]
    ) -> list[RestoreItemActionExecuteResponse | Exception]:
        return self._invoke_batch(lambda c: c.execute_batch(requests))

    def progress(self, operation_id: str, restore: JSONDict) -> OperationProgress:
        return self._invoke(lambda c: c.progress(operation_id, restore))

    def cancel(self, operation_id: str, restore: JSONDict) -> None:
        self._invoke(lambda c: c.cancel(operation_id, restore))

    def are_additional_items_ready(
        self, additional_items: list[ResourceIdentifier], restore: JSONDict
    ) -> bool:
        return self._invoke(lambda c: c.are_additional_items_ready(additional_items, restore))


class RestartableDeleteItemAction(_Restartable[DeleteItemActionClient], DeleteItemAction):
    KIND = PluginKind.DELETE_ITEM_ACTION

    def applies_to(self) -> ResourceSelector:
        return self._invoke(lambda c: c.applies_to())

    def execute(self, request: DeleteItemActionExecuteRequest) -> None:
        self._invoke(lambda c: c.execute(request))


class RestartableItemBlockAction(_Restartable[ItemBlockActionClient], ItemBlockAction):
    KIND = PluginKind.ITEM_BLOCK_ACTION

    def applies_to(self) -> ResourceSelector:
        return self._invoke(lambda c: c.applies_to())

    def get_related_items(self, request: ItemBlockActionRequest) -> list[ResourceIdentifier]:
        return self._invoke(lambda c: c.get_related_items(request))


RESTARTABLE: dict[PluginKind, type[_Restartable[Any]]] = {
    cls.KIND: cls
    for cls in (
        RestartableObjectStore,
        RestartableVolumeSnapshotter,
        RestartableBackupItemAction,
        RestartableBackupItemActionV2,
        RestartableRestoreItemAction,
        RestartableRestoreItemActionV2,
        RestartableDeleteItemAction,
        RestartableItemBlockAction,
    )
}
