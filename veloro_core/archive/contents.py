"""Read access to an extracted backup tarball (see extract.extract_tarball)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from veloro_core.archive.errors import ArchiveError, ItemDecodeError
from veloro_core.archive.paths import (
    CLUSTER_DIR,
    ITEM_SUFFIX,
    NAMESPACES_DIR,
    PREFERRED_SUFFIX,
    RESOURCES_DIR,
    check_segment,
)


@dataclass(frozen=True)
class ItemRef:
    """One object in the backup: `namespace` is None for cluster-scoped objects."""

    group_resource: str
    namespace: str | None
    name: str

    def relative_path(self, version_dir: str | None = None) -> str:
        scope = (
            f"{CLUSTER_DIR}/{self.name}{ITEM_SUFFIX}"
            if self.namespace is None
            else f"{NAMESPACES_DIR}/{self.namespace}/{self.name}{ITEM_SUFFIX}"
        )
        middle = f"/{version_dir}" if version_dir else ""
        return f"{RESOURCES_DIR}/{self.group_resource}{middle}/{scope}"


def _subdirs(path: Path) -> list[str]:
    try:
        with os.scandir(path) as it:
            return sorted(e.name for e in it if e.is_dir(follow_symlinks=False))
    except FileNotFoundError:
        return []


def _item_names(path: Path) -> list[str]:
    try:
        with os.scandir(path) as it:
            names = [
                e.name[: -len(ITEM_SUFFIX)]
                for e in it
                if e.name.endswith(ITEM_SUFFIX) and len(e.name) > len(ITEM_SUFFIX) and e.is_file()
            ]
    except FileNotFoundError:
        return []
    return sorted(names)


class BackupContents:
    """The extracted tree. Unknown folders are ignored (as the format requires of readers)."""

    def __init__(self, root: Path, format_version: str | None, warnings: list[str] | None = None) -> None:
        self.root = root
        self.format_version = format_version
        self.warnings = list(warnings or [])
        self._resources = root / RESOURCES_DIR

    def group_resources(self) -> list[str]:
        """Every `<resource>.<group>` folder under resources/, sorted."""
        return _subdirs(self._resources)

    def namespaces(self, group_resource: str | None = None) -> list[str]:
        """Namespaces holding items of one resource, or of any resource when None; sorted."""
        grs = [group_resource] if group_resource is not None else self.group_resources()
        found: set[str] = set()
        for gr in grs:
            found.update(_subdirs(self._resources / check_segment("group-resource", gr) / NAMESPACES_DIR))
        return sorted(found)

    def namespaced_items(self, group_resource: str, namespace: str) -> list[ItemRef]:
        base = self._resources / check_segment("group-resource", group_resource) / NAMESPACES_DIR
        ns_dir = base / check_segment("namespace", namespace)
        return [ItemRef(group_resource, namespace, n) for n in _item_names(ns_dir)]

    def cluster_items(self, group_resource: str) -> list[ItemRef]:
        base = self._resources / check_segment("group-resource", group_resource) / CLUSTER_DIR
        return [ItemRef(group_resource, None, n) for n in _item_names(base)]

    def items(self, group_resource: str) -> list[ItemRef]:
        """All items of a resource (unversioned copy): cluster-scoped ones first, then by namespace."""
        refs = self.cluster_items(group_resource)
        for ns in self.namespaces(group_resource):
            refs.extend(self.namespaced_items(group_resource, ns))
        return refs

    def versions(self, group_resource: str) -> list[str]:
        """API versions with a versioned copy of the resource (preferred one included), sorted."""
        dirs = _subdirs(self._resources / check_segment("group-resource", group_resource))
        return sorted(
            d.removesuffix(PREFERRED_SUFFIX) for d in dirs if d not in (NAMESPACES_DIR, CLUSTER_DIR)
        )

    def preferred_version(self, group_resource: str) -> str | None:
        """The version the backup cluster preferred for this resource, if recorded."""
        dirs = _subdirs(self._resources / check_segment("group-resource", group_resource))
        for d in dirs:
            if d.endswith(PREFERRED_SUFFIX) and len(d) > len(PREFERRED_SUFFIX):
                return d.removesuffix(PREFERRED_SUFFIX)
        return None

    def preferred_versions(self) -> dict[str, str]:
        """`{group_resource: version}` for every resource with a preferred-version folder."""
        out: dict[str, str] = {}
        for gr in self.group_resources():
            version = self.preferred_version(gr)
            if version is not None:
                out[gr] = version
        return out

    def item_path(self, ref: ItemRef, version: str | None = None) -> Path:
        """Where an item lives; `version` selects a versioned copy (preferred or not)."""
        version_dir: str | None = None
        if version is not None:
            check_segment("version", version)
            preferred = self.preferred_version(ref.group_resource)
            version_dir = version + PREFERRED_SUFFIX if version == preferred else version
        return self.root / ref.relative_path(version_dir)

    def read_item(self, ref: ItemRef, version: str | None = None) -> dict[str, Any]:
        """The item as a dict. Raises ItemDecodeError (per item, not fatal) if it is not a JSON object."""
        path = self.item_path(ref, version)
        rel = str(path.relative_to(self.root))
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise ArchiveError(f"backup item {rel!r} is not in the backup tarball") from exc
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise ItemDecodeError(rel, str(exc)) from exc
        if not isinstance(obj, dict):
            raise ItemDecodeError(rel, f"a JSON {type(obj).__name__}, not an object")
        return obj

    def cleanup(self) -> None:
        """Remove the extracted directory."""
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> BackupContents:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.cleanup()
