"""Backing up one item: filters, de-duplication, the matching actions (with their additional items,
backed up recursively, and v2 operations), volume records, then the item queued for the tarball."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from veloro_sdk.contracts import (
    BackupItemActionExecuteRequest,
    BackupItemActionExecuteResponse,
    ResourceIdentifier,
)

from veloro_core.actioncalls import call_batch_retrying
from veloro_core.backup.actions import ResolvedAction
from veloro_core.backup.context import BackupContext, FatalBackupError
from veloro_core.backup.operations import Operation
from veloro_core.backup.writer import ItemRecord, WriterFailed
from veloro_core.kube import APIResource, KubeError, NotFound
from veloro_core.plugins import PluginHostError
from veloro_core.selection import excluded_by_label

Obj = dict[str, Any]
MAX_DEPTH = 32


def _describe(group_resource: str, namespace: str, name: str) -> str:
    return f"{group_resource} {namespace}/{name}" if namespace else f"{group_resource} {name}"


@dataclass
class _Entry:
    """One item on its way through the actions of its group."""

    item: Obj
    namespace: str
    name: str
    labels: Any


class ItemBackupper:
    def __init__(self, ctx: BackupContext) -> None:
        self.ctx = ctx

    def backup_listed(self, item: Obj, api: APIResource) -> None:
        """An item from a list (already filtered by namespace and selector)."""
        self.backup_item(item, api, additional=False, depth=0)

    def backup_group(self, items: list[Obj], api: APIResource) -> None:
        """Listed items of one resource (a page or part of one) through the actions together: one
        execute_batch per action for the items it applies to, instead of one call per item."""
        entries = [e for e in (self._admit(item, api, additional=False) for item in items) if e is not None]
        self._process(entries, api, depth=0)

    def backup_item(self, item: Obj, api: APIResource, *, additional: bool, depth: int) -> None:
        entry = self._admit(item, api, additional=additional)
        if entry is not None:
            self._process([entry], api, depth)

    def _admit(self, item: Obj, api: APIResource, *, additional: bool) -> _Entry | None:
        """The checks before any action: name, filters for additional items, exclusion label, deletion,
        and the dedup claim. None = not backed up (already logged or recorded)."""
        ctx = self.ctx
        meta = item.get("metadata") or {}
        name = str(meta.get("name") or "")
        namespace = str(meta.get("namespace") or "") if api.namespaced else ""
        gr = api.group_resource
        if not name:
            ctx.errors.add(f"{gr}: an item without metadata.name was returned; skipped", namespace)
            return None
        if additional and not self._additional_allowed(gr, namespace, name):
            return None
        labels = meta.get("labels")
        if excluded_by_label(labels):
            ctx.log.item("item excluded by its exclude-from-backup label", resource=gr, name=name,
                         namespace=namespace)
            return None
        if meta.get("deletionTimestamp"):
            ctx.log.item("item is being deleted; skipped", resource=gr, name=name, namespace=namespace)
            return None
        if not ctx.claim(gr, namespace, name):
            return None
        return _Entry(item, namespace, name, labels)

    def _process(self, entries: list[_Entry], api: APIResource, depth: int) -> None:
        gr = api.group_resource
        actions = self.ctx.actions.for_resource(gr) if entries else []
        if actions:
            entries = self._run_actions(entries, api, actions, depth)
        if len(entries) == 1:  # one item (additional, ordered, no actions): its caller guards it
            self._volumes(gr, entries[0].item)
            self.write(entries[0].item, api, entries[0].namespace, entries[0].name)
            return
        for entry in entries:
            try:
                self._volumes(gr, entry.item)
                self.write(entry.item, api, entry.namespace, entry.name)
            except (FatalBackupError, WriterFailed):
                raise
            except Exception as exc:  # that item failed, not its group
                where = _describe(gr, entry.namespace, entry.name)
                self.ctx.errors.add(f"backing up {where} failed: {exc}", entry.namespace)

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

    def _run_actions(self, entries: list[_Entry], api: APIResource, actions: list[ResolvedAction],
                     depth: int) -> list[_Entry]:
        """Each action in order on the entries it applies to; returns the entries still to back up. Per
        item the semantics are those of one call per item: its actions in order, each one's additional
        items backed up before the next action runs on it, a failure or a drop ending that item only."""
        gr = api.group_resource
        for resolved in actions:
            targets = [e for e in entries if resolved.matcher.matches(gr, e.namespace, e.labels)]
            if not targets:
                continue
            outcomes = self._execute_batch(resolved, targets, api)
            dropped: set[int] = set()
            for entry, outcome in zip(targets, outcomes, strict=True):
                if not self._apply_guarded(resolved, entry, outcome, api, depth):
                    dropped.add(id(entry))
            if dropped:
                entries = [e for e in entries if id(e) not in dropped]
        return entries

    def _apply_guarded(self, resolved: ResolvedAction, entry: _Entry,
                       outcome: BackupItemActionExecuteResponse | Exception, api: APIResource,
                       depth: int) -> bool:
        try:
            return self._apply(resolved, entry, outcome, api, depth)
        except (FatalBackupError, WriterFailed):
            raise
        except Exception as exc:  # that item failed (e.g. one of its additional items), not the group
            where = _describe(api.group_resource, entry.namespace, entry.name)
            self.ctx.errors.add(f"backing up {where} failed: {exc}", entry.namespace)
            self.ctx.log.error("item backup failed", resource=api.group_resource, error=str(exc))
            return False

    def _apply(self, resolved: ResolvedAction, entry: _Entry,
               outcome: BackupItemActionExecuteResponse | Exception, api: APIResource, depth: int) -> bool:
        """One item's action result; False = the item is not backed up (failed or dropped)."""
        ctx = self.ctx
        gr, namespace, name = api.group_resource, entry.namespace, entry.name
        if isinstance(outcome, Exception):
            ctx.errors.add(f"backup item action {resolved.name!r} failed on "
                           f"{_describe(gr, namespace, name)}: {outcome}", namespace)
            ctx.log.error("backup item action failed", action=resolved.name, resource=gr,
                          namespace=namespace, name=name, error=str(outcome))
            return False
        if outcome.item is not None:
            if not outcome.item:  # an empty object: the action dropped the item
                ctx.log.item("item dropped by action", action=resolved.name, resource=gr, name=name)
                return False
            entry.item = outcome.item
            entry.labels = (outcome.item.get("metadata") or {}).get("labels")
        if outcome.operation_id:
            ctx.operations.add(Operation(
                resolved.name, resolved.action, ResourceIdentifier(api.group, api.name, namespace, name),
                outcome.operation_id, list(outcome.post_operation_items)))
        for rid in outcome.additional_items:
            self.additional(rid, depth + 1)
        return True

    def _execute_batch(self, resolved: ResolvedAction, targets: list[_Entry],
                       api: APIResource) -> list[BackupItemActionExecuteResponse | Exception]:
        """execute_batch with the items lost with the plugin process retried one by one
        (veloro_core.actioncalls); a plugin that cannot run at all ends the backup."""
        backup = self.ctx.backup
        requests = [BackupItemActionExecuteRequest(item=e.item, backup=backup) for e in targets]

        def on_lost(items: int, error: Exception) -> None:
            self.ctx.log.warning("plugin process lost during a call; retrying its items one by one",
                                 action=resolved.name, resource=api.group_resource, items=items,
                                 error=str(error))

        try:
            return call_batch_retrying(resolved.action.execute_batch, requests,
                                       propagate=(PluginHostError,), on_lost=on_lost)
        except PluginHostError as exc:  # restarts exhausted, cannot start: not an item problem
            raise FatalBackupError(f"backup item action {resolved.name!r} cannot run: {exc}") from exc

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
        if volumes is not None:
            volumes.on_item(gr, item)  # PVs, PVCs, pods (file-level backup), CSI VolumeSnapshots

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
