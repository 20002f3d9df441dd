"""Restoring backed-up items: read, filter, skip rules, namespace mapping, metadata reset, volumes,
restore item actions (with their additional items restored first), resource modifiers, restore labels,
create, then the existing-object policy or the status subresource. One item's failure is recorded, never
fatal.

Items of one resource come in chunks (restore_many): each item is prepared, then the chunk goes through
each applicable action in one execute_batch call (instead of one gRPC call per item per action), then
each item is finished and created. Per item, the outcome and every message are those of one item at a
time. An additional item an action names that is in the same chunk was already claimed by the chunk: it
is created with the chunk (as when another worker had claimed it), not before the item that named it;
the built-in actions only name items of other resources.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import orjson
from veloro_sdk.contracts import ResourceIdentifier

from veloro_core.archive import ArchiveError, ItemDecodeError, ItemRef
from veloro_core.kube import AlreadyExists, APIResource, KubeError, UnknownResource
from veloro_core.restore.actions import ActionItem, ActionRun, BoundAction, applicable, run_actions
from veloro_core.restore.context import RestoreContext
from veloro_core.restore.existing import handle_existing
from veloro_core.restore.namespaces import NamespaceEnsurer, NamespaceError
from veloro_core.restore.objects import add_labels, object_ref, reset_metadata, skip_reason
from veloro_core.restore.volumes import PVCS, PVS, reprovision_pvc, reset_binding, restore_from_snapshot
from veloro_core.selection import ResourceFilter

Obj = dict[str, Any]
T = TypeVar("T")


class ItemFailed(Exception):
    """The item is not restored; the message becomes an error of its namespace."""


class _Skip(Exception):
    """The item is deliberately not restored (already logged)."""


@dataclass
class _Pending:
    """An item prepared for its actions and its create."""

    ref: ItemRef
    target: str | None  # its target namespace (for messages), None for cluster scope
    obj: Obj
    resource: APIResource
    namespace: str | None  # where it is created
    keep_status: bool
    actions: ActionItem | None = None


class ItemRestorer:
    def __init__(self, ctx: RestoreContext, namespaces: NamespaceEnsurer) -> None:
        self.ctx = ctx
        self.namespaces = namespaces
        self.filter: ResourceFilter | None = None
        self._actions: dict[str, list[BoundAction]] = {}
        self._root = str(ctx.contents.root)

    def set_filter(self, resource_filter: ResourceFilter) -> None:
        """The resource filter over the current discovery (replaced after the CRDs are established)."""
        self.filter = resource_filter

    def restore(self, ref: ItemRef, additional: bool = False) -> None:
        """Restore one item unless it was restored already (as another item's additional item)."""
        self.restore_many([ref], additional)

    def restore_many(self, refs: list[ItemRef], additional: bool = False) -> None:
        """Restore items of one resource together (see the module docstring); an item restored already
        (as another item's additional item) is left out."""
        pending = [p for p in (self._start(ref, additional) for ref in refs) if p is not None]
        with_actions = [p for p in pending if p.actions is not None]
        if with_actions:
            self._run_actions(with_actions)
            pending = [
                p
                for p in pending
                if p.actions is None or self._guarded(p.ref, p.target, partial(self._action_outcome, p))
            ]
        for p in pending:
            self._guarded(p.ref, p.target, partial(self._finish, p))

    def _start(self, ref: ItemRef, additional: bool) -> _Pending | None:
        ctx = self.ctx
        if not ctx.claim((ref.group_resource, ref.namespace or "", ref.name)):
            if not additional:
                ctx.progress.item_dropped()  # counted in its group, but restored earlier
            return None
        if additional:
            ctx.progress.add_total(1)
        target = ctx.spec.target_namespace(ref.namespace) if ref.namespace else None
        return self._guarded(ref, target, lambda: self._prepare(ref, target, additional))

    def _guarded(self, ref: ItemRef, target: str | None, step: Callable[[], T]) -> T | None:
        """Run one item's step; its skip or failure is recorded here (None), never raised."""
        try:
            return step()
        except _Skip:
            self.ctx.progress.item_dropped()
        except (ItemFailed, NamespaceError) as exc:
            self._failed(
                target, f"error restoring {ref.group_resource} {object_ref(target, ref.name)}: {exc}"
            )
        except Exception as exc:  # a bug or an unexpected plugin/client error must not stop the restore
            self._failed(
                target,
                f"error restoring {ref.group_resource} {object_ref(target, ref.name)}: "
                f"unexpected {type(exc).__name__}: {exc}",
            )
        return None

    def _failed(self, namespace: str | None, message: str) -> None:
        self.ctx.errors.add(namespace, message)
        self.ctx.log.error(message)

    def _skip(self, ref: ItemRef, why: str) -> _Skip:
        self.ctx.log.info(
            f"not restored: {why}", resource=ref.group_resource, name=object_ref(ref.namespace, ref.name)
        )
        return _Skip(why)

    def _read(self, ref: ItemRef) -> tuple[Obj, bytes]:
        """The unversioned copy of the item. Read directly by string path (refs come from the extracted
        tree's own listing, so their segments are already checked): BackupContents.read_item builds
        pathlib objects, which cost more CPU per item than the rest of the item's host-side work."""
        rel = ref.relative_path()
        try:
            with open(os.path.join(self._root, rel), "rb") as f:
                data = f.read()
        except OSError:
            raise ItemFailed(f"backup item {rel!r} is not in the backup tarball") from None
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise ItemFailed(str(ItemDecodeError(rel, str(exc)))) from exc
        if not isinstance(obj, dict):
            raise ItemFailed(str(ItemDecodeError(rel, f"a JSON {type(obj).__name__}, not an object")))
        if not isinstance(obj.get("metadata"), dict):
            raise ItemFailed("the backed-up item has no metadata")
        return obj, data

    def _prepare(self, ref: ItemRef, target: str | None, additional: bool) -> _Pending:
        """Everything before the actions: read, selection, skip rules, placement, metadata, volumes."""
        ctx = self.ctx
        gr = ref.group_resource
        obj, data = self._read(ref)
        if not additional and not ctx.spec.selection.labels_match(obj["metadata"].get("labels")):
            raise _Skip("labels do not match the restore's label selector")
        reason = skip_reason(gr, obj)
        if reason:
            raise self._skip(ref, reason)
        if gr == PVS and ref.name in ctx.plan.reprovision:
            raise self._skip(
                ref,
                f"volume backed up by {ctx.plan.reprovision[ref.name]}; its claim is "
                "re-provisioned dynamically",
            )
        try:
            resource = ctx.cluster.resource_for(gr, str(obj.get("apiVersion") or ""))
        except UnknownResource as exc:
            raise ItemFailed(str(exc)) from exc
        has_actions = self.has_actions(gr)
        from_backup = orjson.loads(data) if has_actions else obj  # a second parse beats a deep copy
        namespace = self._place(obj, ref, resource)
        keep_status = ctx.spec.status_filter.should_include(gr)
        reset_metadata(obj, keep_status)
        obj = self._volumes(gr, ref, obj)
        pending = _Pending(ref, target, obj, resource, namespace, keep_status)
        if has_actions:
            pending.actions = ActionItem(ref.namespace or "", obj, from_backup)
        return pending

    def _finish(self, p: _Pending) -> None:
        """Everything after the actions: resource modifiers, restore labels, create."""
        ctx = self.ctx
        obj = p.obj if p.actions is None else p.actions.item
        if ctx.spec.modifiers is not None:
            obj = self._modify(p.ref, obj)
        meta = obj.setdefault("metadata", {})
        if p.namespace:
            meta["namespace"] = p.namespace
        add_labels(obj, ctx.labels)
        self._create(p.resource, obj, p.namespace, p.keep_status)

    def _modify(self, ref: ItemRef, obj: Obj) -> Obj:
        """The resource modifier rules (Velero applies them after the restore item actions, before the
        restore labels); rules see the item in its backed-up namespace, as their conditions name it."""
        ctx = self.ctx
        assert ctx.spec.modifiers is not None
        if ref.namespace:
            obj["metadata"]["namespace"] = ref.namespace
        outcome = ctx.spec.modifiers.apply(obj, ref.group_resource, ref.namespace)
        name = object_ref(ref.namespace, ref.name)
        for rule in outcome.applied:
            ctx.log.info("resource modifier applied", rule=rule, resource=ref.group_resource, name=name)
        for why in outcome.skipped:
            ctx.log.info("resource modifier skipped (test failed)", why=why, name=name)
        if outcome.errors:
            raise ItemFailed("; ".join(outcome.errors))
        return outcome.item

    def _place(self, obj: Obj, ref: ItemRef, resource: APIResource) -> str | None:
        """Move a namespaced item to its target namespace (made ready first); None for cluster scope."""
        meta = obj["metadata"]
        if not resource.namespaced:
            meta.pop("namespace", None)
            return None
        if not ref.namespace:
            raise ItemFailed(f"{ref.group_resource} is namespaced but the backup holds it as cluster-scoped")
        target = self.namespaces.ensure(ref.namespace)
        meta["namespace"] = target
        return target

    def _volumes(self, gr: str, ref: ItemRef, obj: Obj) -> Obj:
        ctx = self.ctx
        if gr not in (PVS, PVCS):
            return obj
        reset_binding(obj, ctx.spec.namespace_mapping)
        if gr == PVCS:
            if reprovision_pvc(obj, ctx.plan):
                ctx.log.info(
                    "claim will be re-provisioned (volumeName cleared)",
                    name=object_ref(obj["metadata"].get("namespace"), ref.name),
                )
            return obj
        snap = ctx.plan.snapshots.get(ref.name)
        if snap is None or not ctx.spec.restore_pvs:
            return obj
        try:
            restored = restore_from_snapshot(obj, snap, ctx.settings.volume_snapshotters)
        except Exception as exc:
            raise ItemFailed(f"creating a volume from snapshot failed: {exc}") from exc
        if restored is None:
            warning = (
                f"persistent volume {ref.name} has a native snapshot but no volume snapshotter is "
                "configured for its location; the volume is restored as it was backed up (no data)"
            )
            ctx.warnings.add(None, warning)
            ctx.log.warning(warning)
            return obj
        ctx.log.info("volume created from snapshot", name=ref.name)
        return restored

    def has_actions(self, gr: str) -> bool:
        """Whether any restore item action may apply to items of `gr` (its AppliesTo resources)."""
        return bool(self._actions_for(gr))

    def _actions_for(self, gr: str) -> list[BoundAction]:
        found = self._actions.get(gr)
        if found is None:
            found = self._actions[gr] = applicable(self.ctx.actions, gr)
        return found

    def _run_actions(self, pending: list[_Pending]) -> None:
        """The chunk's items through their actions together, then each item's outcome recorded."""
        ctx = self.ctx
        run = ActionRun(
            ctx.restore,
            ctx.settings.additional_items_ready_timeout,
            ctx.settings.poll_interval,
            self._additional,
            self._lost,
        )
        by_resource: dict[str, list[_Pending]] = {}
        for p in pending:
            by_resource.setdefault(p.ref.group_resource, []).append(p)
        for gr, group in by_resource.items():
            run_actions(self._actions_for(gr), gr, [p.actions for p in group if p.actions is not None], run)

    def _action_outcome(self, p: _Pending) -> bool:
        """True when the item is to be created; raises its failure or skip, as the actions left it.
        Records its operations (also when an action asked to skip it)."""
        outcome = p.actions
        assert outcome is not None
        if outcome.error:
            raise ItemFailed(outcome.error)
        for op in outcome.operations:
            self.ctx.add_operation(op)
        if outcome.skip:
            raise self._skip(p.ref, f"restore item action {outcome.skip} asked to skip it")
        if not isinstance(outcome.item.get("metadata"), dict):
            raise ItemFailed("a restore item action returned an item without metadata")
        return True

    def _lost(self, action: str, items: int, error: Exception) -> None:
        self.ctx.log.warning(
            "plugin process lost during a call; retrying its items one by one",
            action=action,
            items=items,
            error=str(error),
        )

    def _additional(self, idents: list[ResourceIdentifier]) -> None:
        for ident in idents:
            ref = self._find(ident)
            if ref is None:
                self.ctx.log.info(
                    "additional item is not in the backup; not restored",
                    resource=ident.group_resource,
                    name=object_ref(ident.namespace, ident.name),
                )
                continue
            if self.filter is not None and self.filter.should_exclude(ref.group_resource):
                continue
            self.restore(ref, additional=True)

    def _find(self, ident: ResourceIdentifier) -> ItemRef | None:
        """The backed-up item an action names: by its namespace in the backup, or in the target namespace
        (actions see mapped items) translated back through the namespace mapping."""
        gr = ident.group_resource
        candidates: list[str | None] = [ident.namespace] if ident.namespace else [None]
        if ident.namespace:
            candidates += [s for s, t in self.ctx.spec.namespace_mapping.items() if t == ident.namespace]
        for ns in candidates:
            ref = ItemRef(gr, ns or None, ident.name)
            try:
                if self.ctx.contents.item_path(ref).is_file():
                    return ref
            except ArchiveError:
                return None
        return None

    def _pod_volumes(self, created: Obj) -> None:
        """Start the file-level restores of a created pod; a failure is the pod's error, not fatal."""
        ctx = self.ctx
        assert ctx.pod_volumes is not None
        meta = created.get("metadata") or {}
        target, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        sources = [s for s, t in ctx.spec.namespace_mapping.items() if t == target] + [target]
        if not any(ctx.pod_volumes.wanted(source, name) for source in sources):
            return
        try:
            ctx.pod_volumes.start(created, ctx.log)
        except Exception as exc:  # the kube client or a bad PodVolumeBackup record: this pod's volumes fail
            ctx.errors.add(target, f"starting pod volume restores of pod {target}/{name} failed: {exc}")

    def _create(self, resource: APIResource, obj: Obj, namespace: str | None, keep_status: bool) -> None:
        ctx = self.ctx
        status = obj.get("status") if keep_status else None
        api_version, kind = (
            str(obj.get("apiVersion") or resource.api_version),
            str(obj.get("kind") or resource.kind),
        )
        name = str(obj["metadata"].get("name") or obj["metadata"].get("generateName") or "")
        try:
            created = ctx.kube.create(resource, obj, namespace, field_manager=ctx.settings.field_manager)
        except AlreadyExists:
            outcome = handle_existing(ctx, resource, obj, namespace)
            ctx.resources.add(api_version, kind, namespace, name, outcome)
            if outcome != "failed":
                ctx.progress.item_done()
            return
        except KubeError as exc:
            ctx.resources.add(api_version, kind, namespace, name, "failed")
            raise ItemFailed(str(exc)) from exc
        name = str((created.get("metadata") or {}).get("name") or name)
        ctx.resources.add(api_version, kind, namespace, name, "created")
        ctx.progress.item_done()
        if resource.group_resource == "pods" and ctx.pod_volumes is not None:
            self._pod_volumes(created)
        if status and "status" in resource.subresources:
            try:
                ctx.kube.patch_status(resource, name, {"status": status}, namespace)
            except KubeError as exc:
                ctx.warnings.add(
                    namespace,
                    f"could not restore the status of {resource.group_resource} "
                    f"{object_ref(namespace, name)}: {exc}",
                )
