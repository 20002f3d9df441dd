"""Lookup of a plugin's configuration ConfigMap, as Velero does it.

The ConfigMap lives in the veloro namespace ($VELORO_NAMESPACE, default "veloro") and carries the labels
`veloro.io/plugin-config` and `veloro.io/<plugin>: RestoreItemAction` (Velero's spelling `velero.io/...` is
found too, so ConfigMaps written for Velero keep working). At most one may match: two would make the
result depend on list order, so that is an error naming both.
"""

from __future__ import annotations

import os

from veloro_sdk.contracts import JSONDict, PluginError

from veloro_plugins.actions.cluster import RunMemo, list_objects
from veloro_plugins.actions.fields import child, cr_key, name_of

NAMESPACE_ENV = "VELORO_NAMESPACE"
DEFAULT_NAMESPACE = "veloro"
LABEL_DOMAINS = ("veloro.io", "velero.io")
RESTORE_ITEM_ACTION = "RestoreItemAction"


class PluginConfigError(PluginError):
    """The plugin's ConfigMap cannot be used as it is."""


def veloro_namespace() -> str:
    return os.environ.get(NAMESPACE_ENV) or DEFAULT_NAMESPACE


def selectors(plugin: str, kind: str = RESTORE_ITEM_ACTION) -> list[str]:
    """`plugin` is the short name (`change-storage-class`); one selector per label spelling."""
    return [f"{domain}/plugin-config,{domain}/{plugin}={kind}" for domain in LABEL_DOMAINS]


def find_config(plugin: str, kind: str = RESTORE_ITEM_ACTION) -> dict[str, str] | None:
    """data of the plugin's ConfigMap, None when there is none (the action then does nothing)."""
    namespace = veloro_namespace()
    found: dict[str, JSONDict] = {}
    for selector in selectors(plugin, kind):
        for config_map in list_objects("", "v1", "configmaps", namespace, selector):
            found.setdefault(name_of(config_map), config_map)
    if len(found) > 1:
        names = ", ".join(sorted(found))
        raise PluginConfigError(
            f"found more than one ConfigMap for plugin {plugin!r} in namespace {namespace!r} ({names}); "
            f"keep one with the labels {LABEL_DOMAINS[0]}/plugin-config and "
            f"{LABEL_DOMAINS[0]}/{plugin}={kind}"
        )
    if not found:
        return None
    data = child(next(iter(found.values())), "data")
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}


class PluginConfig:
    """One plugin's ConfigMap data, read once per Restore (memoised by the Restore's uid)."""

    def __init__(self, plugin: str, kind: str = RESTORE_ITEM_ACTION) -> None:
        self.plugin = plugin
        self.kind = kind
        self._memo: RunMemo[dict[str, str] | None] = RunMemo()

    def for_run(self, cr: JSONDict) -> dict[str, str] | None:
        return self._memo.get(cr_key(cr), lambda: find_config(self.plugin, self.kind))
