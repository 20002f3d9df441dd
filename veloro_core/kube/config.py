"""Where the cluster is and how to authenticate: kubeconfig or in-cluster, via the kubernetes package.

The result is a Transport over the PoolManager that kubernetes.client.ApiClient builds from the loaded
Configuration, so TLS (CA bundle, client certificates, tls-server-name), proxies and token refresh (exec
plugins, projected service-account tokens) behave exactly as in the official client.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.incluster_config import (
    SERVICE_CERT_FILENAME,
    SERVICE_HOST_ENV_NAME,
    SERVICE_TOKEN_FILENAME,
    InClusterConfigLoader,
)

from veloro_core.kube.errors import ConfigError
from veloro_core.kube.settings import KubeSettings
from veloro_core.kube.transport import Transport

DEFAULT_KUBECONFIG = "~/.kube/config"
# The kubernetes package is only partly typed: call it through Any.
_load_kube_config: Any = k8s_config.load_kube_config
_InClusterLoader: Any = InClusterConfigLoader


def load_kubeconfig(path: str | Path | None = None, context: str | None = None) -> Any:
    """A kubernetes Configuration from a kubeconfig file (None: $KUBECONFIG, may be a ':' list, or
    ~/.kube/config) and context (None: its current-context)."""
    cfg = k8s_client.Configuration()
    try:
        _load_kube_config(config_file=str(path) if path is not None else None, context=context,
                          client_configuration=cfg, persist_config=False)
    except (ConfigException, OSError, TypeError, ValueError) as exc:
        where = str(path) if path is not None else os.environ.get("KUBECONFIG", DEFAULT_KUBECONFIG)
        ctx = f" (context {context!r})" if context else ""
        raise ConfigError(f"cannot load kubeconfig {where}{ctx}: {exc}") from exc
    return cfg


def load_in_cluster(token_path: str | Path = SERVICE_TOKEN_FILENAME,
                    ca_path: str | Path = SERVICE_CERT_FILENAME,
                    environ: dict[str, str] | None = None) -> Any:
    """A Configuration from the pod's service account (token re-read as it rotates)."""
    cfg = k8s_client.Configuration()
    try:
        loader = _InClusterLoader(token_filename=str(token_path), cert_filename=str(ca_path),
                                  environ=os.environ if environ is None else environ)
        loader.load_and_set(cfg)
    except (ConfigException, OSError) as exc:
        raise ConfigError(f"cannot load in-cluster config: {exc}") from exc
    return cfg


def load_auto(path: str | Path | None = None, context: str | None = None) -> Any:
    """kubeconfig when one is given or present, else in-cluster (the order kubectl and Velero use)."""
    if path is not None or context is not None:
        return load_kubeconfig(path, context)
    env = os.environ.get("KUBECONFIG")
    if env or Path(DEFAULT_KUBECONFIG).expanduser().exists():
        return load_kubeconfig(None, None)
    if os.environ.get(SERVICE_HOST_ENV_NAME):
        return load_in_cluster()
    raise ConfigError("no kubeconfig found ($KUBECONFIG unset, ~/.kube/config missing) and not running "
                      "in a pod")


def _auth_provider(cfg: Any) -> Callable[[], dict[str, str]]:
    def headers() -> dict[str, str]:
        out: dict[str, str] = {}
        for setting in cfg.auth_settings().values():  # runs refresh_api_key_hook when one is set
            value = setting.get("value")
            if setting.get("in") == "header" and value:
                out[str(setting.get("key") or "authorization")] = str(value)
        if cfg.username and "authorization" not in out:
            basic = cfg.get_basic_auth_token()
            if basic:
                out["authorization"] = basic
        return out

    return headers


def build_transport(cfg: Any, settings: KubeSettings) -> Transport:
    """A Transport on the ApiClient's urllib3 pool, sized for settings.pool_maxsize concurrent requests."""
    cfg.connection_pool_maxsize = settings.pool_maxsize
    api_client = k8s_client.ApiClient(cfg)
    pool = api_client.rest_client.pool_manager
    host = str(cfg.host or "")
    if not host.startswith(("http://", "https://")):
        raise ConfigError(f"the API server address {host!r} is not an http(s) URL")
    return Transport(pool, host, settings, auth_headers=_auth_provider(cfg))
