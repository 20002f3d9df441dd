"""What to list and in which order, and the concurrent listers.

Resources are processed in Velero's order (core group first: pods, PVCs, PVs, then the rest; then the
other groups in discovery order). Their lists are fetched ahead by a bounded pool of threads, each
keeping at most a few pages queued, so the coordinator always has the next page ready while memory
stays at (workers x prefetch) pages.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from veloro_core.backup.context import BackupContext
from veloro_core.kube import APIResource, Gone, ListPage
from veloro_core.selection import ResourceFilter

CORE_ORDER = ("pods", "persistentvolumeclaims", "persistentvolumes")
_LIST_RESTARTS = 3


class _Cancelled(Exception):
    pass


def plan_resources(apis: list[APIResource], resource_filter: ResourceFilter) -> list[APIResource]:
    """The resources to list, in processing order."""
    def core_rank(api: APIResource) -> int:
        return CORE_ORDER.index(api.name) if api.name in CORE_ORDER else len(CORE_ORDER)

    core = sorted((a for a in apis if a.group == ""), key=core_rank)
    rest = [a for a in apis if a.group != ""]
    return [a for a in core + rest if resource_filter.should_include(a.group_resource)]


class Listers:
    """Starts one list task per planned resource on a bounded pool; `pages(api)` yields in plan order."""

    def __init__(self, ctx: BackupContext, plan: list[APIResource]) -> None:
        self.ctx = ctx
        self.plan = plan
        settings = ctx.settings
        self._queues: dict[str, queue.Queue[tuple[str, Any]]] = {
            a.group_resource: queue.Queue(maxsize=max(1, settings.prefetch_pages)) for a in plan
        }
        self._cancel = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=max(1, settings.list_workers),
                                        thread_name_prefix="veloro-backup-list")
        self._selectors = [s.to_string() or None for s in ctx.selection.list_selectors()]

    def start(self) -> None:
        for api in self.plan:  # FIFO: the earliest resource not yet consumed always has a thread
            self._pool.submit(self._task, api)

    def cancel(self) -> None:
        self._cancel.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def _put(self, q: queue.Queue[tuple[str, Any]], entry: tuple[str, Any]) -> None:
        while not self._cancel.is_set():
            try:
                q.put(entry, timeout=0.2)
                return
            except queue.Full:
                continue
        raise _Cancelled

    def _namespaces(self, api: APIResource) -> list[str | None]:
        if not api.namespaced:
            return [None]
        ctx = self.ctx
        concrete = ctx.selection.namespaces.concrete_includes()
        if concrete is not None:
            chosen = sorted(n for n in concrete if n in ctx.active_namespaces)
            if len(chosen) <= ctx.settings.per_namespace_list_limit:
                return list(chosen)
        return [None]

    def _task(self, api: APIResource) -> None:
        q = self._queues[api.group_resource]
        try:
            for namespace in self._namespaces(api):
                for selector in self._selectors:
                    for page in self._list(api, namespace, selector):
                        self._put(q, ("page", page))
            self._put(q, ("done", None))
        except _Cancelled:
            return
        except BaseException as exc:  # handed to the coordinator, which records it
            try:
                self._put(q, ("error", exc))
            except _Cancelled:
                return

    def _list(self, api: APIResource, namespace: str | None, selector: str | None) -> Iterator[ListPage]:
        """Pages of one list; an expired continue token restarts it (the dedup set skips repeats)."""
        for attempt in range(_LIST_RESTARTS + 1):
            try:
                yield from self.ctx.kube.list_pages(api, namespace, label_selector=selector,
                                                    page_size=self.ctx.settings.page_size,
                                                    on_expired="raise")
                return
            except Gone:
                if attempt == _LIST_RESTARTS:
                    raise
                self.ctx.log.warning("list expired; listing again", resource=api.group_resource)

    def pages(self, api: APIResource) -> Iterator[ListPage]:
        """The pages of one resource (blocks until they arrive); raises what its list raised."""
        q = self._queues.pop(api.group_resource)
        while True:
            kind, value = q.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
