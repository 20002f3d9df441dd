"""The collection phase of a backup: namespaces, listing in order, items through the actions (in groups,
one execute_batch per action and group, on a bounded pool), orderedResources first, operations, CRDs at
the end."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from veloro_sdk.contracts import ResourceIdentifier

from veloro_core.backup.collector import Listers
from veloro_core.backup.context import BackupContext, FatalBackupError
from veloro_core.backup.items import ItemBackupper
from veloro_core.backup.writer import WriterFailed
from veloro_core.kube import APIResource, KubeError
from veloro_core.selection import excluded_by_label

Obj = dict[str, Any]
CRDS = "customresourcedefinitions.apiextensions.k8s.io"
_FATAL = (FatalBackupError, WriterFailed)


class Collector:
    def __init__(self, ctx: BackupContext, plan: list[APIResource], ordered: dict[str, list[str]]) -> None:
        self.ctx = ctx
        self.plan = plan
        self.ordered = ordered
        self.items = ItemBackupper(ctx)
        settings = ctx.settings
        self._pool = ThreadPoolExecutor(max_workers=max(1, settings.action_workers),
                                        thread_name_prefix="veloro-backup-item")
        self._slots = threading.BoundedSemaphore(max(1, settings.action_workers))  # groups in flight
        self._listers = Listers(ctx, plan)

    def load_namespaces(self) -> None:
        """Which namespaces are in the backup: the filter, minus those labelled exclude-from-backup."""
        ctx = self.ctx
        api = ctx.apis.get("namespaces")
        if api is None:
            raise FatalBackupError("the cluster does not serve namespaces; cannot select what to back up")
        try:
            for item in ctx.kube.list_items(api, page_size=ctx.settings.page_size):
                meta = item.get("metadata") or {}
                name = str(meta.get("name") or "")
                ctx.known_namespaces.add(name)
                included = ctx.selection.namespaces.should_include(name)
                if included and not excluded_by_label(meta.get("labels")):
                    ctx.active_namespaces.add(name)
        except KubeError as exc:
            raise FatalBackupError(f"listing namespaces failed: {exc}") from exc
        ctx.log.info("namespaces selected", count=len(ctx.active_namespaces))

    def run(self) -> None:
        ctx = self.ctx
        ctx.pending_lists.update(a.group_resource for a in self.plan)
        self._listers.start()
        ok = False
        try:
            for api in self.plan:
                # Still "pending" while its own list is consumed: an additional item of this resource
                # that the list has not reached yet comes with the list (one already passed is either
                # claimed or filtered out, for reasons that apply to additional items too). Groups run
                # behind the coordinator, so this saves a GET per such item.
                try:
                    self._ordered_first(api)
                    self._consume(api)
                finally:
                    ctx.pending_lists.discard(api.group_resource)
            self._drain()
            ok = True
        finally:
            if not ok:
                self._listers.cancel()
                self._pool.shutdown(wait=True, cancel_futures=True)
            else:
                self._listers.close()

    def _check(self) -> None:
        if self.ctx.fatal is not None:
            raise self.ctx.fatal

    def _consume(self, api: APIResource) -> None:
        ctx = self.ctx
        gr = api.group_resource
        with_actions = bool(ctx.actions.for_resource(gr))
        try:
            for page in self._listers.pages(api):
                self._check()
                accepted = [item for item in page.items if self._listed_ok(api, item)]
                with ctx._lock:
                    ctx.counters.listed += len(accepted)
                    ctx.counters.remaining_hint[gr] = page.remaining_item_count or 0
                if with_actions:
                    size = max(1, ctx.settings.action_batch_size)
                    for start in range(0, len(accepted), size):
                        self._submit(accepted[start:start + size], api)
                else:
                    for item in accepted:
                        self._guarded(item, api)
                self._flush()
        except _FATAL:
            raise
        except KubeError as exc:
            ctx.errors.add(f"listing {gr} failed: {exc}")
            ctx.log.error("listing failed", resource=gr, error=str(exc))
        finally:
            with ctx._lock:
                ctx.counters.remaining_hint.pop(gr, None)

    def _listed_ok(self, api: APIResource, item: Obj) -> bool:
        ctx = self.ctx
        meta = item.get("metadata") or {}
        if api.namespaced:
            if not ctx.namespace_ok(str(meta.get("namespace") or "")):
                return False
        elif api.name == "namespaces" and api.group == "" and not ctx.namespace_ok(str(meta.get("name"))):
            return False
        return ctx.selection.labels_match(meta.get("labels"))

    def _submit(self, group: list[Obj], api: APIResource) -> None:
        while not self._slots.acquire(timeout=0.5):
            self._check()
        try:
            self._pool.submit(self._task, group, api)
        except BaseException:
            self._slots.release()
            raise

    def _flush(self) -> None:
        if self.ctx.writer is not None:
            self.ctx.writer.flush()

    def _task(self, group: list[Obj], api: APIResource) -> None:
        try:
            self._guarded_group(group, api)
            self._flush()
        except BaseException as exc:
            self.ctx.set_fatal(exc)
        finally:
            self._slots.release()

    def _guarded(self, item: Obj, api: APIResource) -> None:
        """Back up one listed item; its failures are item errors unless they end the backup."""
        try:
            self.items.backup_listed(item, api)
        except _FATAL:
            raise
        except Exception as exc:
            meta = item.get("metadata") or {}
            ns = str(meta.get("namespace") or "")
            self.ctx.errors.add(f"backing up {api.group_resource} {ns}/{meta.get('name')} failed: {exc}", ns)
            self.ctx.log.error("item backup failed", resource=api.group_resource, error=str(exc))

    def _guarded_group(self, group: list[Obj], api: APIResource) -> None:
        """Back up listed items as one group. Each item's failures are caught per item inside; what gets
        here is a bug outside any one item, recorded as one error for the group."""
        try:
            self.items.backup_group(group, api)
        except _FATAL:
            raise
        except Exception as exc:
            self.ctx.errors.add(f"backing up a group of {len(group)} {api.group_resource} failed: {exc!r}")
            self.ctx.log.error("item group failed", resource=api.group_resource, error=repr(exc))

    def _drain(self) -> None:
        """Wait for every submitted item (all slots free again)."""
        slots = self.ctx.settings.action_workers
        taken = 0
        while taken < max(1, slots):
            if self._slots.acquire(timeout=0.5):
                taken += 1
            else:
                self._check()
        for _ in range(taken):
            self._slots.release()
        self._pool.shutdown(wait=True)
        self._check()

    def _ordered_first(self, api: APIResource) -> None:
        """orderedResources: the named items of this resource first, in the given order."""
        for entry in self.ordered.get(api.group_resource, []):
            ns, _, name = entry.rpartition("/") if api.namespaced else ("", "", entry)
            try:
                item = self.ctx.kube.get(api, name, ns or None)
            except KubeError as exc:
                self.ctx.warnings.add(f"orderedResources: {api.group_resource} {entry}: {exc}", ns)
                continue
            if self._listed_ok(api, item):
                self._guarded(item, api)
                self._check()

    # ------------------------------------------------------------------ after the lists
    def post_operation_items(self) -> None:
        """Items an operation names for after it finished, unless they are in the backup already."""
        for op in self.ctx.operations.operations:
            if op.phase == "Completed":
                for rid in op.post_items:
                    self._additional(rid)

    def add_crds(self) -> None:
        """The CRD of every backed-up custom resource (a CRD's name is its resource.group)."""
        ctx = self.ctx
        api = ctx.apis.get(CRDS)
        wanted = {gr for gr in ctx.backed_up_resources if "." in gr}
        if api is None or not wanted:
            return
        try:
            for crd in ctx.kube.list_items(api, page_size=ctx.settings.page_size):
                name = str((crd.get("metadata") or {}).get("name") or "")
                if name in wanted:
                    self._additional(ResourceIdentifier(api.group, api.name, "", name))
        except KubeError as exc:
            ctx.errors.add(f"listing CustomResourceDefinitions failed: {exc}")
        self._check()

    def _additional(self, rid: ResourceIdentifier) -> None:
        try:
            self.items.additional(rid, 1)
        except _FATAL:
            raise
        except Exception as exc:
            self.ctx.errors.add(f"backing up {rid.group_resource} {rid.name} failed: {exc}", rid.namespace)
