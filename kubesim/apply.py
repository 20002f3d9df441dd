"""A small server-side apply: field ownership per Apply manager in managedFields (FieldsV1).

What it does: creates missing objects; merges the applied configuration (maps recursively, known
associative lists by key, other lists atomically); removes fields the same manager applied before and no
longer applies; reports a 409 Conflict when another Apply manager owns a field with a different value
(force=true takes ownership). What it does not do: track ownership for Update (PUT/PATCH) writers, so
conflicts with non-apply writers are never reported; no per-type schema (unknown lists are atomic).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
import yaml

from kubesim import errors
from kubesim.conversion import convert
from kubesim.objects import clone, rfc3339
from kubesim.patch import merge_key, strategic_merge
from kubesim.resources import ResourceType
from kubesim.store import Entry

if TYPE_CHECKING:
    from kubesim.objects import Api

Obj = dict[str, Any]
FieldPath = tuple[str, ...]
_SKIP_META = {
    "name",
    "namespace",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "managedFields",
    "generation",
}


def _leaves(value: Any, path: FieldPath, ctx: tuple[str, ...], out: set[FieldPath]) -> None:
    """Collect the field paths set by an applied configuration, FieldsV1 style (f:key, k:{json})."""
    if isinstance(value, dict) and value:
        for k, v in value.items():
            if not path and k in ("apiVersion", "kind"):
                continue
            if path == ("f:metadata",) and k in _SKIP_META:
                continue
            _leaves(v, (*path, f"f:{k}"), (*ctx, k), out)
        return
    if isinstance(value, list) and value:
        key = merge_key(ctx)
        if key:
            for item in value:
                if isinstance(item, dict) and key in item:
                    item_path = (*path, "k:" + orjson.dumps({key: item[key]}).decode())
                    out.add((*item_path, "."))
                    _leaves(item, item_path, ctx, out)
            return
    out.add(path)


def _to_fields_v1(paths: set[FieldPath]) -> Obj:
    root: Obj = {}
    for p in sorted(paths):
        cur = root
        for part in p:
            cur = cur.setdefault(part, {})
    return root


def _from_fields_v1(tree: Obj, prefix: FieldPath = ()) -> set[FieldPath]:
    out: set[FieldPath] = set()
    for k, v in tree.items():
        path = (*prefix, k)
        if isinstance(v, dict) and v:
            out |= _from_fields_v1(v, path)
        else:
            out.add(path)
    return out


def _remove_path(obj: Any, path: FieldPath) -> None:
    cur = obj
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if part == ".":
            return
        if part.startswith("f:") and isinstance(cur, dict):
            key = part[2:]
            if last:
                cur.pop(key, None)
                return
            cur = cur.get(key)
        elif part.startswith("k:") and isinstance(cur, list):
            want = orjson.loads(part[2:])
            idx = next(
                (
                    n
                    for n, x in enumerate(cur)
                    if isinstance(x, dict) and all(x.get(k) == v for k, v in want.items())
                ),
                None,
            )
            if idx is None:
                return
            if last or path[i + 1] == ".":
                cur.pop(idx)
                return
            cur = cur[idx]
        else:
            return


def _value_at(obj: Any, path: FieldPath) -> Any:
    cur = obj
    for part in path:
        if part == ".":
            return cur
        if part.startswith("f:") and isinstance(cur, dict):
            cur = cur.get(part[2:])
        elif part.startswith("k:") and isinstance(cur, list):
            want = orjson.loads(part[2:])
            cur = next(
                (x for x in cur if isinstance(x, dict) and all(x.get(k) == v for k, v in want.items())), None
            )
        else:
            return None
    return cur


def _entries(obj: Obj) -> list[Obj]:
    return list(obj.get("metadata", {}).get("managedFields") or [])


def _record(obj: Obj, manager: str, api_version: str, paths: set[FieldPath]) -> None:
    mine = [m for m in _entries(obj) if m.get("manager") == manager and m.get("operation") == "Apply"]
    others = [m for m in _entries(obj) if m not in mine]
    fields = _to_fields_v1(paths)
    if mine and mine[0].get("fieldsV1") == fields and mine[0].get("apiVersion") == api_version:
        entry = mine[0]  # same field set: keep the entry (and its time) so a no-op apply changes nothing
    else:
        entry = {
            "manager": manager,
            "operation": "Apply",
            "apiVersion": api_version,
            "time": rfc3339(),
            "fieldsType": "FieldsV1",
            "fieldsV1": fields,
        }
    obj["metadata"]["managedFields"] = [*others, entry]


def _parse(body: bytes) -> Obj:
    try:
        data = yaml.safe_load(body)
    except yaml.YAMLError as exc:
        raise errors.bad_request(f"error decoding YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise errors.bad_request("the apply configuration must be an object")
    return data


def server_side_apply(
    api: Api,
    rt: ResourceType,
    version: str,
    ns: str,
    name: str,
    body: bytes,
    sub: str | None,
    dry_run: bool,
    force: bool,
    manager: str | None,
) -> Entry:
    if not manager:
        raise errors.bad_request(
            "PATCH requests with apply must include fieldManager: set ?fieldManager=NAME"
        )
    applied = _parse(body)
    applied.setdefault("metadata", {})
    if applied["metadata"].get("name", name) != name:
        raise errors.bad_request(
            f"the name of the object ({applied['metadata'].get('name')}) does not match "
            f"the name on the URL ({name})"
        )
    paths: set[FieldPath] = set()
    _leaves(applied, (), (), paths)
    current = api.store.get(rt.key, ns, name)
    if current is None:
        if sub is not None:
            raise errors.not_found(rt.plural, rt.group, name)
        obj = clone(applied)
        obj["metadata"]["name"] = name
        _record(obj, manager, rt.api_version(version), paths)
        return api.create(rt, version, ns, obj, dry_run=dry_run)
    new = convert(rt.key, clone(current.obj), rt.api_version(version))
    mine: set[FieldPath] = set()
    for m in _entries(new):
        if m.get("operation") != "Apply" or not isinstance(m.get("fieldsV1"), dict):
            continue
        owned = _from_fields_v1(m["fieldsV1"])
        if m.get("manager") == manager:
            mine = owned
            continue
        clash = [p for p in paths & owned if p[-1] != "." and _value_at(new, p) != _value_at(applied, p)]
        if clash and not force:
            fields = ", ".join(".".join(x[2:] for x in p) for p in sorted(clash)[:5])
            raise errors.conflict(
                rt.plural,
                rt.group,
                name,
                f'Apply failed with {len(clash)} conflict(s): conflict with "{m.get("manager")}": {fields}',
            )
        if clash:
            m["fieldsV1"] = _to_fields_v1(owned - set(clash))
    for p in sorted(mine - paths, key=len, reverse=True):
        _remove_path(new, p)
    merged = strategic_merge(new, {k: v for k, v in applied.items() if k not in ("apiVersion", "kind")})
    merged["metadata"]["resourceVersion"] = applied["metadata"].get("resourceVersion") or None
    if merged["metadata"]["resourceVersion"] is None:
        merged["metadata"].pop("resourceVersion")
    _record(merged, manager, rt.api_version(version), paths)
    return api.update(rt, version, ns, name, merged, sub=sub, dry_run=dry_run)
