"""PluginManager: the engines' one entry point to plugins.

    settings = PluginSettings(plugin_dirs=["/plugins"])
    with PluginManager.discover(settings) as manager:
        store = manager.object_store("aws")          # veloro.io/aws, else velero.io/aws
        store.init(config)
        for name, action in manager.backup_item_actions(): ...

One process per plugin binary, started on first use and kept alive across backups and restores;
thread-safe; every returned object implements its kind's contract and survives plugin restarts.
"""

from __future__ import annotations

import threading
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
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def discover(cls, settings: PluginSettings) -> PluginManager:
        """Discover every plugin (built-ins, entry points, plugin dirs); see registry.py."""
        return cls(PluginRegistry.discover(settings), settings)

    # ------------------------------------------------------------------------------------- lookups
    def list_plugins(self) -> list[PluginInfo]:
        return self.registry.plugins()

    def object_store(self, name: str) -> ObjectStore:
        return cast(ObjectStore, self._get(self.registry.resolve(PluginKind.OBJECT_STORE, name)))

    def volume_snapshotter(self, name: str) -> VolumeSnapshotter:
        return cast(VolumeSnapshotter, self._get(self.registry.resolve(PluginKind.VOLUME_SNAPSHOTTER, name)))

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

    def _get(self, info: PluginInfo) -> object:
        return RESTARTABLE[info.kind](self.host(info.command), info.name)

    def host(self, command: tuple[str, ...]) -> PluginHost:
        """The PluginHost of one binary (created on first use; its process starts on the first call)."""
        with self._lock:
            if self._closed:
                raise PluginHostError("the plugin manager is closed")
            host = self._hosts.get(command)
            if host is None:
                host = self._hosts[command] = PluginHost(command, self.settings)
            return host

    # ------------------------------------------------------------------------------------- lifecycle
    def close(self) -> None:
        """Stop every plugin process (Shutdown, then SIGKILL after the kill timeout), in parallel."""
        with self._lock:
            self._closed = True
            hosts = list(self._hosts.values())
        threads = [threading.Thread(target=h.close, name="veloro-plugin-close") for h in hosts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def __enter__(self) -> PluginManager:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
