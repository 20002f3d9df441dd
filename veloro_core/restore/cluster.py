"""The target cluster's API as the restore sees it: a ResourceIndex for the filters and the resource
each backed-up item is created through, rebuilt after the CRDs of pass 1 are established."""

from __future__ import annotations

import threading

from veloro_core.kube import APIResource, KubeClient, UnknownResource
from veloro_core.selection import ResourceIndex, ResourceInfo


def _info(r: APIResource) -> ResourceInfo:
    return ResourceInfo(
        group=r.group,
        version=r.version,
        resource=r.name,
        kind=r.kind,
        namespaced=r.namespaced,
        short_names=r.short_names,
        singular=r.singular_name,
        verbs=r.verbs,
    )


class ClusterView:
    """Discovery of the target cluster, reloadable (thread-safe reads)."""

    def __init__(self, kube: KubeClient) -> None:
        self.kube = kube
        self._lock = threading.Lock()
        self.index = ResourceIndex([])
        self.warnings: list[str] = []
        self._all: list[APIResource] = []
        self._preferred: dict[str, APIResource] = {}

    def load(self, refresh: bool = False) -> None:
        """(Re)load discovery; raises KubeError when the API server cannot be asked at all."""
        discovery = self.kube.discovery
        if refresh:
            discovery.refresh()
        preferred = discovery.resources()
        every = discovery.resources(preferred_only=False)
        with self._lock:
            self._all = every
            self._preferred = {r.group_resource: r for r in preferred}
            self.index = ResourceIndex(_info(r) for r in preferred)
            self.warnings = discovery.warnings

    def resolve(self, name: str) -> str | None:
        return self.index.resolve_group_resource(name)

    def preferred(self, group_resource: str) -> APIResource | None:
        with self._lock:
            return self._preferred.get(group_resource)

    def resource_for(self, group_resource: str, api_version: str) -> APIResource:
        """The resource serving `group_resource` at the item's own apiVersion (the API server refuses a body
        whose apiVersion differs from the endpoint's); UnknownResource when that version is not served."""
        group, _, version = api_version.rpartition("/")
        with self._lock:
            preferred = self._preferred.get(group_resource)
            if preferred is not None and preferred.version == version and preferred.group == group:
                return preferred
            for r in self._all:
                if r.group_resource == group_resource and r.version == version and r.group == group:
                    return r
        if preferred is None:
            raise UnknownResource(f"resource {group_resource!r} is not served by the target cluster")
        raise UnknownResource(
            f"{group_resource} is served at {preferred.api_version} but not at {api_version!r}, the version "
            "in the backup; install the API version the backup was taken with"
        )
