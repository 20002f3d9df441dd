"""Host-side typed clients of the plugin contracts over a grpc.Channel, one module per kind.

Each client implements the kind's contract class, so the engines are written against the contracts and
do not care whether an implementation is in-process or across gRPC. gRPC failures are translated into
PluginCallError subclasses (see errors.py).
"""

from veloro_sdk.client._base import CHANNEL_OPTIONS, MAX_MESSAGE_BYTES, BaseClient
from veloro_sdk.client.adapters import (
    BackupItemActionV1ToV2,
    RestoreItemActionV1ToV2,
    backup_action_as_v2,
    restore_action_as_v2,
)
from veloro_sdk.client.backup_item_action import BackupItemActionClient, BackupItemActionV2Client
from veloro_sdk.client.delete_item_action import DeleteItemActionClient
from veloro_sdk.client.errors import (
    PluginCallCancelled,
    PluginCallError,
    PluginPanicked,
    PluginTimeout,
    PluginUnavailable,
    RemoteFrame,
    RemotePluginError,
    translate_rpc_error,
)
from veloro_sdk.client.item_block_action import ItemBlockActionClient
from veloro_sdk.client.object_store import MAX_CHUNK_BYTES, ObjectStoreClient
from veloro_sdk.client.plugin_lister import ListedPlugin, PluginListerClient
from veloro_sdk.client.restore_item_action import RestoreItemActionClient, RestoreItemActionV2Client
from veloro_sdk.client.volume_snapshotter import VolumeSnapshotterClient
from veloro_sdk.contracts.common import PluginKind

# The client class of each kind (the host's counterpart of contracts.CONTRACTS).
CLIENTS: dict[PluginKind, type[BaseClient]] = {
    PluginKind.OBJECT_STORE: ObjectStoreClient,
    PluginKind.VOLUME_SNAPSHOTTER: VolumeSnapshotterClient,
    PluginKind.BACKUP_ITEM_ACTION: BackupItemActionClient,
    PluginKind.BACKUP_ITEM_ACTION_V2: BackupItemActionV2Client,
    PluginKind.RESTORE_ITEM_ACTION: RestoreItemActionClient,
    PluginKind.RESTORE_ITEM_ACTION_V2: RestoreItemActionV2Client,
    PluginKind.DELETE_ITEM_ACTION: DeleteItemActionClient,
    PluginKind.ITEM_BLOCK_ACTION: ItemBlockActionClient,
    PluginKind.PLUGIN_LISTER: PluginListerClient,
}

__all__ = [
    "CHANNEL_OPTIONS",
    "CLIENTS",
    "MAX_CHUNK_BYTES",
    "MAX_MESSAGE_BYTES",
    "BackupItemActionClient",
    "BackupItemActionV1ToV2",
    "BackupItemActionV2Client",
    "BaseClient",
    "DeleteItemActionClient",
    "ItemBlockActionClient",
    "ListedPlugin",
    "ObjectStoreClient",
    "PluginCallCancelled",
    "PluginCallError",
    "PluginListerClient",
    "PluginPanicked",
    "PluginTimeout",
    "PluginUnavailable",
    "RemoteFrame",
    "RemotePluginError",
    "RestoreItemActionClient",
    "RestoreItemActionV1ToV2",
    "RestoreItemActionV2Client",
    "VolumeSnapshotterClient",
    "backup_action_as_v2",
    "restore_action_as_v2",
    "translate_rpc_error",
]
