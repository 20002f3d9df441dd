"""PluginManager: the engines' one entry point to plugins.

    settings = PluginSettings(plugin_dirs=["/plugins"])
    with PluginManager.discover(settings) as manager:
        store = manager.object_store("aws")          # veloro.io/aws, else velero.io/aws
        store.init(config)
        for name, action in manager.backup_item_actions(): ...

One process per plugin binary, started on first use and kept alive across backups and restores;
thread-safe; every returned object implements its kind's contract and survives plugin restarts.

Instances. A plugin process holds one ObjectStore/VolumeSnapshotter per name, so its Init config is per
(process, name). `object_store(name, instance="bsl/primary")` (and `volume_snapshotter`) gives each
distinct instance key its own process of the binary, with its own Init records and restarts: two
locations of one provider with different configs can then be used at the same time. Instance "" is the
binary's shared process (which also serves every action). At most `PluginSettings.max_instances`
instance processes run: starting one more stops the least recently used idle one (its Init records stay,
so its next call starts it again); `release(instance)` forgets an instance (its location was deleted).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from types import TracebackType
from typing import TypeVar, cast

from veloro_sdk.client import backup_action_as_v2, restore_action_as_v2
from veloro_sdk.contracts import (
    BackupItemActionV2,
    DeleteItemAction,
    ItemBlockAction,
    ObjectStore,
    PluginKind,
    RestoreItemActionV2,
    VolumeSnapshotter,
)

from veloro_core.plugins.errors import PluginHostError
from veloro_core.plugins.host import PluginHost
from veloro_core.plugins.process import PluginProcess
from veloro_core.plugins.registry import PluginInfo, PluginRegistry
from veloro_core.plugins.restartable import (
    RESTARTABLE,
    RestartableBackupItemAction,
    RestartableRestoreItemAction,
)
from veloro_core.plugins.settings import PluginSettings

T = TypeVar("T")


class PluginManager:
    def __init__(self, registry: PluginRegistry, settings: PluginSettings) -> None:
        self.registry = registry
        self.settings = settings
        self._hosts: dict[tuple[str, ...], PluginHost] = {}
        self._instances: dict[tuple[tuple[str, ...], str], PluginHost] = {}
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def discover(cls, settings: PluginSettings) -> PluginManager:
        """Discover every plugin (built-ins, entry points, plugin dirs); see registry.py."""
        return cls(PluginRegistry.discover(settings), settings)

    # ------------------------------------------------------------------------------------- lookups
    def list_plugins(self) -> list[PluginInfo]:
        return self.registry.plugins()

    def object_store(self, name: str, instance: str = "") -> ObjectStore:
        """The ObjectStore `name`; a non-empty `instance` runs it in that instance's own process."""
        info = self.registry.resolve(PluginKind.OBJECT_STORE, name)
        return cast(ObjectStore, self._get(info, instance))

    def volume_snapshotter(self, name: str, instance: str = "") -> VolumeSnapshotter:
        """The VolumeSnapshotter `name`; a non-empty `instance` runs it in that instance's own process."""
        info = self.registry.resolve(PluginKind.VOLUME_SNAPSHOTTER, name)
        return cast(VolumeSnapshotter, self._get(info, instance))

    def backup_item_action(self, name: str) -> BackupItemActionV2:
        info = self.registry.resolve(
            PluginKind.BACKUP_ITEM_ACTION_V2, name, also=[PluginKind.BACKUP_ITEM_ACTION]
        )
        return self._backup_action(info)

    def restore_item_action(self, name: str) -> RestoreItemActionV2:
        info = self.registry.resolve(
            PluginKind.RESTORE_ITEM_ACTION_V2, name, also=[PluginKind.RESTORE_ITEM_ACTION]
        )
        return self._restore_action(info)

    def delete_item_action(self, name: str) -> DeleteItemAction:
        return cast(DeleteItemAction, self._get(self.registry.resolve(PluginKind.DELETE_ITEM_ACTION, name)))

    def item_block_action(self, name: str) -> ItemBlockAction:
        return cast(ItemBlockAction, self._get(self.registry.resolve(PluginKind.ITEM_BLOCK_ACTION, name)))

    def backup_item_actions(self) -> list[tuple[str, BackupItemActionV2]]:
        """Every backup item action, v1 ones adapted to v2, sorted by name (a name served as both v1 and
        v2 is used as v2 only)."""
        infos = self._merged(PluginKind.BACKUP_ITEM_ACTION_V2, PluginKind.BACKUP_ITEM_ACTION)
        return [(info.name, self._backup_action(info)) for info in infos]

    def restore_item_actions(self) -> list[tuple[str, RestoreItemActionV2]]:
        infos = self._merged(PluginKind.RESTORE_ITEM_ACTION_V2, PluginKind.RESTORE_ITEM_ACTION)
        return [(info.name, self._restore_action(info)) for info in infos]

    def delete_item_actions(self) -> list[tuple[str, DeleteItemAction]]:
        return [
            (info.name, cast(DeleteItemAction, self._get(info)))
            for info in self.registry.plugins(PluginKind.DELETE_ITEM_ACTION)
        ]

    def item_block_actions(self) -> list[tuple[str, ItemBlockAction]]:
        return [
            (info.name, cast(ItemBlockAction, self._get(info)))
            for info in self.registry.plugins(PluginKind.ITEM_BLOCK_ACTION)
        ]

    # ------------------------------------------------------------------------------------- internals
    def _merged(self, v2: PluginKind, v1: PluginKind) -> list[PluginInfo]:
        by_name = {info.name: info for info in self.registry.plugins(v1)}
        by_name.update({info.name: info for info in self.registry.plugins(v2)})
        return [by_name[name] for name in sorted(by_name)]

    def _backup_action(self, info: PluginInfo) -> BackupItemActionV2:
        action = self._get(info)
        if isinstance(action, RestartableBackupItemAction):
            return backup_action_as_v2(action)
        return cast(BackupItemActionV2, action)

    def _restore_action(self, info: PluginInfo) -> RestoreItemActionV2:
        action = self._get(info)
        if isinstance(action, RestartableRestoreItemAction):
            return restore_action_as_v2(action)
        return cast(RestoreItemActionV2, action)

    def _get(self, info: PluginInfo, instance: str = "") -> object:
        host = self.instance_host(info.command, instance) if instance else self.host(info.command)
        return RESTARTABLE[info.kind](host, info.name)

    def host(self, command: tuple[str, ...]) -> PluginHost:
        """The PluginHost of one binary (created on first use; its process starts on the first call)."""
        with self._lock:
            if self._closed:
                raise PluginHostError("the plugin manager is closed")
            host = self._hosts.get(command)
            if host is None:
                host = self._hosts[command] = PluginHost(command, self.settings)
            return host

    def instance_host(self, command: tuple[str, ...], instance: str) -> PluginHost:
        """The PluginHost of one instance of a binary (created on first use, started on its first call)."""
        with self._lock:
            if self._closed:
                raise PluginHostError("the plugin manager is closed")
            host = self._instances.get((command, instance))
            if host is None:
                host = PluginHost(command, self.settings, instance=instance, on_start=self._instance_started)
                self._instances[(command, instance)] = host
            return host

    def instances(self) -> list[PluginHost]:
        """Every instance host (running or not), for status and tests."""
        with self._lock:
            return list(self._instances.values())

    def _instance_started(self, started: PluginHost) -> None:
        """Keep at most max_instances instance processes: stop the least recently used idle ones."""
        limit = self.settings.max_instances
        if limit is None:
            return
        with self._lock:
            running = [h for h in self._instances.values() if h.running]
            excess = len(running) - max(limit, 1)
            idle = sorted((h for h in running if h is not started and h.idle), key=lambda h: h.last_used)
            parked = [p for p in (h.park() for h in idle[: max(excess, 0)]) if p is not None]
        if parked:
            # killing waits for a graceful exit (up to kill_timeout): not on the caller's time
            threading.Thread(target=_kill_all, args=(parked,), name="veloro-plugin-park", daemon=True).start()

    def release(self, instance: str) -> None:
        """Stop and forget every process of `instance` (all binaries); a later lookup of that instance
        starts afresh. Calls in flight on it fail: release an instance nobody uses any more."""
        if not instance:
            raise ValueError("the shared instance \"\" cannot be released (close the manager instead)")
        with self._lock:
            keys = [key for key in self._instances if key[1] == instance]
            hosts = [self._instances.pop(key) for key in keys]
        _close_all(hosts, f"plugin instance {instance!r} was released (its location is gone)")

    # ------------------------------------------------------------------------------------- lifecycle
    def close(self) -> None:
        """Stop every plugin process (Shutdown, then SIGKILL after the kill timeout), in parallel."""
        with self._lock:
            self._closed = True
            hosts = [*self._hosts.values(), *self._instances.values()]
        _close_all(hosts, "the plugin manager is closed")

    def __enter__(self) -> PluginManager:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _close_all(hosts: Iterable[PluginHost], reason: str) -> None:
    """Close hosts in parallel (each may wait kill_timeout for its process to exit)."""
    threads = [
        threading.Thread(target=h.close, args=(reason,), name="veloro-plugin-close") for h in hosts
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _kill_all(processes: list[PluginProcess]) -> None:
    for process in processes:
        process.kill()
