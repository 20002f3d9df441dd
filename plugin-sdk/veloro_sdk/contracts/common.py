"""Types shared by every plugin contract.

Contracts use request/response dataclasses rather than positional tuples so that a field can be added
later (as Velero's v2 contracts had to) without breaking every implementation.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JSONDict = dict[str, Any]


class PluginKind(enum.StrEnum):
    """The kinds a plugin process can serve. The kind never travels on the wire; it selects the service."""

    OBJECT_STORE = "ObjectStore"
    VOLUME_SNAPSHOTTER = "VolumeSnapshotter"
    BACKUP_ITEM_ACTION = "BackupItemAction"
    BACKUP_ITEM_ACTION_V2 = "BackupItemActionV2"
    RESTORE_ITEM_ACTION = "RestoreItemAction"
    RESTORE_ITEM_ACTION_V2 = "RestoreItemActionV2"
    DELETE_ITEM_ACTION = "DeleteItemAction"
    ITEM_BLOCK_ACTION = "ItemBlockAction"
    PLUGIN_LISTER = "PluginLister"


# <DNS-1123 subdomain>/<non-empty, no whitespace>
_DNS1123_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_NAME_RE = re.compile(rf"^{_DNS1123_SUBDOMAIN}/\S+$")


class InvalidPluginName(ValueError):
    """A plugin name that is not `<dns-1123-subdomain>/<name>`."""


def validate_plugin_name(name: str) -> str:
    """Return `name` if it is a valid plugin name, else raise InvalidPluginName saying why."""
    if not name or "/" not in name:
        raise InvalidPluginName(
            f"invalid plugin name {name!r}: expected '<domain>/<name>', for example 'example.com/my-plugin'"
        )
    prefix = name.split("/", 1)[0]
    if len(prefix) > 253 or not _NAME_RE.match(name):
        raise InvalidPluginName(
            f"invalid plugin name {name!r}: the part before '/' must be a lowercase DNS-1123 subdomain "
            "and the part after it non-empty without spaces, for example 'example.com/my-plugin'"
        )
    return name


@dataclass(frozen=True)
class ResourceIdentifier:
    """One Kubernetes object: group (empty for core), plural resource, namespace (empty if cluster-scoped)."""

    group: str
    resource: str
    namespace: str = ""
    name: str = ""

    @property
    def group_resource(self) -> str:
        """`resource.group`, or just `resource` for the core group (the tarball folder name)."""
        return f"{self.resource}.{self.group}" if self.group else self.resource


@dataclass
class ResourceSelector:
    """What an action applies to; empty lists mean "everything", `selector` is a label selector string."""

    included_namespaces: list[str] = field(default_factory=list)
    excluded_namespaces: list[str] = field(default_factory=list)
    included_resources: list[str] = field(default_factory=list)
    excluded_resources: list[str] = field(default_factory=list)
    selector: str = ""


@dataclass
class OperationProgress:
    """Progress of an asynchronous (v2) operation."""

    completed: bool = False
    err: str = ""
    n_completed: int = 0
    n_total: int = 0
    operation_units: str = ""
    description: str = ""
    started: datetime | None = None
    updated: datetime | None = None


class PluginError(Exception):
    """An error a plugin reports to the host (sent as gRPC status Unknown with a Stack detail).

    Raise it (or any exception) from an implementation; the SDK turns it into the wire error.
    """
