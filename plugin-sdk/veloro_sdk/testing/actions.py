"""Checks of the item actions (backup, restore, delete, item block) against their contract ABCs.

Each action is asked what it applies to; the sample objects a host would then pass to it are run through
execute (or get_related_items), and what comes back must be usable by a host: a JSON object that is still
a Kubernetes object, or "unchanged".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from veloro_sdk.contracts import (
    BackupItemAction,
    BackupItemActionExecuteRequest,
    BackupItemActionExecuteResponse,
    BackupItemActionV2,
    DeleteItemAction,
    DeleteItemActionExecuteRequest,
    ItemBlockAction,
    ItemBlockActionRequest,
    OperationProgress,
    ResourceIdentifier,
    ResourceSelector,
    RestoreItemAction,
    RestoreItemActionExecuteRequest,
    RestoreItemActionExecuteResponse,
    RestoreItemActionV2,
)
from veloro_sdk.testing.matching import check_selector, selected_samples
from veloro_sdk.testing.report import CheckFailed, CheckResult, SkipCheck, run_check
from veloro_sdk.testing.samples import SAMPLES, Sample, sample_backup, sample_restore

AnyAction = BackupItemAction | RestoreItemAction | DeleteItemAction | ItemBlockAction


def check_item(value: object, what: str) -> None:
    """A returned item must be a JSON object that is still a Kubernetes object."""
    if not isinstance(value, dict):
        raise CheckFailed(f"{what} is {type(value).__name__}, expected a JSON object (dict) or None")
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise CheckFailed(f"{what} is not JSON-serialisable: {exc}") from exc
    for key in ("apiVersion", "kind"):
        if not isinstance(value.get(key), str) or not value[key]:
            raise CheckFailed(f"{what} has no {key!r}: an action must return a complete Kubernetes object")
    metadata = value.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        raise CheckFailed(f"{what} has no metadata.name")


def check_identifiers(values: object, what: str) -> None:
    if not isinstance(values, list):
        raise CheckFailed(f"{what} is {type(values).__name__}, expected a list of ResourceIdentifier")
    for value in values:
        if not isinstance(value, ResourceIdentifier) or not value.resource or not value.name:
            raise CheckFailed(f"{what} holds {value!r}: each needs at least a resource and a name")


def _change(returned: object, original: object) -> str:
    # Hosts may echo the input back for "unchanged" (Go plugins do), so compare rather than test for None.
    return "unchanged" if returned is None or returned == original else "changed"


def _backup_execute(action: BackupItemAction, sample: Sample) -> str | None:
    original = sample.item()
    response = action.execute(BackupItemActionExecuteRequest(item=sample.item(), backup=sample_backup()))
    if not isinstance(response, BackupItemActionExecuteResponse):
        raise CheckFailed(
            f"execute returned {type(response).__name__}, expected BackupItemActionExecuteResponse"
        )
    if response.item is not None:
        check_item(response.item, "the returned item")
    check_identifiers(response.additional_items, "additional_items")
    check_identifiers(response.post_operation_items, "post_operation_items")
    if response.operation_id and isinstance(action, BackupItemActionV2):
        progress = action.progress(response.operation_id, sample_backup())
        if not isinstance(progress, OperationProgress):
            raise CheckFailed(f"progress() returned {type(progress).__name__}, expected OperationProgress")
        return f"operation {response.operation_id!r}"
    return _change(response.item, original)


def _restore_execute(action: RestoreItemAction, sample: Sample) -> str | None:
    request = RestoreItemActionExecuteRequest(
        item=sample.item(), restore=sample_restore(), item_from_backup=sample.item()
    )
    response = action.execute(request)
    if not isinstance(response, RestoreItemActionExecuteResponse):
        raise CheckFailed(
            f"execute returned {type(response).__name__}, expected RestoreItemActionExecuteResponse"
        )
    if response.item is not None:
        check_item(response.item, "the returned item")
    check_identifiers(response.additional_items, "additional_items")
    if not isinstance(response.skip_restore, bool):
        raise CheckFailed(f"skip_restore is {response.skip_restore!r}, expected a bool")
    if isinstance(action, RestoreItemActionV2) and response.additional_items:
        ready = action.are_additional_items_ready(response.additional_items, sample_restore())
        if not isinstance(ready, bool):
            raise CheckFailed(f"are_additional_items_ready returned {ready!r}, expected a bool")
    if response.skip_restore:
        return "skip restore"
    return _change(response.item, sample.obj)


def _delete_execute(action: DeleteItemAction, sample: Sample) -> str | None:
    result: Any = action.execute(DeleteItemActionExecuteRequest(item=sample.item(), backup=sample_backup()))
    if result is not None:
        raise CheckFailed(f"execute returned {result!r}; a delete action returns nothing")
    return None


def _related_items(action: ItemBlockAction, sample: Sample) -> str | None:
    related = action.get_related_items(ItemBlockActionRequest(item=sample.item(), backup=sample_backup()))
    check_identifiers(related, "get_related_items()")
    return f"{len(related)} related"


def _executor(kind: str, action: AnyAction) -> tuple[str, Callable[[Sample], str | None]]:
    if isinstance(action, ItemBlockAction):
        return "get_related_items", lambda s: _related_items(action, s)
    if isinstance(action, DeleteItemAction):
        return "execute", lambda s: _delete_execute(action, s)
    if isinstance(action, RestoreItemAction):
        return "execute", lambda s: _restore_execute(action, s)
    if isinstance(action, BackupItemAction):
        return "execute", lambda s: _backup_execute(action, s)
    raise TypeError(f"{kind}: {type(action).__name__} implements no item action contract")


def check_action(
    action: AnyAction, kind: str = "", name: str = "action", samples: list[Sample] | None = None
) -> list[CheckResult]:
    """Run applies_to, then execute on every sample it selects; one row per call."""
    kind = kind or type(action).__mro__[1].__name__
    verb, run = _executor(kind, action)
    holder: list[ResourceSelector] = []

    def applies_to() -> str:
        selector = check_selector(action.applies_to())
        holder.append(selector)
        chosen = selected_samples(selector, samples if samples is not None else SAMPLES)
        return f"selects {len(chosen)} of {len(samples if samples is not None else SAMPLES)} samples"

    first = run_check(kind, name, "applies_to returns a valid selector", applies_to)
    results = [first]
    if not holder:
        results.append(run_check(kind, name, verb, _raise(SkipCheck("not run: applies_to failed"))))
        return results
    chosen = selected_samples(holder[0], samples if samples is not None else SAMPLES)
    if not chosen:
        results.append(run_check(kind, name, verb, _raise(SkipCheck("no sample object matches applies_to"))))
    for sample in chosen:
        results.append(run_check(kind, name, f"{verb} on a {sample.label}", _bind(run, sample)))
    return results


def _bind(run: Callable[[Sample], str | None], sample: Sample) -> Callable[[], str | None]:
    return lambda: run(sample)


def _raise(exc: Exception) -> Callable[[], str | None]:
    def body() -> str | None:
        raise exc

    return body
