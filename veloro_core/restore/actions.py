"""RestoreItemActions (v1 adapted to v2 by the PluginManager) selected on the host by their AppliesTo.

Each action's AppliesTo is asked ONCE per restore and compiled (ActionMatcher), so items an action does
not apply to cost no plugin call. Actions run in name order; each sees the item as the previous one left it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from veloro_sdk.contracts import (
    ResourceIdentifier,
    RestoreItemActionExecuteRequest,
    RestoreItemActionV2,
)

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


@dataclass
class ActionOutcome:
    item: Obj
    skip: str = ""  # name of the action that asked to skip the item
    additional: list[ResourceIdentifier] = field(default_factory=list)
    operations: list[Operation] = field(default_factory=list)


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


def run_actions(
    actions: list[BoundAction],
    group_resource: str,
    namespace: str,
    item: Obj,
    item_from_backup: Obj,
    restore: Obj,
    wait_timeout: float,
    poll: float,
    restore_additional: Callable[[list[ResourceIdentifier]], None],
) -> ActionOutcome:
    """Run the matching actions on one item; raises ActionError naming the failing action.

    Each action's additional items are restored (through `restore_additional`) right after it ran and
    before the next action, and waited for when the action asks (v2), as Velero does.
    """
    outcome = ActionOutcome(item=item)
    for bound in actions:
        labels = (outcome.item.get("metadata") or {}).get("labels")
        if not bound.matcher.matches(group_resource, namespace, labels):
            continue
        request = RestoreItemActionExecuteRequest(
            item=outcome.item, restore=restore, item_from_backup=item_from_backup
        )
        try:
            response = bound.action.execute(request)
        except Exception as exc:
            raise ActionError(f"restore item action {bound.name!r} failed: {exc}") from exc
        if response.skip_restore:
            outcome.skip = bound.name
            return outcome
        if response.item is not None:
            outcome.item = response.item
        if response.additional_items:
            outcome.additional.extend(response.additional_items)
            restore_additional(response.additional_items)
        if response.operation_id:
            ident = ResourceIdentifier(*_ident(group_resource, outcome.item))
            outcome.operations.append(Operation(bound.name, response.operation_id, ident, bound.action))
        if response.wait_for_additional_items and response.additional_items:
            timeout = response.additional_items_ready_timeout or timedelta(seconds=wait_timeout)
            _wait_ready(bound, response.additional_items, restore, timeout.total_seconds(), poll)
    return outcome


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
