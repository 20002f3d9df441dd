"""The plugin contracts, one module per kind. Plugins implement them; the host's clients implement them too,
so the engines are written against these classes whether a plugin runs in-process (tests) or over gRPC."""

from veloro_sdk.contracts.backup_item_action import (
    BackupItemAction,
    BackupItemActionExecuteRequest,
    BackupItemActionExecuteResponse,
    BackupItemActionV2,
)
from veloro_sdk.contracts.common import (
    InvalidPluginName,
    JSONDict,
    OperationProgress,
    PluginError,
    PluginKind,
    ResourceIdentifier,
    ResourceSelector,
    validate_plugin_name,
)
from veloro_sdk.contracts.delete_item_action import DeleteItemAction, DeleteItemActionExecuteRequest
from veloro_sdk.contracts.item_block_action import ItemBlockAction, ItemBlockActionRequest
from veloro_sdk.contracts.object_store import ObjectStore
from veloro_sdk.contracts.restore_item_action import (
    RestoreItemAction,
    RestoreItemActionExecuteRequest,
    RestoreItemActionExecuteResponse,
    RestoreItemActionV2,
)
from veloro_sdk.contracts.volume_snapshotter import (
    CreateSnapshotRequest,
    CreateVolumeRequest,
    VolumeInfo,
    VolumeSnapshotter,
)

# Which contract class each kind must implement (checked when an implementation is registered).
CONTRACTS: dict[PluginKind, type] = {
    PluginKind.OBJECT_STORE: ObjectStore,
    PluginKind.VOLUME_SNAPSHOTTER: VolumeSnapshotter,
    PluginKind.BACKUP_ITEM_ACTION: BackupItemAction,
    PluginKind.BACKUP_ITEM_ACTION_V2: BackupItemActionV2,
    PluginKind.RESTORE_ITEM_ACTION: RestoreItemAction,
    PluginKind.RESTORE_ITEM_ACTION_V2: RestoreItemActionV2,
    PluginKind.DELETE_ITEM_ACTION: DeleteItemAction,
    PluginKind.ITEM_BLOCK_ACTION: ItemBlockAction,
}

__all__ = [
    "CONTRACTS",
    "BackupItemAction",
    "BackupItemActionExecuteRequest",
    "BackupItemActionExecuteResponse",
    "BackupItemActionV2",
    "CreateSnapshotRequest",
    "CreateVolumeRequest",
    "DeleteItemAction",
    "DeleteItemActionExecuteRequest",
    "InvalidPluginName",
    "ItemBlockAction",
    "ItemBlockActionRequest",
    "JSONDict",
    "ObjectStore",
    "OperationProgress",
    "PluginError",
    "PluginKind",
    "ResourceIdentifier",
    "ResourceSelector",
    "RestoreItemAction",
    "RestoreItemActionExecuteRequest",
    "RestoreItemActionExecuteResponse",
    "RestoreItemActionV2",
    "VolumeInfo",
    "VolumeSnapshotter",
    "validate_plugin_name",
]
