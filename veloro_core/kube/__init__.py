"""veloro_core.kube: the only package that talks to the Kubernetes API.

Auth, TLS and the server address come from the official ``kubernetes`` package (kubeconfig or in-cluster);
requests go over its urllib3 pool as raw bytes and objects travel as plain dicts parsed with orjson.

    client = KubeClient.from_kubeconfig(path, context, KubeSettings(qps=50, burst=100))
    for r in client.discovery.backup_resources():
        for page in client.list_pages(r):          # paged by settings.page_size (500)
            ...
"""

from veloro_core.kube.client import KubeClient, PatchType, PropagationPolicy, WatchEvent
from veloro_core.kube.discovery import APIGroup, Discovery
from veloro_core.kube.errors import (
    AlreadyExists,
    BadRequest,
    ConfigError,
    Conflict,
    Forbidden,
    Gone,
    Invalid,
    KubeError,
    NotFound,
    ServerError,
    TooManyRequests,
    Unauthorized,
    UnknownResource,
    Unreachable,
)
from veloro_core.kube.paging import ListPage
from veloro_core.kube.resource import APIResource, GroupVersionResource, ResourceRef
from veloro_core.kube.settings import KubeSettings

__all__ = [
    "APIGroup",
    "APIResource",
    "AlreadyExists",
    "BadRequest",
    "ConfigError",
    "Conflict",
    "Discovery",
    "Forbidden",
    "Gone",
    "GroupVersionResource",
    "Invalid",
    "KubeClient",
    "KubeError",
    "KubeSettings",
    "ListPage",
    "NotFound",
    "PatchType",
    "PropagationPolicy",
    "ResourceRef",
    "ServerError",
    "TooManyRequests",
    "Unauthorized",
    "UnknownResource",
    "Unreachable",
    "WatchEvent",
]
