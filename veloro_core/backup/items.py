"""Backing up one item: filters, de-duplication, the matching actions (with their additional items,
backed up recursively, and v2 operations), volume records, then the item queued for the tarball."""

from __future__ import annotations

from typing import Any

import orjson
from veloro_sdk.client import PluginUnavailable
from veloro_sdk.contracts import (
    BackupItemActionExecuteRequest,
    BackupItemActionExecuteResponse,
    ResourceIdentifier,
)

from veloro_core.backup.actions import ResolvedAction
from veloro_core.backup.context import BackupContext, FatalBackupError
from veloro_core.backup.operations import Operation
from veloro_core.backup.writer import ItemRecord
from veloro_core.kube import APIResource, KubeError, NotFound
from veloro_core.plugins import PluginHostError
from veloro_core.selection import excluded_by_label

Obj = dict[str, Any]
MAX_DEPTH = 32
UNAVAILABLE_RETRIES = 1
PVC = "persistentvolumeclaims"
PV = "persistentvolumes"


def _describe(group_resource: str, namespace: str, name: str) -> str:
    return f"{group_resource} {namespace}/{name}" if namespace else f"{group_resource} {name}"


class ItemBackupper:
    def __init__(self, ctx: BackupContext) -> None:
        self.ctx = ctx

    def backup_listed(self, item: Obj, api: APIResource) -> None:
        """An item from a list (already filtered by namespace and selector)."""
        self.backup_item(item, api, additional=False, depth=0)

    def backup_item(self, item: Obj, api: APIResource, *, additional: bool, depth: int) -> None:
        ctx = self.ctx
        meta = item.get("metadata") or {}
        name = str(meta.get("name") or "")
        namespace = str(meta.get("namespace") or "") if api.namespaced else ""
        gr = api.group_resource
        if not name:
            ctx.errors.add(f"{gr}: an item without metadata.name was returned; skipped", namespace)
            return
        if additional and not self._additional_allowed(gr, namespace, name):
            return
        labels = meta.get("labels")
        if excluded_by_label(labels):
            ctx.log.item("item excluded by its exclude-from-backup label", resource=gr, name=name,
                         namespace=namespace)
            return
        if meta.get("deletionTimestamp"):
            ctx.log.item("item is being deleted; skipped", resource=gr, name=name, namespace=namespace)
            return
        if not ctx.claim(gr, namespace, name):
            return
        actions = ctx.actions.for_resource(gr)
        if actions:
            result = self._run_actions(item, api, namespace, labels, actions, depth)
            if result is None:
                return
            item = result
        self._volumes(gr, item)
        self.write(item, api, namespace, name)

    def _additional_allowed(self, gr: str, namespace: str, name: str) -> bool:
        ctx = self.ctx
        if namespace and not ctx.namespace_ok(namespace):
            ctx.log.item("additional item skipped: its namespace is excluded", resource=gr, name=name,
                         namespace=namespace)
            return False
        if ctx.filter.should_exclude(gr):
            ctx.log.item("additional item skipped: its resource is excluded", resource=gr, name=name,
                         namespace=namespace)
            return False
        return True

    def _run_actions(self, item: Obj, api: APIResource, namespace: str, labels: Any,
                     actions: list[ResolvedAction], depth: int) -> Obj | None:
        ctx = self.ctx
        gr = api.group_resource
        name = str(item["metadata"].get("name"))
        for resolved in actions:
            if not resolved.matcher.matches(gr, namespace, labels):
                continue
            try:
                response = self._execute(resolved, item)
            except PluginHostError as exc:  # restarts exhausted, cannot start: not an item problem
                raise FatalBackupError(
                    f"backup item action {resolved.name!r} cannot run: {exc}") from exc
            except Exception as exc:
                ctx.errors.add(f"backup item action {resolved.name!r} failed on "
                               f"{_describe(gr, namespace, name)}: {exc}", namespace)
                ctx.log.error("backup item action failed", action=resolved.name, resource=gr,
                              namespace=namespace, name=name, error=str(exc))
                return None
            if response.item is not None:
                if not response.item:  # an empty object: the action dropped the item
                    ctx.log.item("item dropped by action", action=resolved.name, resource=gr, name=name)
                    return None
                item = response.item
                labels = (item.get("metadata") or {}).get("labels")
            if response.operation_id:
                ctx.operations.add(Operation(
                    resolved.name, resolved.action,
                    ResourceIdentifier(api.group, api.name, namespace, name),
                    response.operation_id, list(response.post_operation_items)))
            for rid in response.additional_items:
                self.additional(rid, depth + 1)
        return item

    def _execute(self, resolved: ResolvedAction, item: Obj) -> BackupItemActionExecuteResponse:
        """Execute, retried when the plugin process was lost mid-call: another item's call may have
        crashed it (calls in flight on a dying process all fail); the manager restarts it with Init
        replayed. An item that crashes the plugin every time fails after the retries."""
        request = BackupItemActionExecuteRequest(item=item, backup=self.ctx.backup)
        for _ in range(UNAVAILABLE_RETRIES):
            try:
                return resolved.action.execute(request)
            except PluginUnavailable as exc:
                self.ctx.log.warning("plugin process lost during a call; retrying", action=resolved.name,
                                     error=str(exc))
        return resolved.action.execute(request)

    def additional(self, rid: ResourceIdentifier, depth: int) -> None:
        """Fetch an additional item from the API and back it up (unless already done, or its list is
        still ahead and will bring it - the same result without one GET per item)."""
        ctx = self.ctx
        api = ctx.api_for(rid.group, rid.resource)
        where = _describe(rid.group_resource, rid.namespace, rid.name)
        if api is None:
            ctx.warnings.add(f"additional item {where}: the cluster does not serve that resource",
                             rid.namespace)
            return
        namespace = rid.namespace if api.namespaced else ""
        if depth > MAX_DEPTH or ctx.seen(api.group_resource, namespace, rid.name):
            return
        if self._deferrable(api, namespace):
            return
        try:
            obj = ctx.kube.get(api, rid.name, namespace or None)
        except NotFound:
            ctx.warnings.add(f"additional item {where} was not found in the cluster; not backed up",
                             namespace)
            return
        except KubeError as exc:
            ctx.errors.add(f"fetching additional item {where} failed: {exc}", namespace)
            return
        with ctx._lock:
            ctx.counters.additional += 1
        self.backup_item(obj, api, additional=True, depth=depth)

    def _deferrable(self, api: APIResource, namespace: str) -> bool:
        """Its list is still ahead, unfiltered by labels, and would take it: no need to fetch it now."""
        ctx = self.ctx
        if api.group_resource not in ctx.pending_lists or ctx.selection.label_selector is not None:
            return False
        if ctx.selection.or_label_selectors:
            return False
        return not namespace or namespace in ctx.active_namespaces

    def _volumes(self, gr: str, item: Obj) -> None:
        volumes = self.ctx.volumes
        if volumes is None:
            return
        if gr == PV:
            volumes.on_pv(item)
        elif gr == PVC:
            volumes.on_pvc(item)

    def write(self, item: Obj, api: APIResource, namespace: str, name: str) -> None:
        ctx = self.ctx
        try:
            data = orjson.dumps(item)
        except TypeError as exc:
            ctx.errors.add(f"{_describe(api.group_resource, namespace, name)} cannot be serialized: {exc}",
                           namespace)
            return
        assert ctx.writer is not None
        ctx.writer.put(ItemRecord(api.group_resource, namespace if api.namespaced else None, name,
                                  api.version, f"{api.api_version}/{api.kind}", data))
        ctx.note_resource(api.group_resource)
        if ctx.settings.log_items:
            ctx.log.item("backed up item", resource=api.group_resource, namespace=namespace, name=name)
