"""JSON patch (RFC 6902), JSON merge patch (RFC 7386) and strategic merge patch.

Strategic merge needs per-field patch metadata (which lists merge and by which key). kubesim keeps the
table of the built-in types' list fields by field name and context, which is the part kubectl relies on;
other lists are replaced, as in the real server.
"""

from __future__ import annotations

import copy
from typing import Any

from kubesim.errors import ApiError, bad_request

Path = tuple[str, ...]


def _patch_error(message: str) -> ApiError:
    return ApiError(422, "Invalid", message)


# ---- JSON merge patch ----------------------------------------------------------------------------
def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


# ---- JSON patch -----------------------------------------------------------------------------------
def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise _patch_error(f"invalid JSON pointer {path!r}: must start with '/'")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str], path: str) -> Any:
    cur = doc
    for p in parts:
        if isinstance(cur, dict):
            if p not in cur:
                raise _patch_error(f'doc is missing path: "{path}": missing value')
            cur = cur[p]
        elif isinstance(cur, list):
            idx = _index(p, len(cur), path)
            cur = cur[idx]
        else:
            raise _patch_error(f'doc is missing path: "{path}"')
    return cur


def _index(p: str, size: int, path: str, allow_end: bool = False) -> int:
    if p == "-" and allow_end:
        return size
    if not p.isdigit():
        raise _patch_error(f'invalid array index {p!r} in "{path}"')
    idx = int(p)
    if idx > size or (idx == size and not allow_end):
        raise _patch_error(f'array index out of bounds in "{path}": {idx}')
    return idx


def _add(doc: Any, parts: list[str], value: Any, path: str) -> Any:
    if not parts:
        return value
    parent = _walk(doc, parts[:-1], path)
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(last, len(parent), path, allow_end=True), value)
    else:
        raise _patch_error(f'doc is missing path: "{path}"')
    return doc


def _remove(doc: Any, parts: list[str], path: str) -> Any:
    if not parts:
        raise _patch_error("cannot remove the whole document")
    parent = _walk(doc, parts[:-1], path)
    last = parts[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise _patch_error(f"Unable to remove nonexistent key: {last}: missing value")
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(last, len(parent), path))
    raise _patch_error(f'doc is missing path: "{path}"')


def json_patch(doc: Any, ops: Any) -> Any:
    if not isinstance(ops, list):
        raise bad_request("json patch must be a JSON array of operations")
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise bad_request(f"invalid json patch operation: {op!r}")
        kind, path = op["op"], op["path"]
        parts = _pointer(path)
        if kind == "add":
            doc = _add(doc, parts, copy.deepcopy(op.get("value")), path)
        elif kind == "remove":
            _remove(doc, parts, path)
        elif kind == "replace":
            _walk(doc, parts, path)
            if parts:
                _remove(doc, parts, path)
            doc = _add(doc, parts, copy.deepcopy(op.get("value")), path)
        elif kind in ("move", "copy"):
            src = op.get("from", "")
            value = copy.deepcopy(_walk(doc, _pointer(src), src))
            if kind == "move":
                _remove(doc, _pointer(src), src)
            doc = _add(doc, parts, value, path)
        elif kind == "test":
            if _walk(doc, parts, path) != op.get("value"):
                raise _patch_error(f"testing value {path} failed: test failed")
        else:
            raise bad_request(f"Unexpected kind: {kind}")
    return doc


# ---- strategic merge patch ------------------------------------------------------------------------
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
_PRIMITIVE_MERGE = {"finalizers"}


def merge_key(path: Path) -> str | None:
    """The merge key of the list at path, "" for a merged primitive list, None when it is replaced."""
    last = path[-1] if path else ""
    if last == "ports":
        if len(path) >= 2 and path[-2] in ("containers", "initContainers", "ephemeralContainers"):
            return "containerPort"
        if path == ("spec", "ports"):
            return "port"
        return None
    if last == "addresses" and path[-2:] == ("status", "addresses"):
        return "type"
    if last == "secrets" and path == ("secrets",):
        return "name"
    if last in _PRIMITIVE_MERGE:
        return ""
    return _MERGE_KEYS.get(last)


def strategic_merge(original: Any, patch: Any, path: Path = ()) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(original, dict) or patch.get("$patch") == "replace":
        original = {}
    if patch.get("$patch") == "delete":
        return None
    result = dict(original)
    retain = patch.get("$retainKeys")
    orders: dict[str, list[Any]] = {}
    for k, v in patch.items():
        if k in ("$patch", "$retainKeys"):
            continue
        if k.startswith("$setElementOrder/"):
            orders[k.split("/", 1)[1]] = v if isinstance(v, list) else []
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            field = k.split("/", 1)[1]
            drop = v if isinstance(v, list) else []
            if isinstance(result.get(field), list):
                result[field] = [x for x in result[field] if x not in drop]
            continue
        if v is None:
            result.pop(k, None)
        elif isinstance(v, list):
            result[k] = _merge_list(result.get(k), v, (*path, k))
        elif isinstance(v, dict):
            merged = strategic_merge(result.get(k), v, (*path, k))
            if merged is None:
                result.pop(k, None)
            else:
                result[k] = merged
        else:
            result[k] = v
    for field, order in orders.items():
        if isinstance(result.get(field), list):
            result[field] = _reorder(result[field], order, merge_key((*path, field)))
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_list(original: Any, patch: list[Any], path: Path) -> list[Any]:
    key = merge_key(path)
    if key is None or not isinstance(original, list):
        return [_strip(x) for x in patch if not (isinstance(x, dict) and x.get("$patch") == "delete")]
    if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch):
        return [_strip(x) for x in patch if not (isinstance(x, dict) and "$patch" in x)]
    if key == "":
        return list(original) + [x for x in patch if x not in original]
    result = [copy.deepcopy(x) for x in original]
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            result.append(copy.deepcopy(item))
            continue
        idx = next((i for i, x in enumerate(result) if isinstance(x, dict) and x.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                result.pop(idx)
        elif idx is None:
            result.append(_strip(item))
        else:
            result[idx] = strategic_merge(result[idx], item, path)
    return result


def _strip(item: Any) -> Any:
    """Drop patch directives from an item that is inserted as is."""
    if isinstance(item, dict):
        return {k: _strip(v) for k, v in item.items() if not k.startswith("$")}
    if isinstance(item, list):
        return [_strip(x) for x in item]
    return item


def _reorder(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    """Apply $setElementOrder: listed items first in the given order, the rest keep their place after."""
    if key is None:
        return items
    if key == "":
        ranked = {v: i for i, v in enumerate(order)}
        return sorted(items, key=lambda x: ranked.get(x, len(ranked)))
    ranked = {o.get(key): i for i, o in enumerate(order) if isinstance(o, dict)}
    return sorted(items, key=lambda x: ranked.get(x.get(key) if isinstance(x, dict) else None, len(ranked)))
