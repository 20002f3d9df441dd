"""Kubernetes strategic merge patch for resource modifiers, without the Go type schemas.

Kubernetes decides how a list is patched from struct tags (patchStrategy/patchMergeKey) of the built-in
types. We have no Go types, so the merge keys of the built-in lists are named here by field name (with the
context where one name means two things, e.g. container ports vs. service ports). A list without a merge
key is replaced, as Kubernetes does. For custom resources (no schema in Kubernetes either) every list is
replaced, which makes the patch behave like a JSON merge patch.

Directives: `$patch: replace|delete|merge` (in a map or a list item), `$retainKeys`,
`$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>`.
"""

from __future__ import annotations

import copy
from typing import Any

Path = tuple[str, ...]

_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "ownerReferences": "uid",
    "conditions": "type",
    "taints": "key",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
    "schedulingGates": "name",
    "containerStatuses": "name",
    "initContainerStatuses": "name",
}
_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
_PRIMITIVE_SETS = {"finalizers"}  # merged as a set of values


class StrategicPatchError(Exception):
    """The strategic merge patch is malformed for this object."""


def builtin_api(api_version: str) -> bool:
    """Kubernetes' own API groups (core, apps, batch, *.k8s.io ...): their lists have merge keys."""
    group = api_version.rpartition("/")[0]
    return "." not in group or group.endswith(".k8s.io")


def merge_key(path: Path) -> str | None:
    """The merge key of the list at `path`; "" = a merged list of plain values; None = replaced."""
    last = path[-1] if path else ""
    if last == "ports":
        if len(path) >= 2 and path[-2] in _CONTAINER_LISTS:
            return "containerPort"
        return "port" if path == ("spec", "ports") else None
    if last == "secrets" and path == ("secrets",):
        return "name"  # ServiceAccount.secrets
    if last in _PRIMITIVE_SETS:
        return ""
    return _MERGE_KEYS.get(last)


def strategic_merge(original: Any, patch: Any, *, keyed: bool = True) -> Any:
    """`original` with `patch` applied (neither is changed). `keyed=False`: no list has a merge key."""
    return _merge_map(original, patch, (), keyed)


def _merge_map(original: Any, patch: Any, path: Path, keyed: bool) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive not in (None, "merge", "replace", "delete"):
        raise StrategicPatchError(f"unknown $patch directive {directive!r} at {_where(path)}")
    if directive == "delete":
        return None
    if directive == "replace" or not isinstance(original, dict):
        original = {}
    result = dict(original)
    orders: dict[str, Any] = {}
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys"):
            continue
        if key.startswith("$setElementOrder/"):
            orders[key.partition("/")[2]] = value
        elif key.startswith("$deleteFromPrimitiveList/"):
            _delete_primitives(result, key.partition("/")[2], value, path)
        elif value is None:
            result.pop(key, None)
        elif isinstance(value, list):
            result[key] = _merge_list(result.get(key), value, (*path, key), keyed)
        elif isinstance(value, dict):
            merged = _merge_map(result.get(key), value, (*path, key), keyed)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        else:
            result[key] = value
    for field, order in orders.items():
        if isinstance(result.get(field), list) and isinstance(order, list):
            result[field] = _reorder(result[field], order, merge_key((*path, field)) if keyed else None)
    retain = patch.get("$retainKeys")
    if retain is not None:
        if not isinstance(retain, list):
            raise StrategicPatchError(f"$retainKeys at {_where(path)} must be a list of field names")
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _delete_primitives(result: dict[str, Any], field: str, values: Any, path: Path) -> None:
    if not isinstance(values, list):
        raise StrategicPatchError(f"$deleteFromPrimitiveList/{field} at {_where(path)} must be a list")
    current = result.get(field)
    if isinstance(current, list):
        result[field] = [x for x in current if x not in values]


def _merge_list(original: Any, patch: list[Any], path: Path, keyed: bool) -> list[Any]:
    key = merge_key(path) if keyed else None
    if key is None or not isinstance(original, list):
        return [_strip(x) for x in patch if not _directive(x, "delete")]
    if any(_directive(x, "replace") for x in patch):
        return [_strip(x) for x in patch if not (isinstance(x, dict) and "$patch" in x)]
    if key == "":
        return list(original) + [x for x in patch if x not in original]
    result = list(original)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise StrategicPatchError(
                f"an item of the list at {_where(path)} has no {key!r}: items of this list are matched by "
                f"{key!r}"
            )
        found = next((i for i, x in enumerate(result) if isinstance(x, dict) and x.get(key) == item[key]),
                     None)
        if _directive(item, "delete"):
            if found is not None:
                result.pop(found)
        elif found is None:
            result.append(_strip(item))
        else:
            result[found] = _merge_map(result[found], item, path, keyed)
    return result


def _directive(item: Any, name: str) -> bool:
    return isinstance(item, dict) and item.get("$patch") == name


def _strip(item: Any) -> Any:
    """An item inserted as it is, without patch directives."""
    if isinstance(item, dict):
        return {k: _strip(v) for k, v in item.items() if not k.startswith("$")}
    if isinstance(item, list):
        return [_strip(x) for x in item]
    return item


def _reorder(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    """$setElementOrder: the listed items first, in the given order; the others keep their place after."""
    if key is None:
        return items
    if key == "":
        rank = {repr(v): i for i, v in enumerate(order)}
        return sorted(items, key=lambda x: rank.get(repr(x), len(rank)))
    ranks = {repr(o.get(key)): i for i, o in enumerate(order) if isinstance(o, dict)}
    return sorted(
        items, key=lambda x: ranks.get(repr(x.get(key)) if isinstance(x, dict) else "", len(ranks))
    )


def _where(path: Path) -> str:
    return "/" + "/".join(path) if path else "the top level"
