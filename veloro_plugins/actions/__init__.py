"""veloro's core item actions (Velero's built-in backup and restore actions), served by
`veloro run-plugins` under `veloro.io/<name>`.

All are v1 actions: none starts asynchronous work or waits for additional items (hosts adapt v1 to v2).
Only veloro.io/service-account (backup), veloro.io/change-storage-class and veloro.io/change-image-name
read the cluster (see cluster.py); the others are pure functions of the request.
"""

from __future__ import annotations

from veloro_sdk.contracts import PluginKind
from veloro_sdk.serve import PluginServer

from veloro_plugins.actions.backup_actions import (
    PodBackupAction,
    PVCBackupAction,
    ServiceAccountBackupAction,
)
from veloro_plugins.actions.restore_cluster import (
    AdmissionWebhookConfigurationAction,
    APIServiceRestoreAction,
    ChangeImageNameAction,
)
from veloro_plugins.actions.restore_identity import (
    ClusterRoleBindingRestoreAction,
    RoleBindingRestoreAction,
    SecretRestoreAction,
    ServiceAccountRestoreAction,
)
from veloro_plugins.actions.restore_storage import ChangeStorageClassAction, PVCRestoreAction, PVRestoreAction
from veloro_plugins.actions.restore_workloads import JobRestoreAction, PodRestoreAction, ServiceRestoreAction

# (kind, name, class); the classes have zero-argument constructors, instantiated on first use.
CORE_ACTIONS: list[tuple[PluginKind, str, type]] = [
    (PluginKind.BACKUP_ITEM_ACTION, "veloro.io/pod", PodBackupAction),
    (PluginKind.BACKUP_ITEM_ACTION, "veloro.io/pvc", PVCBackupAction),
    (PluginKind.BACKUP_ITEM_ACTION, "veloro.io/service-account", ServiceAccountBackupAction),
    (PluginKind.RESTORE_ITEM_ACTION, "veloro.io/pod", PodRestoreAction),
    (PluginKind.RESTORE_ITEM_ACTION, "veloro.io/service", ServiceRestoreAction),
    (PluginKind.RESTORE_ITEM_ACTION, "veloro.io/job", JobRestoreAction),
    (PluginKind.RESTORE_ITEM_ACTION, "veloro.io/service-account", ServiceAccountRestoreAction),
    (PluginKind.RESTORE_ITEM_ACTION, "veloro.io/secret", SecretRestoreAction),
    (PluginKind.RESTORE_ITEM_ACTION, "veloro.io/pvc", PVCRestoreAction),
    (PluginKind.RESTORE_ITEM_ACTION, "veloro.io/pv", PVRestoreAction),
    (PluginKind.RESTORE_ITEM_ACTION, "veloro.io/role-bindings", RoleBindingRestoreAction),
    (PluginKind.RESTORE_ITEM_ACTION, "veloro.io/cluster-role-bindings", ClusterRoleBindingRestoreAction),
    (PluginKind.RESTORE_ITEM_ACTION, "veloro.io/change-storage-class", ChangeStorageClassAction),
    (PluginKind.RESTORE_ITEM_ACTION, "veloro.io/change-image-name", ChangeImageNameAction),
    (PluginKind.RESTORE_ITEM_ACTION, "veloro.io/apiservice", APIServiceRestoreAction),
    (
        PluginKind.RESTORE_ITEM_ACTION,
        "veloro.io/admission-webhook-configuration",
        AdmissionWebhookConfigurationAction,
    ),
]


def register_core_actions(server: PluginServer) -> None:
    """Register every core action on the built-in plugin server (called by veloro_plugins.builtin)."""
    for kind, name, cls in CORE_ACTIONS:
        server.register(kind, name, cls)


__all__ = ["CORE_ACTIONS", "register_core_actions"]
