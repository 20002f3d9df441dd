"""veloro's CSI snapshot plugin: back volumes up as CSI VolumeSnapshots and restore claims from them.

A separate plugin executable (`python -m veloro_plugins.csi`, console script `veloro-plugin-csi`), as
Velero's CSI plugin was. The actions read and write the cluster through the KUBECONFIG (or the pod's service
account) the host passes to plugin processes. See docs/csi.md for what the engine does around them.
"""

from __future__ import annotations

from veloro_sdk.contracts import PluginKind

from veloro_plugins.csi.backup import (
    PVCBackupAction,
    VolumeSnapshotBackupAction,
    VolumeSnapshotContentBackupAction,
)
from veloro_plugins.csi.delete import VolumeSnapshotContentDeleteAction
from veloro_plugins.csi.restore import (
    PVCRestoreAction,
    VolumeSnapshotContentRestoreAction,
    VolumeSnapshotRestoreAction,
)

PVC_BACKUPPER = "veloro.io/csi-pvc-backupper"

# (kind, name, class); zero-argument constructors, instantiated on first use by the plugin server.
CSI_ACTIONS: list[tuple[PluginKind, str, type]] = [
    (PluginKind.BACKUP_ITEM_ACTION_V2, PVC_BACKUPPER, PVCBackupAction),
    (PluginKind.BACKUP_ITEM_ACTION, "veloro.io/csi-volumesnapshot-backupper", VolumeSnapshotBackupAction),
    (
        PluginKind.BACKUP_ITEM_ACTION,
        "veloro.io/csi-volumesnapshotcontent-backupper",
        VolumeSnapshotContentBackupAction,
    ),
    (PluginKind.RESTORE_ITEM_ACTION_V2, "veloro.io/csi-pvc-restorer", PVCRestoreAction),
    (PluginKind.RESTORE_ITEM_ACTION, "veloro.io/csi-volumesnapshot-restorer", VolumeSnapshotRestoreAction),
    (
        PluginKind.RESTORE_ITEM_ACTION,
        "veloro.io/csi-volumesnapshotcontent-restorer",
        VolumeSnapshotContentRestoreAction,
    ),
    (
        PluginKind.DELETE_ITEM_ACTION,
        "veloro.io/csi-volumesnapshotcontent-delete",
        VolumeSnapshotContentDeleteAction,
    ),
]

__all__ = [
    "CSI_ACTIONS",
    "PVC_BACKUPPER",
    "PVCBackupAction",
    "PVCRestoreAction",
    "VolumeSnapshotBackupAction",
    "VolumeSnapshotContentBackupAction",
    "VolumeSnapshotContentDeleteAction",
    "VolumeSnapshotContentRestoreAction",
    "VolumeSnapshotRestoreAction",
]
