"""Resource identities (group/version/resource) and the REST paths built from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote


@dataclass(frozen=True, order=True)
class GroupVersionResource:
    """A resource type as the REST API addresses it; group "" is the core (legacy) group."""

    group: str
    version: str
    resource: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """"deployments.apps", or "pods" for the core group (Velero's spelling in resource lists)."""
        return f"{self.resource}.{self.group}" if self.group else self.resource

    @classmethod
    def from_api_version(cls, api_version: str, resource: str) -> GroupVersionResource:
        group, _, version = api_version.rpartition("/")
        return cls(group, version, resource)

    def __str__(self) -> str:
        return f"{self.api_version}, Resource={self.resource}"


@dataclass(frozen=True)
class APIResource:
    """One resource type from discovery (subresources are folded into ``subresources``)."""

    group: str
    version: str
    name: str
    kind: str
    namespaced: bool
    verbs: frozenset[str] = frozenset()
    short_names: tuple[str, ...] = ()
    singular_name: str = ""
    categories: tuple[str, ...] = ()
    subresources: frozenset[str] = field(default_factory=frozenset)

    @property
    def gvr(self) -> GroupVersionResource:
        return GroupVersionResource(self.group, self.version, self.name)

    @property
    def api_version(self) -> str:
        return self.gvr.api_version

    @property
    def group_resource(self) -> str:
        return self.gvr.group_resource

    def supports(self, *verbs: str) -> bool:
        return all(v in self.verbs for v in verbs)


ResourceRef = GroupVersionResource | APIResource


def as_gvr(ref: ResourceRef) -> GroupVersionResource:
    return ref.gvr if isinstance(ref, APIResource) else ref


def group_version_path(group: str, version: str) -> str:
    return f"/apis/{group}/{version}" if group else f"/api/{version}"


def resource_path(ref: ResourceRef, namespace: str | None = None, name: str | None = None,
                  subresource: str | None = None) -> str:
    """/api/v1/namespaces/ns/pods/name/status and friends; namespace None = cluster scope or all."""
    gvr = as_gvr(ref)
    parts = [group_version_path(gvr.group, gvr.version)]
    if namespace:
        parts.append(f"namespaces/{quote(namespace, safe='')}")
    parts.append(gvr.resource)
    if name is not None:
        if not name:
            raise ValueError(f"an object name is required for {gvr.group_resource}")
        parts.append(quote(name, safe=""))
        if subresource:
            parts.append(subresource)
    return "/".join(parts)
