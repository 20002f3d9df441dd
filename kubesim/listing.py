"""Lists with selectors and limit/continue paging over a consistent snapshot.

The first page of a paged list freezes the matching entries (references, not copies) in a snapshot; the
continue token names the snapshot and an offset. An unknown or expired snapshot answers 410 Expired, as a
real server does once etcd has compacted the list's resourceVersion.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from kubesim import errors
from kubesim.conversion import convert
from kubesim.resources import ResourceType
from kubesim.selectors import Matcher, combine, parse_field_selector, parse_label_selector
from kubesim.store import Entry, Store
from kubesim.table import table

Obj = dict[str, Any]
EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can start a "
    "new list without the continue parameter, or use the continue token in this response to retrieve "
    "the remainder of the results. Continuing with the provided token results in an inconsistent list "
    "- objects that were created, modified, or deleted between the time the first chunk was returned "
    "and now may show up in the list."
)


@dataclass
class ListQuery:
    label_selector: str | None = None
    field_selector: str | None = None
    limit: int = 0
    continue_token: str | None = None
    table_include: str | None = None  # None = not a table; else includeObject value


def matcher_for(rt: ResourceType, label: str | None, field: str | None) -> Matcher | None:
    return combine(parse_label_selector(label), parse_field_selector(field, rt.key, rt.kind))


def _encode(sid: int, offset: int, rv: int) -> str:
    raw = orjson.dumps({"s": sid, "o": offset, "rv": rv})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str) -> tuple[int, int, int]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return int(data["s"]), int(data["o"]), int(data["rv"])
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
        raise errors.bad_request(f"continue key is not valid: {token!r}") from exc


def render_entry(entry: Entry, rt: ResourceType, api_version: str) -> bytes:
    """The entry's JSON as seen through api_version (the cached bytes when that is the stored version)."""
    if entry.obj.get("apiVersion") == api_version:
        return entry.raw
    return orjson.dumps(convert(rt.key, entry.obj, api_version))


def converted(entry: Entry, rt: ResourceType, api_version: str) -> Obj:
    return convert(rt.key, entry.obj, api_version)


def select(store: Store, rt: ResourceType, ns: str | None, match: Matcher | None) -> list[Entry]:
    entries = store.bucket(rt.key).sorted_entries(ns)
    if match is None:
        return entries
    return [e for e in entries if match(e.obj)]


def list_objects(store: Store, rt: ResourceType, version: str, ns: str | None, q: ListQuery) -> bytes:
    match = matcher_for(rt, q.label_selector, q.field_selector)
    if q.continue_token:
        sid, offset, rv = _decode(q.continue_token)
        snap = store.snapshots.get(sid)
        if snap is None:
            raise errors.gone(EXPIRED)
        rv, entries = snap
    else:
        offset, rv, sid = 0, store.rv, 0
        entries = select(store, rt, ns, match)
        if q.limit and len(entries) > q.limit:
            sid = store.snapshots.add(rv, entries)
    end = offset + q.limit if q.limit else len(entries)
    page = entries[offset:end]
    meta: Obj = {"resourceVersion": str(rv)}
    if end < len(entries):
        meta["continue"] = _encode(sid, end, rv)
        meta["remainingItemCount"] = len(entries) - end
    elif sid:
        store.snapshots.drop(sid)
    api_version = rt.api_version(version)
    if q.table_include is not None:
        return orjson.dumps(table(rt, page, meta, q.table_include, lambda e: converted(e, rt, api_version)))
    head = orjson.dumps({"kind": f"{rt.kind}List", "apiVersion": api_version, "metadata": meta})
    items = b",".join(render_entry(e, rt, api_version) for e in page)
    return head[:-1] + b',"items":[' + items + b"]}"


def single_table(rt: ResourceType, entry: Entry, api_version: str, include: str) -> bytes:
    return orjson.dumps(
        table(
            rt, [entry], {"resourceVersion": str(entry.rv)}, include, lambda e: converted(e, rt, api_version)
        )
    )


Converter = Callable[[Entry], Obj]
