"""The scale subresource (autoscaling/v1 Scale) of workloads and of custom resources that declare it."""

from __future__ import annotations

from typing import Any

import orjson

from kubesim import errors
from kubesim.objects import JSON_PATCH, MERGE, STRATEGIC, Api, clone
from kubesim.patch import json_patch, merge_patch, strategic_merge
from kubesim.resources import ResourceType
from kubesim.store import Entry
from kubesim.table import json_path

Obj = dict[str, Any]
_DEFAULT_PATHS = {"spec": ".spec.replicas", "status": ".status.replicas", "selector": ""}


def _paths(rt: ResourceType) -> dict[str, str]:
    return rt.scale_paths if rt.custom else _DEFAULT_PATHS


def _selector_string(sel: Any) -> str:
    if not isinstance(sel, dict):
        return ""
    if "matchLabels" not in sel and "matchExpressions" not in sel:
        return ",".join(f"{k}={v}" for k, v in sorted(sel.items()))  # replication controllers
    parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for expr in sel.get("matchExpressions") or []:
        op, key, values = expr.get("operator"), expr.get("key"), expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(sorted(values))})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(sorted(values))})")
        elif op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


def to_scale(rt: ResourceType, entry: Entry) -> Obj:
    obj = entry.obj
    paths = _paths(rt)
    meta = obj["metadata"]
    if rt.custom:
        selector = json_path(obj, paths["selector"]) if paths.get("selector") else ""
    else:
        selector = _selector_string((obj.get("spec") or {}).get("selector"))
    scale_meta = {
        k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in meta
    }
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": scale_meta,
        "spec": {"replicas": json_path(obj, paths["spec"]) or 0},
        "status": {"replicas": json_path(obj, paths.get("status", "")) or 0, "selector": selector or ""},
    }


def _set_path(obj: Obj, path: str, value: Any) -> None:
    parts = path.strip(".").split(".")
    cur = obj
    for p in parts[:-1]:
        cur = cur.setdefault(p, {})
    cur[parts[-1]] = value


def update_scale(
    api: Api, rt: ResourceType, version: str, ns: str, name: str, scale: Any, dry_run: bool
) -> Obj:
    if not isinstance(scale, dict):
        raise errors.bad_request("the body of the request must be a Scale object")
    old = api.get(rt, ns, name)
    rv = (scale.get("metadata") or {}).get("resourceVersion")
    if rv and str(rv) != str(old.rv):
        raise errors.stale_conflict(rt.plural, rt.group, name)
    replicas = (scale.get("spec") or {}).get("replicas")
    if not isinstance(replicas, int) or replicas < 0:
        raise errors.invalid(
            "Scale",
            "autoscaling",
            name,
            [
                (
                    "spec.replicas",
                    "FieldValueInvalid",
                    f"Invalid value: {replicas!r}: must be greater than or equal to 0",
                )
            ],
        )
    new = clone(old.obj)
    _set_path(new, _paths(rt)["spec"], replicas)
    new["metadata"].pop("resourceVersion", None)
    entry = api.update(rt, version, ns, name, new, dry_run=dry_run)
    return to_scale(rt, entry)


def patch_scale(
    api: Api, rt: ResourceType, version: str, ns: str, name: str, ptype: str, body: bytes, dry_run: bool
) -> Obj:
    current = to_scale(rt, api.get(rt, ns, name))
    try:
        patch = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise errors.bad_request(f"error decoding patch: {exc}") from exc
    if ptype == JSON_PATCH:
        new = json_patch(current, patch)
    elif ptype == MERGE:
        new = merge_patch(current, patch)
    elif ptype == STRATEGIC:
        new = strategic_merge(current, patch)
    else:
        raise errors.unsupported_media(f"unsupported patch type for scale: {ptype}")
    if isinstance(new, dict) and (new.get("metadata") or {}).get("resourceVersion") == current[
        "metadata"
    ].get("resourceVersion"):
        new["metadata"].pop("resourceVersion", None)
    return update_scale(api, rt, version, ns, name, new, dry_run)
