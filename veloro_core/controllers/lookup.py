"""Lookups several controllers share: locations by name, the default location, a backup's location."""

from __future__ import annotations

from typing import Any

from veloro_core.api import (
    DEFAULT_BACKUP_LOCATION,
    ApiValidationError,
    BackupStorageLocation,
    VolumeSnapshotLocation,
)
from veloro_core.controllers.base import ControllerContext


class MissingReference(Exception):
    """A referenced object is missing or malformed; the message says which and what to do."""


def get_bsl(ctx: ControllerContext, name: str) -> BackupStorageLocation:
    obj = ctx.get(BackupStorageLocation, name)
    if obj is None:
        raise MissingReference(
            f"backup storage location {name!r} does not exist in namespace {ctx.namespace!r}; create it "
            "(veloro backup-location create) or name an existing one"
        )
    try:
        return BackupStorageLocation.from_dict(obj)
    except ApiValidationError as exc:
        raise MissingReference(f"backup storage location {name!r} is malformed: {exc}") from exc


def get_vsl(ctx: ControllerContext, name: str) -> VolumeSnapshotLocation:
    obj = ctx.get(VolumeSnapshotLocation, name)
    if obj is None:
        raise MissingReference(
            f"volume snapshot location {name!r} does not exist in namespace {ctx.namespace!r}; create it "
            "(veloro snapshot-location create) or name an existing one"
        )
    try:
        return VolumeSnapshotLocation.from_dict(obj)
    except ApiValidationError as exc:
        raise MissingReference(f"volume snapshot location {name!r} is malformed: {exc}") from exc


def default_bsl_name(ctx: ControllerContext) -> str:
    """The location marked default; else one named "default"; "" when there is none."""
    items = ctx.list(BackupStorageLocation)
    marked = sorted(str(i["metadata"]["name"]) for i in items if (i.get("spec") or {}).get("default") is True)
    if marked:
        return marked[0]
    names = {str(i["metadata"]["name"]) for i in items}
    return DEFAULT_BACKUP_LOCATION if DEFAULT_BACKUP_LOCATION in names else ""


def backup_location_name(backup: dict[str, Any]) -> str:
    return str((backup.get("spec") or {}).get("storageLocation") or "")
