"""What every controller shares: the context (clients, settings, recorders), the Controller base class,
and the manager that feeds each controller's work queue from a list + watch of its kind and ticks the
time-driven ones."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import structlog

from veloro_core.api import GROUP, VERSION, Resource
from veloro_core.controllers.queue import WorkQueue
from veloro_core.kube import GroupVersionResource, KubeClient, KubeError, NotFound
from veloro_core.plugins import PluginManager
from veloro_core.server.download import DownloadTokens
from veloro_core.server.events import EventRecorder
from veloro_core.server.metrics import Metrics
from veloro_core.server.settings import ServerSettings
from veloro_core.server.stores import Locations

Obj = dict[str, Any]
log = structlog.get_logger("veloro.server")


class ServerStopped(RuntimeError):
    """A controller write after shutdown froze the context."""


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def one_line(text: str) -> str:
    """A status message from an error text: plugin errors append a multi-line remote stack trace (kept in
    the server log); status fields get the first line plus any advice that followed the stack."""
    lines = text.strip().splitlines()
    if len(lines) <= 1:
        return text.strip()
    tail = lines[-1]
    advice = tail.split("; ", 1)[1] if tail[:1].isspace() and "; " in tail else ""
    return f"{lines[0]}; {advice}" if advice else lines[0]


def gvr(resource: type[Resource]) -> GroupVersionResource:
    return GroupVersionResource(GROUP, VERSION, resource.PLURAL)


@dataclass
class ControllerContext:
    kube: KubeClient
    settings: ServerSettings
    plugins: PluginManager
    locations: Locations
    metrics: Metrics
    events: EventRecorder
    tokens: DownloadTokens = field(default_factory=DownloadTokens)
    download_base: str = ""
    clock: Callable[[], datetime] = utcnow
    # Set at shutdown once unfinished operations are marked Failed: engine threads still running must not
    # overwrite that (their writes raise ServerStopped).
    frozen: threading.Event = field(default_factory=threading.Event)

    @property
    def namespace(self) -> str:
        return self.settings.namespace

    def _writable(self) -> None:
        if self.frozen.is_set():
            raise ServerStopped("the server is stopping: no more writes")

    # ---- small CRUD helpers on the server's own kinds (all in the server namespace) ------------------
    def get(self, resource: type[Resource], name: str) -> Obj | None:
        try:
            return self.kube.get(gvr(resource), name, self.namespace)
        except NotFound:
            return None

    def list(self, resource: type[Resource], label_selector: str | None = None) -> list[Obj]:
        return list(self.kube.list_items(gvr(resource), self.namespace, label_selector=label_selector))

    def patch(self, resource: type[Resource], name: str, patch: Obj) -> Obj:
        self._writable()
        return self.kube.patch(gvr(resource), name, patch, self.namespace)

    def patch_status(self, resource: type[Resource], name: str, status: Obj) -> Obj:
        self._writable()
        return self.kube.patch_status(gvr(resource), name, {"status": status}, self.namespace)

    def create(self, resource: type[Resource], obj: Obj) -> Obj:
        self._writable()
        return self.kube.create(gvr(resource), obj, self.namespace)

    def delete(self, resource: type[Resource], name: str) -> None:
        self._writable()
        try:
            self.kube.delete(gvr(resource), name, self.namespace)
        except NotFound:
            pass


class Controller:
    """Subclasses set NAME, and RESOURCE (objects of that kind are reconciled by name) and/or override
    tick() (called every tick_interval() seconds)."""

    NAME: ClassVar[str] = ""
    RESOURCE: ClassVar[type[Resource] | None] = None

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.log = log.bind(controller=self.NAME)
        self.queue = WorkQueue(self.NAME, self.reconcile, self.workers())

    def workers(self) -> int:
        return 1

    def wants(self, obj: Obj) -> bool:
        """Whether a listed/watched object needs a reconcile (cheap filter on the raw dict)."""
        return True

    def reconcile(self, name: str) -> None:
        """Bring one object (by name) to its desired state."""

    def tick_interval(self) -> float | None:
        return None

    def tick(self) -> None:
        """Periodic work (schedules, validation, sync, gc)."""


class ControllerManager:
    """Runs controllers: per controller a work queue, a list+watch feeder and/or a ticker thread."""

    def __init__(self, controllers: list[Controller]) -> None:
        self.controllers = controllers
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for controller in self.controllers:
            controller.queue.start()
            if controller.RESOURCE is not None:
                self._spawn(f"veloro-feed-{controller.NAME}", self._feed, controller)
            if controller.tick_interval() is not None:
                self._spawn(f"veloro-tick-{controller.NAME}", self._tick, controller)
        log.info("controllers started", controllers=[c.NAME for c in self.controllers])

    def _spawn(self, name: str, target: Callable[[Controller], None], controller: Controller) -> None:
        thread = threading.Thread(target=target, args=(controller,), name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _feed(self, controller: Controller) -> None:
        resource = controller.RESOURCE
        assert resource is not None
        ctx = controller.ctx
        while not self._stop.is_set():
            try:
                version = self._list_into(controller, resource)
                for event in ctx.kube.watch(
                    gvr(resource),
                    ctx.namespace,
                    resource_version=version,
                    timeout_seconds=max(1, int(ctx.settings.resync_period)),
                ):
                    if self._stop.is_set():
                        return
                    if event.type in ("ADDED", "MODIFIED") and controller.wants(event.object):
                        controller.queue.add(str(event.object["metadata"]["name"]))
            except KubeError as exc:
                controller.log.warning("list/watch failed; retrying", error=str(exc))
                self._stop.wait(1.0)
            except Exception as exc:  # never let the feeder die: log and start over
                controller.log.error("feeder error; retrying", error=repr(exc))
                self._stop.wait(1.0)

    def _list_into(self, controller: Controller, resource: type[Resource]) -> str:
        ctx = controller.ctx
        version = ""
        for page in ctx.kube.list_pages(gvr(resource), ctx.namespace):
            version = page.resource_version
            for item in page.items:
                if controller.wants(item):
                    controller.queue.add(str(item["metadata"]["name"]))
        return version

    def _tick(self, controller: Controller) -> None:
        interval = controller.tick_interval() or 1.0
        while not self._stop.wait(interval):
            try:
                controller.tick()
            except Exception as exc:  # a failing tick is retried at the next one
                controller.log.error("periodic run failed", error=repr(exc))

    def stop(self, timeout: float) -> list[tuple[Controller, set[str]]]:
        """Stop taking work and wait up to `timeout` for running reconciles; returns those still running."""
        self._stop.set()
        for controller in self.controllers:
            controller.queue.stop()
        still: list[tuple[Controller, set[str]]] = []
        deadline = time.monotonic() + timeout
        for controller in self.controllers:
            if not controller.queue.wait_idle(max(0.0, deadline - time.monotonic())):
                still.append((controller, controller.queue.active))
        return still
