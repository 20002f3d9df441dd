"""One servicer per plugin kind. Modules are imported only for the kinds a process registered, so a plugin
does not pay the import time of stubs it never serves."""

from __future__ import annotations

import importlib

from veloro_sdk.contracts import PluginKind
from veloro_sdk.serve.registry import Registry
from veloro_sdk.serve.servicers.base import KindServicer

_SERVICERS: dict[PluginKind, tuple[str, str]] = {
    PluginKind.OBJECT_STORE: ("object_store", "ObjectStoreServicer"),
    PluginKind.VOLUME_SNAPSHOTTER: ("volume_snapshotter", "VolumeSnapshotterServicer"),
    PluginKind.BACKUP_ITEM_ACTION: ("backup_actions", "BackupItemActionServicer"),
    PluginKind.BACKUP_ITEM_ACTION_V2: ("backup_actions", "BackupItemActionV2Servicer"),
    PluginKind.RESTORE_ITEM_ACTION: ("restore_actions", "RestoreItemActionServicer"),
    PluginKind.RESTORE_ITEM_ACTION_V2: ("restore_actions", "RestoreItemActionV2Servicer"),
    PluginKind.DELETE_ITEM_ACTION: ("other_actions", "DeleteItemActionServicer"),
    PluginKind.ITEM_BLOCK_ACTION: ("other_actions", "ItemBlockActionServicer"),
}


def servicer_for(kind: PluginKind, registry: Registry) -> KindServicer:
    module, cls = _SERVICERS[kind]
    servicer_cls: type[KindServicer] = getattr(importlib.import_module(f"{__name__}.{module}"), cls)
    return servicer_cls(registry)
