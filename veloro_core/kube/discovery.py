"""API discovery: groups, versions, preferred versions and resources, cached until refresh().

Uses the legacy documents (/api, /apis, then /api/v1 and /apis/{g}/{v} fetched concurrently). A
group-version whose document fails (an aggregated API server that is down, e.g. metrics.k8s.io) is
recorded in ``warnings`` and skipped; only a failure of /api or /apis themselves is an error.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog

from veloro_core.kube.errors import KubeError, UnknownResource
from veloro_core.kube.resource import APIResource, group_version_path

if TYPE_CHECKING:
    from veloro_core.kube.client import KubeClient

log = structlog.get_logger("veloro.kube")
BACKUP_VERBS = ("list", "create", "get", "delete")


@dataclass(frozen=True)
class APIGroup:
    name: str  # "" = core
    versions: tuple[str, ...]
    preferred_version: str


@dataclass(frozen=True)
class _Snapshot:
    groups: tuple[APIGroup, ...]
    resources: tuple[APIResource, ...]  # every served group-version, discovery order, core first
    warnings: tuple[str, ...]


def parse_resource_list(group: str, version: str, doc: dict[str, Any]) -> list[APIResource]:
    """APIResourceList -> APIResource per top-level resource; "x/status" folds into x.subresources."""
    entries = [r for r in doc.get("resources") or [] if isinstance(r, dict) and r.get("name")]
    subs: dict[str, set[str]] = {}
    for r in entries:
        name = str(r["name"])
        if "/" in name:
            parent, _, sub = name.partition("/")
            subs.setdefault(parent, set()).add(sub)
    out = []
    for r in entries:
        name = str(r["name"])
        if "/" in name:
            continue
        out.append(APIResource(
            group=group, version=version, name=name, kind=str(r.get("kind") or ""),
            namespaced=bool(r.get("namespaced")), verbs=frozenset(r.get("verbs") or ()),
            short_names=tuple(r.get("shortNames") or ()), singular_name=str(r.get("singularName") or ""),
            categories=tuple(r.get("categories") or ()), subresources=frozenset(subs.get(name, ()))))
    return out


class Discovery:
    """Thread-safe discovery cache of one KubeClient (``client.discovery``)."""

    def __init__(self, client: KubeClient, workers: int | None = None) -> None:
        self._client = client
        self._workers = workers or client.settings.discovery_workers
        self._lock = threading.Lock()
        self._snap: _Snapshot | None = None

    # ---- loading --------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload everything (after CRDs are created or removed)."""
        snap = self._load()
        with self._lock:
            self._snap = snap

    def _snapshot(self) -> _Snapshot:
        with self._lock:
            snap = self._snap
        if snap is None:
            self.refresh()
            with self._lock:
                assert self._snap is not None
                snap = self._snap
        return snap

    def _load(self) -> _Snapshot:
        core = self._client.get_json("/api")
        groups = [APIGroup("", tuple(core.get("versions") or ()), (core.get("versions") or ["v1"])[0])]
        for g in self._client.get_json("/apis").get("groups") or []:
            versions = tuple(str(v["version"]) for v in g.get("versions") or [])
            preferred = (g.get("preferredVersion") or {}).get("version") or (versions[0] if versions else "")
            groups.append(APIGroup(str(g["name"]), versions, str(preferred)))
        pairs = [(g.name, v) for g in groups for v in g.versions]
        with ThreadPoolExecutor(max_workers=max(1, min(self._workers, len(pairs)))) as pool:
            results = list(pool.map(self._fetch_group_version, pairs))
        resources: list[APIResource] = []
        warnings: list[str] = []
        for (group, version), result in zip(pairs, results, strict=True):
            if isinstance(result, str):
                warnings.append(result)
                log.warning("discovery of a group version failed", group=group, version=version,
                            error=result)
            else:
                resources.extend(result)
        return _Snapshot(tuple(groups), tuple(resources), tuple(warnings))

    def _fetch_group_version(self, gv: tuple[str, str]) -> list[APIResource] | str:
        group, version = gv
        try:
            doc = self._client.get_json(group_version_path(group, version))
        except KubeError as exc:
            name = f"{group}/{version}" if group else version
            return f"unable to discover {name}: {exc}"
        return parse_resource_list(group, version, doc)

    # ---- queries --------------------------------------------------------------------------------
    @property
    def groups(self) -> list[APIGroup]:
        return list(self._snapshot().groups)

    @property
    def warnings(self) -> list[str]:
        """One line per group-version that could not be discovered."""
        return list(self._snapshot().warnings)

    def preferred_version(self, group: str) -> str:
        for g in self._snapshot().groups:
            if g.name == group:
                return g.preferred_version
        raise UnknownResource(f"the API group {group!r} is not served by this cluster")

    def resources(self, *, preferred_only: bool = True) -> list[APIResource]:
        """Resources in discovery order (core group first); by default at each group's preferred version."""
        snap = self._snapshot()
        if not preferred_only:
            return list(snap.resources)
        preferred = {g.name: g.preferred_version for g in snap.groups}
        return [r for r in snap.resources if preferred.get(r.group) == r.version]

    def backup_resources(self) -> list[APIResource]:
        """Preferred-version resources supporting list, create, get and delete (what a backup collects)."""
        return [r for r in self.resources() if r.supports(*BACKUP_VERBS)]

    def find(self, group: str, resource: str, version: str | None = None) -> APIResource | None:
        """By group and plural name; version None = the preferred version."""
        pool = self.resources(preferred_only=version is None)
        return next((r for r in pool if r.group == group and r.name == resource
                     and (version is None or r.version == version)), None)

    def for_kind(self, api_version: str, kind: str) -> APIResource:
        """The resource serving kind at exactly api_version (e.g. an item read from a backup)."""
        group, _, version = api_version.rpartition("/")
        for r in self.resources(preferred_only=False):
            if r.group == group and r.version == version and r.kind == kind:
                return r
        raise UnknownResource(f"no resource serves kind {kind!r} in {api_version!r} on this cluster")

    def resolve(self, name: str) -> APIResource:
        """A user-given name -> resource: "pods", "pod", "po", "Pod", "deployments.apps",
        "deployments.v1.apps", "Deployment.apps". Match order: plural, singular, short name, kind
        (case-insensitive); ties go to the core group, then discovery order (so "events" is core v1)."""
        text = name.strip()
        if not text:
            raise UnknownResource("an empty resource name was given")
        for base, group, version in self._name_candidates(text):
            pool = self.resources(preferred_only=version is None)
            if group is not None:
                pool = [r for r in pool if r.group == group and (version is None or r.version == version)]
            found = _best_match(base, pool)
            if found is not None:
                return found
        raise UnknownResource(f"the server does not have a resource type {name!r}")

    def _name_candidates(self, text: str) -> Iterable[tuple[str, str | None, str | None]]:
        if "." not in text:
            yield text, None, None
            return
        base, _, rest = text.partition(".")
        served = {(g.name, v) for g in self._snapshot().groups for v in g.versions}
        maybe_version, _, maybe_group = rest.partition(".")
        if maybe_group and (maybe_group, maybe_version) in served:
            yield base, maybe_group, maybe_version
        yield base, rest, None


def _best_match(text: str, pool: list[APIResource]) -> APIResource | None:
    lowered = text.lower()
    tests = (
        lambda r: r.name == lowered,
        lambda r: r.singular_name == lowered or (not r.singular_name and r.kind.lower() == lowered),
        lambda r: lowered in r.short_names,
        lambda r: r.kind.lower() == lowered,
    )
    for test in tests:
        hits = [r for r in pool if test(r)]
        if hits:
            core = [r for r in hits if r.group == ""]
            return (core or hits)[0]
    return None
