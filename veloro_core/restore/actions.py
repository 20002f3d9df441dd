"""RestoreItemActions (v1 adapted to v2 by the PluginManager) selected on the host by their AppliesTo.

Each action's AppliesTo is asked ONCE per restore and compiled (ActionMatcher), so items an action does
not apply to cost no plugin call. Actions run in name order; each sees the item as the previous one left it.
Items of one resource go through an action together (execute_batch: one gRPC call for up to 500 items
when the plugin serves the veloro batch service, else one Execute per item).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from veloro_sdk.contracts import (
    ResourceIdentifier,
    RestoreItemActionExecuteRequest,
    RestoreItemActionExecuteResponse,
    RestoreItemActionV2,
)

from veloro_core.actioncalls import call_batch_retrying
from veloro_core.plugins import PluginManager
from veloro_core.selection import ActionMatcher, ResourceIndex, SelectorError

Obj = dict[str, Any]


@dataclass(frozen=True)
class BoundAction:
    name: str
    action: RestoreItemActionV2
    matcher: ActionMatcher


@dataclass
class Operation:
    """An asynchronous operation started by a v2 action (polled with progress() at the end)."""

    action: str
    operation_id: str
    resource: ResourceIdentifier
    impl: RestoreItemActionV2


class ActionError(Exception):
    """An action failed on an item (the item is not restored; the error is recorded)."""


def load_actions(plugins: PluginManager | None, index: ResourceIndex) -> tuple[list[BoundAction], list[str]]:
    """Every restore item action with its compiled AppliesTo; (actions, problems). A plugin whose
    AppliesTo cannot be read is a problem of the restore (it would otherwise silently not run)."""
    if plugins is None:
        return [], []
    actions: list[BoundAction] = []
    problems: list[str] = []
    for name, action in plugins.restore_item_actions():
        try:
            matcher = ActionMatcher.compile(action.applies_to(), index, action=name)
        except SelectorError as exc:
            problems.append(str(exc))
            continue
        except Exception as exc:  # plugin process errors: the restore cannot honour this action
            problems.append(f"restore item action {name!r}: AppliesTo failed: {exc}")
            continue
        actions.append(BoundAction(name, action, matcher))
    return actions, problems


def applicable(actions: list[BoundAction], group_resource: str) -> list[BoundAction]:
    return [a for a in actions if a.matcher.applies_to_resource(group_resource)]


@dataclass
class ActionItem:
    """One item on its way through the actions of its chunk. After the run: `error` set = the item
    failed (not restored); `skip` set = an action asked to skip it; else `item` is what to create."""

    namespace: str  # the item's namespace in the backup ("" = cluster scope): what AppliesTo matches
    item: Obj
    item_from_backup: Obj
    skip: str = ""  # name of the action that asked to skip the item
    error: str = ""
    additional: list[ResourceIdentifier] = field(default_factory=list)
    operations: list[Operation] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return bool(self.skip or self.error)


@dataclass(frozen=True)
class ActionRun:
    """What every action call of one restore shares."""

    restore: Obj
    wait_timeout: float  # default bound for waitForAdditionalItems (an action may give its own)
    poll: float
    restore_additional: Callable[[list[ResourceIdentifier]], None]
    on_lost: Callable[[str, int, Exception], None] | None = None  # (action, items, error): for the log


def run_actions(
    actions: list[BoundAction], group_resource: str, entries: list[ActionItem], run: ActionRun
) -> None:
    """Run the matching actions on items of one resource: one execute_batch per action over the items it
    matches, actions in name order. Per item the semantics are those of one call per item: each action
    sees the item as the previous one left it (its labels decide whether the next one matches), its
    additional items are restored (and waited for, when a v2 action asks) before the next action runs
    on the item and before the item is created; a failure or a skip takes the item out of the later
    actions. Items lost with a crashing plugin process are retried one by one (veloro_core.actioncalls).
    """
    for bound in actions:
        live = [
            e
            for e in entries
            if not e.done
            and bound.matcher.matches(
                group_resource, e.namespace, (e.item.get("metadata") or {}).get("labels")
            )
        ]
        if not live:
            continue
        requests = [
            RestoreItemActionExecuteRequest(
                item=e.item, restore=run.restore, item_from_backup=e.item_from_backup
            )
            for e in live
        ]
        on_lost = None if run.on_lost is None else partial(run.on_lost, bound.name)
        outcomes = call_batch_retrying(bound.action.execute_batch, requests, on_lost=on_lost)
        for entry, outcome in zip(live, outcomes, strict=True):
            try:
                _apply(bound, group_resource, entry, outcome, run)
            except ActionError as exc:
                entry.error = str(exc)
            except Exception as exc:  # e.g. restoring an additional item: that item fails, not the chunk
                entry.error = f"unexpected {type(exc).__name__}: {exc}"


def _apply(
    bound: BoundAction,
    group_resource: str,
    entry: ActionItem,
    outcome: RestoreItemActionExecuteResponse | Exception,
    run: ActionRun,
) -> None:
    """One item's result of one action."""
    if isinstance(outcome, Exception):
        raise ActionError(f"restore item action {bound.name!r} failed: {outcome}")
    if outcome.skip_restore:
        entry.skip = bound.name
        return
    if outcome.item is not None:
        entry.item = outcome.item
    if outcome.additional_items:
        entry.additional.extend(outcome.additional_items)
        run.restore_additional(outcome.additional_items)
    if outcome.operation_id:
        ident = ResourceIdentifier(*_ident(group_resource, entry.item))
        entry.operations.append(Operation(bound.name, outcome.operation_id, ident, bound.action))
    if outcome.wait_for_additional_items and outcome.additional_items:
        timeout = outcome.additional_items_ready_timeout or timedelta(seconds=run.wait_timeout)
        _wait_ready(bound, outcome.additional_items, run.restore, timeout.total_seconds(), run.poll)


def _ident(group_resource: str, item: Obj) -> tuple[str, str, str, str]:
    resource, _, group = group_resource.partition(".")
    meta = item.get("metadata") or {}
    return group, resource, str(meta.get("namespace") or ""), str(meta.get("name") or "")


def _wait_ready(
    bound: BoundAction, items: list[ResourceIdentifier], restore: Obj, timeout: float, poll: float
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if bound.action.are_additional_items_ready(items, restore):
                return
        except Exception as exc:
            raise ActionError(
                f"restore item action {bound.name!r}: AreAdditionalItemsReady failed: {exc}"
            ) from exc
        if time.monotonic() >= deadline:
            raise ActionError(
                f"restore item action {bound.name!r}: its additional items were not ready within "
                f"{timeout:.0f}s"
            )
        time.sleep(poll)
