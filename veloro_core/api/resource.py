"""The base of the top-level custom resources: apiVersion/kind handling and metadata helpers.

metadata stays a plain dict (what the API server sends), because its fields belong to Kubernetes, are
many, and must survive untouched; the helpers below cover what the controllers and the CLI read and set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Self

from veloro_core.api.common import ACCEPTED_API_VERSIONS, API_VERSION, VELERO_API_VERSION
from veloro_core.api.serde import ALWAYS, ApiObject, ApiValidationError, parse_time, show_value


@dataclass(frozen=True)
class PrinterColumn:
    """One `kubectl get` column of a CRD (additionalPrinterColumns)."""

    name: str
    json_path: str
    type: str = "string"
    description: str = ""
    priority: int = 0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "jsonPath": self.json_path}
        if self.description:
            out["description"] = self.description
        if self.priority:
            out["priority"] = self.priority
        return out


AGE_COLUMN = PrinterColumn("Age", ".metadata.creationTimestamp", "date")


@dataclass(kw_only=True)
class Resource(ApiObject):
    """A top-level object of group veloro.io/v1 (also reads Velero's velero.io/v1 objects)."""

    KIND: ClassVar[str] = ""
    PLURAL: ClassVar[str] = ""
    SHORT_NAMES: ClassVar[tuple[str, ...]] = ()
    PRINTER_COLUMNS: ClassVar[tuple[PrinterColumn, ...]] = ()

    # Kept as read, so a Velero object is written back as Velero's; set it to API_VERSION before
    # creating a Velero-read object in the cluster (e.g. backup sync from a Velero bucket).
    api_version: str = field(default=API_VERSION, metadata={"skip": True})
    metadata: dict[str, Any] = field(default_factory=dict, metadata=ALWAYS)
    # Narrowed by every kind to its own spec/status types; declared here for generic code (CLI, sync).
    spec: ApiObject = field(default_factory=ApiObject, metadata=ALWAYS)
    status: ApiObject = field(default_factory=ApiObject)

    @classmethod
    def decode(cls, data: Mapping[str, Any], path: str, problems: list[str]) -> Self:
        api_version = data.get("apiVersion")
        if api_version is not None and api_version not in ACCEPTED_API_VERSIONS:
            problems.append(
                f"apiVersion: expected {API_VERSION} (or Velero's {VELERO_API_VERSION}),"
                f" got {show_value(api_version)}"
            )
        kind = data.get("kind")
        if kind is not None and kind != cls.KIND:
            problems.append(f"kind: expected {cls.KIND}, got {show_value(kind)}")
        rest = {key: value for key, value in data.items() if key not in ("apiVersion", "kind")}
        result = super().decode(rest, path, problems)
        if api_version in ACCEPTED_API_VERSIONS:
            result.api_version = api_version
        return result

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from a JSON object of this kind; raises ApiValidationError naming the object and fields."""
        if not isinstance(data, Mapping):
            raise ApiValidationError(cls.KIND, [f"expected an object, got {show_value(data)}"])
        problems: list[str] = []
        result = cls.decode(data, "", problems)
        if problems:
            meta = data.get("metadata")
            name = meta.get("name") if isinstance(meta, dict) else None
            raise ApiValidationError(f"{cls.KIND} {name}" if name else cls.KIND, problems)
        return result

    @classmethod
    def from_list(cls, data: Mapping[str, Any]) -> list[Self]:
        """The items of a `<Kind>List` response."""
        items = data.get("items") or []
        if not isinstance(items, list):
            raise ApiValidationError(f"{cls.KIND}List", [f"items: expected a list, got {show_value(items)}"])
        return [cls.from_dict(item) for item in items]

    def to_dict(self) -> dict[str, Any]:
        return {"apiVersion": self.api_version, "kind": self.KIND, **super().to_dict()}

    # --- metadata helpers -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return str(self.metadata.get("name", ""))

    @name.setter
    def name(self, value: str) -> None:
        self.metadata["name"] = value

    @property
    def namespace(self) -> str:
        return str(self.metadata.get("namespace", ""))

    @namespace.setter
    def namespace(self, value: str) -> None:
        self.metadata["namespace"] = value

    @property
    def labels(self) -> dict[str, str]:
        """The labels dict itself (created on first use), so callers can update it in place."""
        labels: dict[str, str] = self.metadata.setdefault("labels", {})
        return labels

    @property
    def annotations(self) -> dict[str, str]:
        annotations: dict[str, str] = self.metadata.setdefault("annotations", {})
        return annotations

    @property
    def uid(self) -> str:
        return str(self.metadata.get("uid", ""))

    @property
    def resource_version(self) -> str:
        return str(self.metadata.get("resourceVersion", ""))

    @property
    def creation_timestamp(self) -> datetime | None:
        value = self.metadata.get("creationTimestamp")
        return parse_time(value) if isinstance(value, str) else None

    @property
    def deletion_timestamp(self) -> datetime | None:
        value = self.metadata.get("deletionTimestamp")
        return parse_time(value) if isinstance(value, str) else None

    @property
    def key(self) -> str:
        """ "namespace/name", the usual work-queue key."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @property
    def is_velero(self) -> bool:
        """True when the object was read as Velero's velero.io/v1."""
        return self.api_version == VELERO_API_VERSION
