"""The registry of served resource types: it drives discovery, routing, OpenAPI and CRDs.

A resource is stored once per (group, plural) whatever version wrote it (the "bucket"), the way the real
API server keeps one storage version; reading through another served version only rewrites apiVersion,
which is what a CRD with conversion strategy None does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass
class Column:
    """A server-side Table column: name, type and a simple JSON path (or a computed key)."""

    name: str
    type: str
    path: str
    priority: int = 0
    description: str = ""


@dataclass
class ResourceType:
    group: str
    versions: list[str]  # served versions, preferred first
    plural: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()  # "status", "scale", ...
    verbs: tuple[str, ...] = ALL_VERBS
    columns: list[Column] = field(default_factory=list)
    custom: bool = False  # defined by a CRD
    # For custom resources: JSON paths of the scale subresource.
    scale_paths: dict[str, str] = field(default_factory=dict)
    has_generation: bool = True
    storage: str = ""  # the version objects are stored in; default: the preferred (first) version

    @property
    def key(self) -> str:
        return f"{self.group}/{self.plural}"

    @property
    def singular(self) -> str:
        return self.kind.lower()

    def api_version(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version

    @property
    def storage_version(self) -> str:
        return self.storage or self.versions[0]

    def storage_api_version(self) -> str:
        return self.api_version(self.storage_version)

    def qualified(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


class Registry:
    """Lookup tables over the served resource types; CRDs add and remove entries at runtime."""

    def __init__(self) -> None:
        self._by_key: dict[str, ResourceType] = {}
        self._by_gvp: dict[tuple[str, str, str], ResourceType] = {}
        self._by_gvk: dict[tuple[str, str, str], ResourceType] = {}
        self._group_order: list[str] = []
        self._group_versions: dict[str, list[str]] = {}
        self.generation = 0  # bumped on every change so discovery/OpenAPI caches can be rebuilt

    def add(self, rt: ResourceType) -> None:
        self.remove(rt.key)
        self._by_key[rt.key] = rt
        if rt.group not in self._group_versions:
            self._group_order.append(rt.group)
            self._group_versions[rt.group] = []
        versions = self._group_versions[rt.group]
        for v in rt.versions:
            if v not in versions:
                versions.append(v)
        self._reindex()

    def remove(self, key: str) -> ResourceType | None:
        rt = self._by_key.pop(key, None)
        if rt is None:
            return None
        still = [r for r in self._by_key.values() if r.group == rt.group]
        if not still:
            self._group_order.remove(rt.group)
            del self._group_versions[rt.group]
        else:
            served = {v for r in still for v in r.versions}
            self._group_versions[rt.group] = [v for v in self._group_versions[rt.group] if v in served]
        self._reindex()
        return rt

    def set_group_versions(self, group: str, versions: list[str]) -> None:
        """Fix the preferred order of a group's versions (autoscaling prefers v2 over v1)."""
        self._group_versions[group] = list(versions)
        self.generation += 1

    def _reindex(self) -> None:
        self._by_gvp.clear()
        self._by_gvk.clear()
        for rt in self._by_key.values():
            for v in rt.versions:
                self._by_gvp[(rt.group, v, rt.plural)] = rt
                self._by_gvk[(rt.group, v, rt.kind)] = rt
        self.generation += 1

    def get(self, key: str) -> ResourceType | None:
        return self._by_key.get(key)

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._by_gvp.get((group, version, plural))

    def by_kind(self, group: str, version: str, kind: str) -> ResourceType | None:
        return self._by_gvk.get((group, version, kind))

    def by_api_version_kind(self, api_version: str, kind: str) -> ResourceType | None:
        group, _, version = api_version.rpartition("/")
        return self.by_kind(group, version, kind)

    def groups(self) -> list[str]:
        return list(self._group_order)

    def group_versions(self, group: str) -> list[str]:
        return list(self._group_versions.get(group, []))

    def resources(self, group: str, version: str) -> list[ResourceType]:
        return [r for r in self._by_key.values() if r.group == group and version in r.versions]

    def __iter__(self) -> Iterator[ResourceType]:
        return iter(list(self._by_key.values()))

    def fingerprint(self, extra: Any = "") -> str:
        text = f"{self.generation}:{extra}"
        return hashlib.sha256(text.encode()).hexdigest()[:16].upper()
