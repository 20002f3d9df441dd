"""Target namespaces: created before the items they hold, from the backed-up Namespace object (labels and
annotations kept) under its mapped name, or plain when the backup does not hold it. A namespace still
terminating (deleted just before the restore) is waited for, up to a bound, then created again."""

from __future__ import annotations

import threading
import time
from typing import Any

from veloro_core.archive import ArchiveError, ItemRef
from veloro_core.kube import AlreadyExists, GroupVersionResource, KubeError, NotFound
from veloro_core.restore.context import RestoreContext
from veloro_core.restore.objects import add_labels, reset_metadata

Obj = dict[str, Any]
NAMESPACES = GroupVersionResource("", "v1", "namespaces")


class NamespaceError(Exception):
    """A target namespace could not be made ready; every item of it fails with this message."""


class NamespaceEnsurer:
    def __init__(self, ctx: RestoreContext) -> None:
        self.ctx = ctx
        self._ready: dict[str, str | None] = {}  # target -> None (ready) or the error message
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def ensure(self, source: str) -> str:
        """Make the target namespace of backup namespace `source` exist; returns its name."""
        target = self.ctx.spec.target_namespace(source)
        with self._lock:
            if target in self._ready:
                return self._check(target)
            lock = self._locks.setdefault(target, threading.Lock())
        with lock:
            with self._lock:
                if target in self._ready:
                    return self._check(target)
            try:
                self._make_ready(source, target)
                outcome: str | None = None
            except NamespaceError as exc:
                outcome = str(exc)
                self.ctx.errors.add(target, outcome)
                self.ctx.log.error("namespace not restored", namespace=target, error=outcome)
            with self._lock:
                self._ready[target] = outcome
            return self._check(target)

    def _check(self, target: str) -> str:
        error = self._ready[target]
        if error is not None:
            raise NamespaceError(error)
        return target

    def _make_ready(self, source: str, target: str) -> None:
        kube = self.ctx.kube
        deadline = time.monotonic() + self.ctx.settings.namespace_terminating_timeout
        while True:
            try:
                live = kube.get(NAMESPACES, target)
            except NotFound:
                break
            except KubeError as exc:
                raise NamespaceError(f"error checking namespace {target!r}: {exc}") from exc
            if not (live.get("metadata") or {}).get("deletionTimestamp"):
                return  # exists: the items go into it as it is
            if time.monotonic() >= deadline:
                raise NamespaceError(
                    f"namespace {target!r} is still terminating after "
                    f"{self.ctx.settings.namespace_terminating_timeout:.0f}s; wait until it is gone and "
                    "restore again"
                )
            time.sleep(self.ctx.settings.poll_interval)
        body = self._namespace_object(source, target)
        try:
            kube.create(NAMESPACES, body)
        except AlreadyExists:
            return  # created meanwhile (by us through another path, or by someone else): fine
        except KubeError as exc:
            raise NamespaceError(f"error creating namespace {target!r}: {exc}") from exc
        self.ctx.resources.add("v1", "Namespace", None, target, "created")
        self.ctx.log.info("namespace created", namespace=target, source=source)

    def _namespace_object(self, source: str, target: str) -> Obj:
        obj: Obj
        try:
            obj = self.ctx.contents.read_item(ItemRef("namespaces", None, source))
        except ArchiveError:
            obj = {}
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        body: Obj = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {k: v for k, v in (meta or {}).items() if k in ("labels", "annotations") and v},
        }
        body["metadata"]["name"] = target
        labels = body["metadata"].get("labels")
        if isinstance(labels, dict):  # the API server sets it to the (possibly mapped) name itself
            labels.pop("kubernetes.io/metadata.name", None)
        reset_metadata(body, keep_status=False)
        add_labels(body, self.ctx.labels)
        return body
