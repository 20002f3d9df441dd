"""In-memory object store: one global resourceVersion, an event log for watch resume, list snapshots.

Stored object dicts are never mutated once stored (writers build a new dict), so an Entry can cache its
serialized JSON and be shared by list snapshots, watch queues and the event log without copying. A list
page is then a byte concatenation of cached entries, which is what makes large lists fast.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

EVENT_LOG_SIZE = 100_000
WATCH_BACKLOG = 50_000  # undelivered events one watcher may hold before it is closed


class Entry:
    """One stored version of one object."""

    __slots__ = ("_raw", "name", "namespace", "obj", "rv")

    def __init__(self, obj: dict[str, Any], rv: int, raw: bytes | None = None) -> None:
        self.obj = obj
        self.rv = rv
        meta = obj["metadata"]
        self.name: str = meta["name"]
        self.namespace: str = meta.get("namespace", "")
        self._raw = raw

    @property
    def raw(self) -> bytes:
        if self._raw is None:
            # Copy: orjson's result keeps its ~8 KiB working buffer allocated; cached bytes must be tight.
            self._raw = bytes(memoryview(orjson.dumps(self.obj)))
        return self._raw


@dataclass
class Event:
    rv: int
    bucket: str
    type: str  # ADDED, MODIFIED, DELETED
    entry: Entry
    prev: Entry | None


class Persistence(Protocol):
    def write(self, bucket: str, namespace: str, name: str, entry: Entry | None, rv: int) -> None: ...


class Bucket:
    """All objects of one resource (group, plural), by namespace then name."""

    def __init__(self) -> None:
        self.by_ns: dict[str, dict[str, Entry]] = {}
        self.count = 0
        self._sorted: list[Entry] | None = None

    def get(self, namespace: str, name: str) -> Entry | None:
        objs = self.by_ns.get(namespace)
        return objs.get(name) if objs else None

    def sorted_entries(self, namespace: str | None) -> list[Entry]:
        """Entries in (namespace, name) order; the all-namespaces order is cached until keys change."""
        if namespace is not None:
            objs = self.by_ns.get(namespace, {})
            return [objs[k] for k in sorted(objs)]
        if self._sorted is None:
            out: list[Entry] = []
            for ns in sorted(self.by_ns):
                objs = self.by_ns[ns]
                out.extend(objs[k] for k in sorted(objs))
            self._sorted = out
            return out
        # The cached order holds stale entries after updates: map names back to live entries.
        return [self.by_ns[e.namespace][e.name] for e in self._sorted]


Listener = Callable[[Event], None]


class Store:
    def __init__(self, persistence: Persistence | None = None, log_size: int = EVENT_LOG_SIZE) -> None:
        self.buckets: dict[str, Bucket] = {}
        self.rv = 0
        self.log: deque[Event] = deque(maxlen=log_size)
        self.persistence = persistence
        self._watchers: dict[str, set[asyncio.Queue[Event | None]]] = {}
        self._listeners: dict[str, list[Listener]] = {}
        self._any_listeners: list[Listener] = []
        self.snapshots = SnapshotCache()
        # Events before this resourceVersion were not logged (they happened before a restart).
        self.log_floor = 0
        self.started = time.time()

    # ---- reads -------------------------------------------------------------------------------
    def bucket(self, key: str) -> Bucket:
        b = self.buckets.get(key)
        if b is None:
            b = self.buckets[key] = Bucket()
        return b

    def get(self, key: str, namespace: str, name: str) -> Entry | None:
        b = self.buckets.get(key)
        return b.get(namespace, name) if b else None

    def entries(self, key: str, namespace: str | None = None) -> Iterable[Entry]:
        b = self.buckets.get(key)
        if not b:
            return []
        if namespace is not None:
            return list(b.by_ns.get(namespace, {}).values())
        return [e for objs in b.by_ns.values() for e in objs.values()]

    def oldest_rv(self) -> int:
        """The oldest resourceVersion a watch can resume from (older ones answer 410 Gone)."""
        if self.log.maxlen is not None and len(self.log) == self.log.maxlen:
            return max(self.log_floor, self.log[0].rv - 1)
        return self.log_floor

    # ---- writes ------------------------------------------------------------------------------
    def next_rv(self) -> int:
        self.rv += 1
        return self.rv

    def put(self, key: str, obj: dict[str, Any], rv: int) -> Entry:
        """Store obj (whose metadata.resourceVersion is already str(rv)); durable before it is visible."""
        entry = Entry(obj, rv)
        b = self.bucket(key)
        if self.persistence is not None:
            self.persistence.write(key, entry.namespace, entry.name, entry, rv)
        objs = b.by_ns.setdefault(entry.namespace, {})
        prev = objs.get(entry.name)
        objs[entry.name] = entry
        if prev is None:
            b.count += 1
            b._sorted = None
        self._emit(Event(rv, key, "MODIFIED" if prev else "ADDED", entry, prev))
        return entry

    def remove(self, key: str, namespace: str, name: str, final_obj: dict[str, Any]) -> Entry | None:
        """Delete an object; final_obj is the object as the DELETED event shows it (new RV set)."""
        b = self.buckets.get(key)
        prev = b.get(namespace, name) if b else None
        if b is None or prev is None:
            return None
        rv = int(final_obj["metadata"]["resourceVersion"])
        if self.persistence is not None:
            self.persistence.write(key, namespace, name, None, rv)
        del b.by_ns[namespace][name]
        if not b.by_ns[namespace]:
            del b.by_ns[namespace]
        b.count -= 1
        b._sorted = None
        entry = Entry(final_obj, rv)
        self._emit(Event(rv, key, "DELETED", entry, prev))
        return entry

    def drop_bucket(self, key: str) -> None:
        """Forget a whole resource (its CRD is gone) after its objects were deleted one by one."""
        self.buckets.pop(key, None)
        for q in self._watchers.pop(key, set()):
            q.put_nowait(None)

    def load(self, key: str, entry: Entry) -> None:
        """Insert an object read back from persistence (no event, no write)."""
        b = self.bucket(key)
        objs = b.by_ns.setdefault(entry.namespace, {})
        if entry.name not in objs:
            b.count += 1
        objs[entry.name] = entry
        b._sorted = None

    def _emit(self, ev: Event) -> None:
        self.log.append(ev)
        watchers = self._watchers.get(ev.bucket)
        if watchers:
            for q in list(watchers):
                if q.qsize() >= WATCH_BACKLOG:
                    # A watcher that cannot keep up is closed, as the real server does; clients re-watch.
                    watchers.discard(q)
                    q.put_nowait(None)
                else:
                    q.put_nowait(ev)
        for fn in self._listeners.get(ev.bucket, ()):
            fn(ev)
        for fn in self._any_listeners:
            fn(ev)

    # ---- watch plumbing ----------------------------------------------------------------------
    def subscribe(self, key: str) -> asyncio.Queue[Event | None]:
        q: asyncio.Queue[Event | None] = asyncio.Queue()
        self._watchers.setdefault(key, set()).add(q)
        return q

    def unsubscribe(self, key: str, q: asyncio.Queue[Event | None]) -> None:
        qs = self._watchers.get(key)
        if qs is not None:
            qs.discard(q)

    def close_watchers(self) -> None:
        for qs in self._watchers.values():
            for q in qs:
                q.put_nowait(None)

    def events_since(self, key: str, rv: int) -> list[Event] | None:
        """Events of one bucket after rv, or None when the log no longer reaches back that far."""
        if rv < self.oldest_rv():
            return None
        out: list[Event] = []
        for ev in reversed(self.log):
            if ev.rv <= rv:
                break
            if ev.bucket == key:
                out.append(ev)
        out.reverse()
        return out

    def add_listener(self, key: str | None, fn: Listener) -> None:
        """Controllers hear about every write synchronously (they only queue work)."""
        if key is None:
            self._any_listeners.append(fn)
        else:
            self._listeners.setdefault(key, []).append(fn)


class SnapshotCache:
    """Consistent list snapshots behind continue tokens; an evicted or expired one answers 410."""

    def __init__(self, ttl: float = 300.0, max_snapshots: int = 256) -> None:
        self.ttl = ttl
        self.max = max_snapshots
        self._ids = itertools.count(1)
        self._snaps: dict[int, tuple[float, int, list[Entry]]] = {}

    def add(self, rv: int, entries: list[Entry]) -> int:
        self._expire()
        sid = next(self._ids)
        self._snaps[sid] = (time.monotonic(), rv, entries)
        while len(self._snaps) > self.max:
            del self._snaps[next(iter(self._snaps))]
        return sid

    def get(self, sid: int) -> tuple[int, list[Entry]] | None:
        self._expire()
        snap = self._snaps.get(sid)
        if snap is None:
            return None
        return snap[1], snap[2]

    def drop(self, sid: int) -> None:
        self._snaps.pop(sid, None)

    def _expire(self) -> None:
        now = time.monotonic()
        for sid in [s for s, (t, _, _) in self._snaps.items() if now - t > self.ttl]:
            del self._snaps[sid]
