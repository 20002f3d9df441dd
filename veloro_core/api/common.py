"""API group constants, defaults and the small Kubernetes types the specs share."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from veloro_core.api.duration import Duration
from veloro_core.api.serde import REQUIRED, ApiObject

GROUP = "veloro.io"
VERSION = "v1"
API_VERSION = f"{GROUP}/{VERSION}"
# Velero's own group: objects it wrote (velero-backup.json in a bucket) are read with the same models.
VELERO_GROUP = "velero.io"
VELERO_API_VERSION = f"{VELERO_GROUP}/{VERSION}"
ACCEPTED_API_VERSIONS = (API_VERSION, VELERO_API_VERSION)
CATEGORY = "veloro"

# Defaults, applied by the controllers (never silently by from_dict, so what a user wrote stays visible).
DEFAULT_BACKUP_TTL = Duration.parse("720h")
DEFAULT_CSI_SNAPSHOT_TIMEOUT = Duration.parse("10m")
DEFAULT_ITEM_OPERATION_TIMEOUT = Duration.parse("4h")
DEFAULT_HOOK_TIMEOUT = Duration.parse("30s")
DEFAULT_BACKUP_SYNC_PERIOD = Duration.parse("1m")
DEFAULT_VALIDATION_FREQUENCY = Duration.parse("1m")
DEFAULT_GC_FREQUENCY = Duration.parse("1h")
DEFAULT_DOWNLOAD_URL_TTL = Duration.parse("10m")
DEFAULT_MAINTENANCE_FREQUENCY = Duration.parse("168h")
DEFAULT_BACKUP_LOCATION = "default"
BACKUP_FORMAT_VERSION = "1.1.0"


class LabelSelectorOperator(enum.StrEnum):
    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"


@dataclass(kw_only=True)
class LabelSelectorRequirement(ApiObject):
    key: str = field(default="", metadata=REQUIRED)
    operator: LabelSelectorOperator | None = field(default=None, metadata=REQUIRED)
    values: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class LabelSelector(ApiObject):
    """metav1.LabelSelector: both parts ANDed; an empty selector matches everything."""

    match_labels: dict[str, str] = field(default_factory=dict)
    match_expressions: list[LabelSelectorRequirement] = field(default_factory=list)

    def matches(self, labels: dict[str, str]) -> bool:
        for key, value in self.match_labels.items():
            if labels.get(key) != value:
                return False
        return all(_requirement_matches(req, labels) for req in self.match_expressions)


def _requirement_matches(req: LabelSelectorRequirement, labels: dict[str, str]) -> bool:
    present = req.key in labels
    if req.operator is LabelSelectorOperator.EXISTS:
        return present
    if req.operator is LabelSelectorOperator.DOES_NOT_EXIST:
        return not present
    inside = present and labels[req.key] in req.values
    if req.operator is LabelSelectorOperator.IN:
        return inside
    if req.operator is LabelSelectorOperator.NOT_IN:
        return not inside
    return False  # no operator: Kubernetes would refuse such a selector; match nothing rather than all


@dataclass(kw_only=True)
class ObjectReference(ApiObject):
    """corev1.ObjectReference (e.g. the pod of a PodVolumeBackup)."""

    api_version: str = ""
    kind: str = ""
    namespace: str = ""
    name: str = ""
    uid: str = ""
    resource_version: str = ""
    field_path: str = ""


@dataclass(kw_only=True)
class TypedLocalObjectReference(ApiObject):
    """A reference to an object in the same namespace (resource policies / modifiers ConfigMap)."""

    api_group: str | None = None
    kind: str = field(default="", metadata=REQUIRED)
    name: str = field(default="", metadata=REQUIRED)


@dataclass(kw_only=True)
class SecretKeySelector(ApiObject):
    """corev1.SecretKeySelector: one key of a Secret in the server's namespace (location credentials)."""

    name: str = ""
    key: str = field(default="", metadata=REQUIRED)
    optional: bool | None = None


@dataclass(kw_only=True)
class HookStatus(ApiObject):
    hooks_attempted: int = 0
    hooks_failed: int = 0


@dataclass(kw_only=True)
class DataMoveProgress(ApiObject):
    """Bytes moved by a pod volume backup/restore (Velero's DataMoveOperationProgress)."""

    total_bytes: int = 0
    bytes_done: int = 0


__all__ = [
    "ACCEPTED_API_VERSIONS",
    "API_VERSION",
    "BACKUP_FORMAT_VERSION",
    "CATEGORY",
    "DEFAULT_BACKUP_LOCATION",
    "DEFAULT_BACKUP_SYNC_PERIOD",
    "DEFAULT_BACKUP_TTL",
    "DEFAULT_CSI_SNAPSHOT_TIMEOUT",
    "DEFAULT_DOWNLOAD_URL_TTL",
    "DEFAULT_GC_FREQUENCY",
    "DEFAULT_HOOK_TIMEOUT",
    "DEFAULT_ITEM_OPERATION_TIMEOUT",
    "DEFAULT_MAINTENANCE_FREQUENCY",
    "DEFAULT_VALIDATION_FREQUENCY",
    "GROUP",
    "VELERO_API_VERSION",
    "VELERO_GROUP",
    "VERSION",
    "DataMoveProgress",
    "HookStatus",
    "LabelSelector",
    "LabelSelectorOperator",
    "LabelSelectorRequirement",
    "ObjectReference",
    "SecretKeySelector",
    "TypedLocalObjectReference",
]
