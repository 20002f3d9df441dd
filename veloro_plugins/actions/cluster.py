"""The core actions' one way to read the cluster (service account RBAC, plugin ConfigMaps).

The client is veloro_core.kube's KubeClient (auth, TLS, retries, paging come from there), created on first
use and cached for the life of the plugin process. It is imported lazily: `veloro run-plugins` must print
its handshake quickly and most actions never touch the API.

Where the cluster is: $KUBECONFIG (the host passes its environment to plugins; set it through
PluginSettings.extra_env when the host itself was given an explicit kubeconfig), else ~/.kube/config, else
the pod's service account. Without any of them, calls fail with ClusterUnavailable saying so.

Rate limit: $VELORO_CLIENT_QPS / $VELORO_CLIENT_BURST (the server passes its own --client-qps/--client-burst),
else 1000 / 2000, the server's defaults; KubeSettings' library default (100 qps) would make a plugin that
makes a call per item (the CSI PVC action) the slowest part of a backup.

Reads are memoised per Backup/Restore run (RunMemo): an action that needs the same list for every item
(all ClusterRoleBindings, the plugin ConfigMap) fetches it once per run, not once per item, and a later
run sees fresh data because the plugin process outlives runs.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

from veloro_sdk.contracts import JSONDict, PluginError

if TYPE_CHECKING:
    from veloro_core.kube import KubeClient, KubeSettings

T = TypeVar("T")
QPS_ENV, BURST_ENV = "VELORO_CLIENT_QPS", "VELORO_CLIENT_BURST"
DEFAULT_QPS, DEFAULT_BURST = 1000.0, 2000


class ClusterUnavailable(PluginError):
    """The action needs the Kubernetes API and the plugin process cannot reach or authenticate to it."""


def client_settings() -> KubeSettings:
    """KubeSettings with the rate limit from the environment (see the module docstring)."""
    from veloro_core.kube import KubeSettings

    def number(name: str, default: float) -> float:
        raw = os.environ.get(name, "").strip()
        if not raw:
            return default
        try:
            return float(raw)
        except ValueError as exc:
            raise ClusterUnavailable(
                f"${name}={raw!r} is not a number; set it to the Kubernetes API rate limit for plugins "
                "(or unset it for the default)"
            ) from exc

    qps = number(QPS_ENV, DEFAULT_QPS)
    burst = max(1, int(number(BURST_ENV, DEFAULT_BURST)))
    return KubeSettings(qps=qps, burst=burst)


_client: KubeClient | None = None
_client_lock = threading.Lock()


def kube_client() -> KubeClient:
    """The process-wide client (created on first call; a failed creation is retried on the next call)."""
    global _client
    with _client_lock:
        if _client is None:
            from veloro_core.kube import ConfigError, KubeClient

            try:
                _client = KubeClient.auto(settings=client_settings())
            except ConfigError as exc:
                raise ClusterUnavailable(
                    f"this action reads the cluster but the plugin process has no Kubernetes config: {exc}. "
                    "Set KUBECONFIG in the environment of the veloro server (plugins inherit it, or pass it "
                    "with PluginSettings.extra_env), or run the server in a pod with a service account"
                ) from exc
        return _client


def reset_client() -> None:
    """Forget the cached client (tests that switch clusters within one process)."""
    global _client
    with _client_lock:
        if _client is not None:
            _client.close()
        _client = None


def list_objects(group: str, version: str, resource: str, namespace: str | None = None,
                 label_selector: str | None = None) -> list[JSONDict]:
    """Every object of a list (paged by the client), as plain dicts."""
    from veloro_core.kube import GroupVersionResource, KubeError

    client = kube_client()
    gvr = GroupVersionResource(group, version, resource)
    where = f" in namespace {namespace!r}" if namespace else ""
    try:
        return list(client.list_items(gvr, namespace, label_selector=label_selector or None))
    except KubeError as exc:
        raise ClusterUnavailable(f"cannot list {gvr.group_resource}{where}: {exc}") from exc


class RunMemo(Generic[T]):
    """Values computed once per Backup/Restore run (keyed by fields.cr_key), the last few runs kept.

    Concurrent callers for the same run wait for one computation instead of each hitting the API.
    A run without identity (key "") is never cached. Failures are not cached.
    """

    def __init__(self, keep: int = 8) -> None:
        self._keep = keep
        self._values: OrderedDict[str, T] = OrderedDict()
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: str, compute: Callable[[], T]) -> T:
        if not key:
            return compute()
        with self._lock:
            if key in self._values:
                return self._values[key]
            key_lock = self._locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._values:
                    return self._values[key]
            value = compute()
            with self._lock:
                self._values[key] = value
                while len(self._values) > self._keep:
                    old, _ = self._values.popitem(last=False)
                    self._locks.pop(old, None)
            return value

