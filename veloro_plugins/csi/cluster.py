"""The CSI actions' view of the cluster: get/create/patch/delete the few objects they touch.

Each action takes a `client` factory (default: the plugin process's shared KubeClient from KUBECONFIG or
the pod's service account, see veloro_plugins.actions.cluster), so tests can hand in a client for a
kubesim of their own. Kubernetes errors are translated here into CSIError with what to do about them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from veloro_sdk.contracts import JSONDict, PluginError

from veloro_plugins.csi.objects import GROUP

if TYPE_CHECKING:
    from veloro_core.kube import KubeClient

ClientFactory = Callable[[], "KubeClient"]


class CSIError(PluginError):
    """A CSI snapshot step failed; the message names the object and the cause."""


def default_client() -> KubeClient:
    from veloro_plugins.actions.cluster import kube_client

    return kube_client()


def _where(resource: str, name: str, namespace: str) -> str:
    return f"{resource} {namespace}/{name}" if namespace else f"{resource} {name}"


class Cluster:
    """Thin, error-translating wrapper over KubeClient for the resources the CSI actions use."""

    def __init__(self, client: ClientFactory | None = None) -> None:
        self._factory = client or default_client

    def _gvr(self, resource: str) -> Any:
        from veloro_core.kube import GroupVersionResource

        group = "" if resource in ("persistentvolumes", "persistentvolumeclaims", "pods") else GROUP
        return GroupVersionResource(group, "v1", resource)

    def get(self, resource: str, name: str, namespace: str = "") -> JSONDict | None:
        """The object, or None when it does not exist."""
        from veloro_core.kube import KubeError, NotFound

        try:
            return self._factory().get(self._gvr(resource), name, namespace or None)
        except NotFound:
            return None
        except KubeError as exc:
            raise CSIError(f"cannot read {_where(resource, name, namespace)}: {exc}") from exc

    def list(self, resource: str, namespace: str = "") -> Iterator[JSONDict]:
        from veloro_core.kube import KubeError

        try:
            yield from self._factory().list_items(self._gvr(resource), namespace or None)
        except KubeError as exc:
            where = f" in namespace {namespace}" if namespace else ""
            raise CSIError(f"cannot list {resource}{where}: {exc}") from exc

    def create(self, resource: str, obj: JSONDict) -> JSONDict | None:
        """The created object, or None when one of that name exists already."""
        from veloro_core.kube import AlreadyExists, KubeError

        metadata = obj.get("metadata") or {}
        namespace = str(metadata.get("namespace") or "")
        try:
            return self._factory().create(self._gvr(resource), obj, namespace or None)
        except AlreadyExists:
            return None
        except KubeError as exc:
            where = _where(resource, str(metadata.get("name") or metadata.get("generateName")), namespace)
            raise CSIError(f"cannot create {where}: {exc}") from exc

    def patch(self, resource: str, name: str, patch: JSONDict, namespace: str = "") -> JSONDict | None:
        """Merge-patch; None when the object does not exist."""
        from veloro_core.kube import KubeError, NotFound

        try:
            return self._factory().patch(self._gvr(resource), name, patch, namespace or None)
        except NotFound:
            return None
        except KubeError as exc:
            raise CSIError(f"cannot update {_where(resource, name, namespace)}: {exc}") from exc

    def delete(self, resource: str, name: str, namespace: str = "") -> bool:
        """True when deleted, False when it did not exist."""
        from veloro_core.kube import KubeError, NotFound

        try:
            self._factory().delete(self._gvr(resource), name, namespace or None)
        except NotFound:
            return False
        except KubeError as exc:
            raise CSIError(f"cannot delete {_where(resource, name, namespace)}: {exc}") from exc
        return True


def poll(check: Callable[[], JSONDict | None], timeout: float, interval: float = 0.1) -> JSONDict | None:
    """Call check until it returns a value or timeout seconds passed (one last call at the deadline).
    The interval grows to 1 s so long waits do not hammer the API server."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found is not None or time.monotonic() >= deadline:
            return found
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        interval = min(interval * 1.5, 1.0)
