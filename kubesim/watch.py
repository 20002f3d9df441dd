"""Watch streams: chunked JSON lines of ADDED/MODIFIED/DELETED, BOOKMARK on request, 410 when too old.

The subscription is taken before the initial state is read, in the same event-loop step, so no write can
fall between the initial events and the live ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from aiohttp import web

from kubesim import errors
from kubesim.listing import converted, matcher_for, render_entry
from kubesim.resources import ResourceType
from kubesim.store import Entry, Event, Store
from kubesim.table import table

BOOKMARK_INTERVAL = 5.0
DEFAULT_TIMEOUT = 1800.0


@dataclass
class WatchQuery:
    resource_version: str | None = None
    label_selector: str | None = None
    field_selector: str | None = None
    bookmarks: bool = False
    timeout: float | None = None
    send_initial: bool | None = None
    table_include: str | None = None


class _Stream:
    def __init__(self, rt: ResourceType, version: str, ns: str | None, q: WatchQuery) -> None:
        self.rt, self.ns, self.q = rt, ns, q
        self.api_version = rt.api_version(version)
        self.match = matcher_for(rt, q.label_selector, q.field_selector)

    def visible(self, entry: Entry | None) -> bool:
        if entry is None:
            return False
        if self.ns is not None and entry.namespace != self.ns:
            return False
        return self.match is None or self.match(entry.obj)

    def translate(self, ev: Event) -> tuple[str, Entry] | None:
        """Map a store event to what this watcher sees (selector transitions become ADDED/DELETED)."""
        now = self.visible(ev.entry)
        if ev.type == "DELETED":
            return ("DELETED", ev.entry) if now or self.visible(ev.prev) else None
        before = ev.prev is not None and self.visible(ev.prev)
        if now and before:
            return ("MODIFIED", ev.entry)
        if now:
            return ("ADDED", ev.entry)
        if before:
            return ("DELETED", ev.entry)
        return None

    def line(self, type_: str, entry: Entry) -> bytes:
        if self.q.table_include is not None:
            obj = table(
                self.rt,
                [entry],
                {"resourceVersion": str(entry.rv)},
                self.q.table_include,
                lambda e: converted(e, self.rt, self.api_version),
            )
            return orjson.dumps({"type": type_, "object": obj}) + b"\n"
        return (
            b'{"type":"'
            + type_.encode()
            + b'","object":'
            + render_entry(entry, self.rt, self.api_version)
            + b"}\n"
        )

    def bookmark(self, rv: int, initial_end: bool = False) -> bytes:
        meta: dict[str, object] = {"resourceVersion": str(rv)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        obj = {"kind": self.rt.kind, "apiVersion": self.api_version, "metadata": meta}
        return orjson.dumps({"type": "BOOKMARK", "object": obj}) + b"\n"


def _expired_line(rv: str) -> bytes:
    status = errors.gone(f"too old resource version: {rv}").status()
    return orjson.dumps({"type": "ERROR", "object": status}) + b"\n"


def _parse_rv(rv: str | None) -> int | None:
    if rv is None or rv in ("", "0"):
        return None
    try:
        return int(rv)
    except ValueError as exc:
        raise errors.bad_request(f"invalid resource version: {rv!r}") from exc


async def serve_watch(
    request: web.Request,
    store: Store,
    rt: ResourceType,
    version: str,
    ns: str | None,
    q: WatchQuery,
    on_stop: Callable[[], bool],
) -> web.StreamResponse:
    stream = _Stream(rt, version, ns, q)
    start_rv = _parse_rv(q.resource_version)
    queue = store.subscribe(rt.key)
    try:
        initial: list[bytes] = []
        expired = False
        send_initial = q.send_initial if q.send_initial is not None else start_rv is None
        if send_initial:
            for e in store.bucket(rt.key).sorted_entries(ns):
                if stream.visible(e):
                    initial.append(stream.line("ADDED", e))
            if q.send_initial:
                initial.append(stream.bookmark(store.rv, initial_end=True))
        elif start_rv is not None:
            backlog = store.events_since(rt.key, start_rv)
            if backlog is None:
                expired = True
            else:
                for ev in backlog:
                    seen = stream.translate(ev)
                    if seen:
                        initial.append(stream.line(*seen))
        resp = web.StreamResponse(
            status=200, headers={"Content-Type": "application/json", "Cache-Control": "no-cache, private"}
        )
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        if expired:
            await resp.write(_expired_line(str(start_rv)))
            return resp
        if initial:
            await resp.write(b"".join(initial))
        await _pump(resp, queue, stream, q, lambda: store.rv, on_stop)
        return resp
    finally:
        store.unsubscribe(rt.key, queue)


async def _pump(
    resp: web.StreamResponse,
    queue: asyncio.Queue[Event | None],
    stream: _Stream,
    q: WatchQuery,
    current_rv: Callable[[], int],
    on_stop: Callable[[], bool],
) -> None:
    deadline = time.monotonic() + (q.timeout if q.timeout else DEFAULT_TIMEOUT)
    while not on_stop():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        wait = min(remaining, BOOKMARK_INTERVAL) if q.bookmarks else min(remaining, 1.0)
        try:
            ev = await asyncio.wait_for(queue.get(), timeout=wait)
        except TimeoutError:
            if q.bookmarks:
                with contextlib.suppress(ConnectionResetError):
                    await resp.write(stream.bookmark(current_rv()))
            continue
        if ev is None:
            break
        chunks = []
        closed = False
        while ev is not None:
            seen = stream.translate(ev)
            if seen:
                chunks.append(stream.line(*seen))
            if queue.empty():
                break
            ev = queue.get_nowait()
            closed = ev is None
        if chunks:
            await resp.write(b"".join(chunks))
        if closed:
            break
