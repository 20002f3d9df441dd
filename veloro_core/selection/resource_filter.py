"""Which resource types a backup or restore takes: the old filters (includedResources,
excludedResources, includeClusterResources) or the newer scoped ones (included/excluded
ClusterScopedResources and NamespaceScopedResources), never both - with Velero's semantics.

`should_include` decides what is *collected* (listed); `should_exclude` is the more permissive check for
items pulled in by actions (a PVC's PV in a namespace-scoped backup is kept unless explicitly excluded).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from veloro_core.selection.includes import (
    IncludesExcludes,
    validate_includes_excludes,
    validate_scoped_includes_excludes,
)
from veloro_core.selection.resources import ResourceIndex

NAMESPACES = "namespaces"
MIXED_FILTERS = (
    "includedResources, excludedResources and includeClusterResources are the old resource filters; "
    "included/excludedClusterScopedResources and included/excludedNamespaceScopedResources are the new "
    "ones - they cannot be used together; use one kind only"
)
_OLD_KEYS = ("includedResources", "excludedResources")
_NEW_KEYS = (
    "includedClusterScopedResources",
    "excludedClusterScopedResources",
    "includedNamespaceScopedResources",
    "excludedNamespaceScopedResources",
)


def _strings(spec: Mapping[str, Any], key: str, problems: list[str]) -> list[str]:
    value = spec.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{key} must be a list of resource names")
        return []
    return list(value)


@dataclass(frozen=True)
class RawResourceFilters:
    """The filter fields of a spec, as written (before resolution)."""

    included: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    include_cluster_resources: bool | None = None
    included_cluster_scoped: list[str] = field(default_factory=list)
    excluded_cluster_scoped: list[str] = field(default_factory=list)
    included_namespace_scoped: list[str] = field(default_factory=list)
    excluded_namespace_scoped: list[str] = field(default_factory=list)

    @property
    def uses_new(self) -> bool:
        return bool(
            self.included_cluster_scoped
            or self.excluded_cluster_scoped
            or self.included_namespace_scoped
            or self.excluded_namespace_scoped
        )

    @property
    def uses_old(self) -> bool:
        return bool(self.included or self.excluded or self.include_cluster_resources is not None)

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], problems: list[str], *, scoped: bool = True
                  ) -> RawResourceFilters:
        """Read the fields of a Backup/Restore spec dict; append problems (validation) to `problems`."""
        icr = spec.get("includeClusterResources")
        if icr is not None and not isinstance(icr, bool):
            problems.append("includeClusterResources must be true, false or unset")
            icr = None
        new = [_strings(spec, k, problems) for k in _NEW_KEYS] if scoped else [[], [], [], []]
        raw = cls(
            _strings(spec, _OLD_KEYS[0], problems), _strings(spec, _OLD_KEYS[1], problems), icr, *new
        )
        problems.extend(raw.validate())
        return raw

    def validate(self) -> list[str]:
        if self.uses_old and self.uses_new:
            return [MIXED_FILTERS]
        if self.uses_new:
            return [
                *validate_scoped_includes_excludes(
                    self.included_cluster_scoped, self.excluded_cluster_scoped, "cluster-scoped resources"
                ),
                *validate_scoped_includes_excludes(
                    self.included_namespace_scoped, self.excluded_namespace_scoped,
                    "namespace-scoped resources",
                ),
            ]
        return validate_includes_excludes(self.included, self.excluded, "resources")


class ResourceFilter:
    """A validated filter resolved through discovery. `warnings` lists names that resolve to nothing."""

    def __init__(self, raw: RawResourceFilters, index: ResourceIndex, namespaces: IncludesExcludes) -> None:
        self.raw = raw
        self.index = index
        self.namespaces = namespaces
        self.warnings: list[str] = []
        self.scoped = raw.uses_new
        self.plain = self._resolve(raw.included, raw.excluded)
        self.cluster = self._resolve(raw.included_cluster_scoped, raw.excluded_cluster_scoped)
        self.namespaced = self._resolve(raw.included_namespace_scoped, raw.excluded_namespace_scoped)

    def _resolve(self, includes: Sequence[str], excludes: Sequence[str]) -> IncludesExcludes:
        return IncludesExcludes.of(self._names(includes), self._names(excludes))

    def _names(self, names: Sequence[str]) -> list[str]:
        out: list[str] = []
        for name in names:
            if name == "*":
                out.append(name)
                continue
            resolved = self.index.resolve_group_resource(name)
            if resolved is None:
                # kept as written, so it matches nothing (an unresolvable include must not mean "all")
                self.warnings.append(f"resource {name!r} is not served by the cluster; it is ignored")
                out.append(name)
            else:
                out.append(resolved)
        return out

    def should_include(self, group_resource: str) -> bool:
        """Whether to list and back up this resource type directly."""
        info = self.index.get(group_resource)
        if info is None:
            return False
        if self.scoped:
            return self._scoped_include(group_resource, info.namespaced)
        icr = self.raw.include_cluster_resources
        if not info.namespaced:
            if icr is False:
                return False
            # auto mode: cluster-scoped types only in a full-cluster backup (namespaces are special)
            if group_resource != NAMESPACES and icr is None and not self.namespaces.include_everything:
                return False
        return self.plain.should_include(group_resource)

    def _scoped_include(self, group_resource: str, namespaced: bool) -> bool:
        if namespaced:
            return self.namespaced.should_include(group_resource)
        f = self.cluster
        if f.excluded(group_resource):
            return False
        if group_resource != NAMESPACES and not f.includes and not self.namespaces.include_everything:
            return False
        return f.should_include(group_resource)

    def should_exclude(self, group_resource: str) -> bool:
        """For items pulled in by actions: excluded only when explicitly excluded (or cluster off)."""
        info = self.index.get(group_resource)
        if info is None:
            return True
        if info.namespaced:
            return (self.namespaced if self.scoped else self.plain).excluded(group_resource)
        if self.scoped:
            return self.cluster.excluded(group_resource)
        if self.raw.include_cluster_resources is False:
            return True
        return self.plain.excluded(group_resource)
