"""Every custom resource kind, and lookup by kind or plural (for the CLI, install and backup sync)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from veloro_core.api.backup import Backup
from veloro_core.api.locations import BackupStorageLocation, VolumeSnapshotLocation
from veloro_core.api.podvolume import BackupRepository, PodVolumeBackup, PodVolumeRestore
from veloro_core.api.requests import DeleteBackupRequest, DownloadRequest, ServerStatusRequest
from veloro_core.api.resource import Resource
from veloro_core.api.restore import Restore
from veloro_core.api.schedule import Schedule
from veloro_core.api.serde import ApiValidationError, show_value

ALL_RESOURCES: tuple[type[Resource], ...] = (
    Backup,
    Restore,
    Schedule,
    BackupStorageLocation,
    VolumeSnapshotLocation,
    DeleteBackupRequest,
    DownloadRequest,
    ServerStatusRequest,
    PodVolumeBackup,
    PodVolumeRestore,
    BackupRepository,
)

_BY_KIND = {resource.KIND: resource for resource in ALL_RESOURCES}
_BY_NAME = {
    name: resource
    for resource in ALL_RESOURCES
    for name in (resource.KIND.lower(), resource.PLURAL, *resource.SHORT_NAMES)
}


def resource_for_kind(kind: str) -> type[Resource]:
    """The model class of a kind ("Backup"); KeyError with the known kinds otherwise."""
    try:
        return _BY_KIND[kind]
    except KeyError:
        raise KeyError(f"unknown kind {kind!r}; known kinds: {', '.join(_BY_KIND)}") from None


def resource_for_name(name: str) -> type[Resource]:
    """The model class for a kubectl-style name: plural, singular or short name ("bsl")."""
    try:
        return _BY_NAME[name.lower()]
    except KeyError:
        raise KeyError(f"unknown resource {name!r}; known: {', '.join(sorted(_BY_NAME))}") from None


def parse_object(data: Mapping[str, Any]) -> Resource:
    """Any veloro.io/v1 (or velero.io/v1) object, dispatched on its kind."""
    kind = data.get("kind") if isinstance(data, Mapping) else None
    if not isinstance(kind, str) or kind not in _BY_KIND:
        raise ApiValidationError(
            "object", [f"kind: expected one of {', '.join(_BY_KIND)}, got {show_value(kind)}"]
        )
    return _BY_KIND[kind].from_dict(data)
