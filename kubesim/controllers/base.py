"""A minimal reconcile loop: store writes enqueue keys, one worker task reconciles them.

Listeners run synchronously inside the store write, so they only queue work; reconcile runs later on the
event loop and may write through the Api like any client.
"""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from kubesim.objects import Api
from kubesim.store import Event

WorkKey = tuple[str, str, str]  # (bucket, namespace, name)


@dataclass
class Context:
    api: Api
    data_dir: Path
    node_name: str = "kubesim-node"
    pod_delay: float = 0.05  # seconds from scheduling to Running


class Controller:
    name = "controller"
    buckets: tuple[str, ...] = ()

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.api = ctx.api
        self.store = ctx.api.store
        self.log = structlog.get_logger(f"kubesim.{self.name}")
        self._queue: asyncio.Queue[WorkKey] = asyncio.Queue()
        self._pending: set[WorkKey] = set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        for b in self.buckets:
            self.store.add_listener(b, self.on_event)
        for b in self.buckets:
            for e in list(self.store.entries(b)):
                for key in self.keys_for(Event(e.rv, b, "ADDED", e, None)):
                    self.enqueue(key)
        self._task = asyncio.get_running_loop().create_task(self._worker(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def on_event(self, ev: Event) -> None:
        for key in self.keys_for(ev):
            self.enqueue(key)

    def keys_for(self, ev: Event) -> list[WorkKey]:
        return [(ev.bucket, ev.entry.namespace, ev.entry.name)]

    def enqueue(self, key: WorkKey, delay: float = 0.0) -> None:
        if delay > 0:
            asyncio.get_running_loop().call_later(delay, self.enqueue, key)
            return
        if key not in self._pending:
            self._pending.add(key)
            self._queue.put_nowait(key)

    def idle(self) -> bool:
        return not self._pending

    async def _worker(self) -> None:
        while True:
            key = await self._queue.get()
            self._pending.discard(key)
            try:
                result: Any = self.reconcile(key)
                if inspect.isawaitable(result):
                    await result
            except asyncio.CancelledError:
                raise
            except Exception:
                self.log.exception("reconcile failed", key=key)
            await asyncio.sleep(0)  # a long queue must not starve the HTTP handlers

    def reconcile(self, key: WorkKey) -> Any:
        raise NotImplementedError
