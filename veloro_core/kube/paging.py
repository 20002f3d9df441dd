"""Paged lists (limit/continue) as a generator of pages, with a policy for expired continue tokens.

A continue token expires (410 Expired) when the list's snapshot is compacted away, typically after
minutes. on_expired="restart" lists again from the start and skips every object already yielded (by
metadata.uid; the page generator keeps that set, ~100 bytes per object), so each object is still yielded
at most once; objects created after the first page may or may not appear, as with any list.
on_expired="raise" raises Gone with a message saying the list must be restarted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
import structlog

from veloro_core.kube.errors import Gone

log = structlog.get_logger("veloro.kube")

Obj = dict[str, Any]
OnExpired = Literal["restart", "raise"]
FetchPage = Callable[[str | None], bytes]  # continue token -> raw list body


@dataclass
class ListPage:
    """One page of a list; items carry apiVersion and kind (the API omits them in lists)."""

    items: list[Obj]
    resource_version: str
    continue_token: str | None
    remaining_item_count: int | None = None
    api_version: str = ""
    kind: str = ""  # the item kind, e.g. "ConfigMap" (the list's kind without "List")
    restarted: bool = False
    extra: Obj = field(default_factory=dict)


def parse_page(raw: bytes) -> ListPage:
    body = orjson.loads(raw)
    meta = body.get("metadata") or {}
    api_version = str(body.get("apiVersion") or "")
    list_kind = str(body.get("kind") or "")
    kind = list_kind[:-4] if list_kind.endswith("List") else list_kind
    items = body.get("items") or []
    for item in items:
        # setdefault keeps custom resources' own values; built-in items arrive without them.
        if "apiVersion" not in item:
            item["apiVersion"] = api_version
        if "kind" not in item:
            item["kind"] = kind
    remaining = meta.get("remainingItemCount")
    return ListPage(items=items, resource_version=str(meta.get("resourceVersion") or ""),
                    continue_token=meta.get("continue") or None,
                    remaining_item_count=int(remaining) if remaining is not None else None,
                    api_version=api_version, kind=kind)


def iter_pages(fetch: FetchPage, what: str, on_expired: OnExpired = "restart",
               max_restarts: int = 3) -> Iterator[ListPage]:
    """Pages of one list until the server returns no continue token."""
    seen: set[str] | None = set() if on_expired == "restart" else None
    token: str | None = None
    restarts = 0
    restarted = False
    while True:
        try:
            page = parse_page(fetch(token))
        except Gone as exc:
            if token is None:
                raise
            if seen is None or restarts >= max_restarts:
                raise Gone(f"the paged list of {what} expired before it finished (continue token too old); "
                           "the list must be restarted", code=exc.code, reason=exc.reason,
                           status=exc.status) from exc
            restarts += 1
            log.warning("list continue token expired; restarting the list", resource=what,
                        already_listed=len(seen), restart=restarts)
            token, restarted = None, True
            continue
        if seen is not None:
            if restarted:
                page.items = [i for i in page.items if _uid(i) not in seen]
                page.restarted = True
            seen.update(_uid(i) for i in page.items)
        yield page
        token = page.continue_token
        if not token:
            return


def _uid(item: Obj) -> str:
    meta = item.get("metadata") or {}
    uid = meta.get("uid")
    if uid:
        return str(uid)
    return f"{meta.get('namespace') or ''}/{meta.get('name') or ''}"
