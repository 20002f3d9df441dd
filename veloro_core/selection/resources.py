"""Resolving the resource names users and plugins write (`po`, `pod`, `Pod`, `pods`, `deploy`,
`deployments.apps`) to one group-resource (`pods`, `deployments.apps`), through discovery.

The index is built once per backup/restore from the discovered API resources, so resolution is a dict
lookup; it never talks to the API itself (only veloro_core.kube does).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ResourceInfo:
    """One served API resource at its preferred version."""

    group: str
    version: str
    resource: str  # plural, lowercase
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    singular: str = ""
    verbs: frozenset[str] = field(default_factory=frozenset)

    @property
    def group_resource(self) -> str:
        """`resource.group`, or `resource` for the core group (the tarball folder name)."""
        return f"{self.resource}.{self.group}" if self.group else self.resource

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def names(self) -> set[str]:
        names = {self.resource, self.kind.lower(), *(s.lower() for s in self.short_names)}
        if self.singular:
            names.add(self.singular.lower())
        return names


class ResourceIndex:
    """Name -> ResourceInfo over the discovered resources (one entry per group-resource)."""

    def __init__(self, resources: Iterable[ResourceInfo]) -> None:
        self._by_gr: dict[str, ResourceInfo] = {}
        self._by_kind: dict[tuple[str, str], ResourceInfo] = {}
        # name -> candidates in priority order (core group first, then discovery order)
        self._by_name: dict[str, list[ResourceInfo]] = {}
        ordered = sorted(resources, key=lambda r: r.group != "")  # stable: core first
        for info in ordered:
            if info.group_resource in self._by_gr:
                continue
            self._by_gr[info.group_resource] = info
            self._by_kind.setdefault((info.group, info.kind), info)
            for name in info.names():
                self._by_name.setdefault(name, []).append(info)

    def __iter__(self) -> Iterator[ResourceInfo]:
        return iter(self._by_gr.values())

    def all(self) -> list[ResourceInfo]:
        return list(self._by_gr.values())

    def get(self, group_resource: str) -> ResourceInfo | None:
        """Exact lookup by `resource.group` (or `resource` for core)."""
        return self._by_gr.get(group_resource)

    def for_kind(self, group: str, kind: str) -> ResourceInfo | None:
        return self._by_kind.get((group, kind))

    def resolve(self, name: str) -> ResourceInfo | None:
        """Resolve a user/plugin-written resource name; None if nothing served matches."""
        text = name.strip()
        exact = self._by_gr.get(text)
        if exact is not None:
            return exact
        lowered = text.lower()
        resource, _, group = lowered.partition(".")
        candidates = self._by_name.get(resource if group else lowered, [])
        if not group:
            return candidates[0] if candidates else None
        for info in candidates:
            if info.group == group:
                return info
        # `deployments.v1.apps` (kubectl's resource.version.group) and group prefixes (`deploy.apps`)
        version, _, rest = group.partition(".")
        for info in candidates:
            if rest and info.version == version and info.group == rest:
                return info
        for info in candidates:
            if info.group.startswith(group + ".") or info.group.startswith(group):
                return info
        return None

    def resolve_group_resource(self, name: str) -> str | None:
        info = self.resolve(name)
        return info.group_resource if info is not None else None
