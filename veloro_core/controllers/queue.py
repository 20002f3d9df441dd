"""A small work queue per controller: keys de-duplicated, one worker per key at a time, delayed re-adds.

Like client-go's workqueue, a key added while it is being processed is processed again afterwards
(never twice at once), so a reconcile always sees the latest state without locking objects.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import deque
from collections.abc import Callable

import structlog

log = structlog.get_logger("veloro.server")


class WorkQueue:
    def __init__(self, name: str, handler: Callable[[str], None], workers: int = 1) -> None:
        self.name = name
        self.handler = handler
        self.workers = max(1, workers)
        self._cond = threading.Condition()
        self._queue: deque[str] = deque()
        self._queued: set[str] = set()
        self._active: set[str] = set()
        self._dirty: set[str] = set()
        self._delayed: list[tuple[float, str]] = []
        self._stopping = False
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------------------------ producers
    def add(self, key: str) -> None:
        with self._cond:
            if self._stopping:
                return
            if key in self._active:
                self._dirty.add(key)
            elif key not in self._queued:
                self._queued.add(key)
                self._queue.append(key)
                self._cond.notify()

    def add_after(self, key: str, delay: float) -> None:
        with self._cond:
            heapq.heappush(self._delayed, (time.monotonic() + delay, key))
            self._cond.notify()

    # ------------------------------------------------------------------------------ workers
    def start(self) -> None:
        for index in range(self.workers):
            thread = threading.Thread(target=self._work, name=f"veloro-{self.name}-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _next(self) -> str | None:
        with self._cond:
            while True:
                if self._stopping:
                    return None
                now = time.monotonic()
                while self._delayed and self._delayed[0][0] <= now:
                    _, key = heapq.heappop(self._delayed)
                    if key not in self._queued and key not in self._active:
                        self._queued.add(key)
                        self._queue.append(key)
                    elif key in self._active:
                        self._dirty.add(key)
                if self._queue:
                    key = self._queue.popleft()
                    self._queued.discard(key)
                    self._active.add(key)
                    return key
                timeout = self._delayed[0][0] - now if self._delayed else None
                self._cond.wait(timeout)

    def _done(self, key: str) -> None:
        with self._cond:
            self._active.discard(key)
            if key in self._dirty:
                self._dirty.discard(key)
                if not self._stopping and key not in self._queued:
                    self._queued.add(key)
                    self._queue.append(key)
            self._cond.notify_all()

    def _work(self) -> None:
        while True:
            key = self._next()
            if key is None:
                return
            try:
                self.handler(key)
            except Exception as exc:  # one bad object must not kill the worker; retry it later
                log.error("reconcile failed; retrying", controller=self.name, key=key, error=repr(exc))
                self.add_after(key, 5.0)
            finally:
                self._done(key)

    # ------------------------------------------------------------------------------ lifecycle
    @property
    def active(self) -> set[str]:
        with self._cond:
            return set(self._active)

    def stop(self) -> None:
        """Take no more work (queued keys are dropped); running handlers finish on their own."""
        with self._cond:
            self._stopping = True
            self._queue.clear()
            self._queued.clear()
            self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no handler runs (after stop()); False if some still run at the deadline."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._active:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True
