"""Small accessors on Kubernetes objects as JSON dicts, shared by the core actions.

Actions receive fresh copies of the objects from the host, so they change them in place and return them.
"""

from __future__ import annotations

from typing import Any

from veloro_sdk.contracts import JSONDict


def child(obj: JSONDict, key: str) -> JSONDict:
    """obj[key] when it is an object, else an empty dict that is NOT attached to obj (read-only use)."""
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


def dict_list(obj: JSONDict, key: str) -> list[JSONDict]:
    """The dict entries of obj[key] when it is a list (malformed entries are ignored)."""
    value = obj.get(key)
    if not isinstance(value, list):
        return []
    return [entry for entry in value if isinstance(entry, dict)]


def metadata(obj: JSONDict) -> JSONDict:
    return child(obj, "metadata")


def name_of(obj: JSONDict) -> str:
    return str(metadata(obj).get("name") or "")


def namespace_of(obj: JSONDict) -> str:
    return str(metadata(obj).get("namespace") or "")


def labels_of(obj: JSONDict) -> dict[str, Any]:
    return child(metadata(obj), "labels")


def annotations_of(obj: JSONDict) -> dict[str, Any]:
    return child(metadata(obj), "annotations")


def drop_keys(mapping: JSONDict, keys: tuple[str, ...] | frozenset[str]) -> bool:
    """Remove keys from a dict; True when something was removed."""
    removed = False
    for key in keys:
        if key in mapping:
            del mapping[key]
            removed = True
    return removed


def namespace_mapping(cr: JSONDict) -> dict[str, str]:
    """spec.namespaceMapping of a Restore CR (old -> new), empty when unset."""
    mapping = child(child(cr, "spec"), "namespaceMapping")
    return {str(k): str(v) for k, v in mapping.items() if isinstance(v, str) and v}


def is_true(value: Any) -> bool:
    """A *bool field of a CR spec that counts only when explicitly true."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def cr_key(cr: JSONDict) -> str:
    """Identity of one Backup/Restore run, for per-run caches; "" when the CR carries no identity."""
    meta = metadata(cr)
    uid = meta.get("uid")
    if uid:
        return f"uid:{uid}"
    name = meta.get("name")
    if not name:
        return ""
    return f"{meta.get('namespace', '')}/{name}@{meta.get('creationTimestamp', '')}"
