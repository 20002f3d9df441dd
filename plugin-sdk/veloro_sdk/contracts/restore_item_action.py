"""RestoreItemAction (v1 and v2): change or skip a Kubernetes object as it is restored."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import timedelta

from veloro_sdk.contracts.common import JSONDict, OperationProgress, ResourceIdentifier, ResourceSelector


@dataclass
class RestoreItemActionExecuteRequest:
    item: JSONDict  # the object about to be created (after earlier actions and namespace mapping)
    restore: JSONDict  # the Restore custom resource
    item_from_backup: JSONDict  # the object exactly as it is in the backup


@dataclass
class RestoreItemActionExecuteResponse:
    """`item` None means unchanged; skip_restore drops the object from the restore."""

    item: JSONDict | None = None
    additional_items: list[ResourceIdentifier] = field(default_factory=list)
    skip_restore: bool = False
    operation_id: str = ""
    wait_for_additional_items: bool = False
    additional_items_ready_timeout: timedelta | None = None


class RestoreItemAction(abc.ABC):
    """v1: synchronous. Served as `generated.RestoreItemAction`."""

    @abc.abstractmethod
    def applies_to(self) -> ResourceSelector:
        """Which objects this action runs on."""

    @abc.abstractmethod
    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        """Run on one object."""

    def execute_batch(
        self, requests: list[RestoreItemActionExecuteRequest]
    ) -> list[RestoreItemActionExecuteResponse | Exception]:
        """Run on many objects: one result per request, in order; a failed item's result is its exception
        (the other items go on). The default calls execute() per item; vendors may override it."""
        return [_execute_one(self, request) for request in requests]


class RestoreItemActionV2(RestoreItemAction):
    """v2: asynchronous operations and additional-item readiness. Served as `v2.RestoreItemAction`."""

    def progress(self, operation_id: str, restore: JSONDict) -> OperationProgress:
        raise NotImplementedError(
            f"this action starts no asynchronous operations (asked about {operation_id!r})"
        )

    def cancel(self, operation_id: str, restore: JSONDict) -> None:
        """A no-op for actions without operations."""

    def are_additional_items_ready(
        self, additional_items: list[ResourceIdentifier], restore: JSONDict
    ) -> bool:
        """Whether the additional items returned by execute() are ready; True unless overridden."""
        return True


def _execute_one(
    action: RestoreItemAction, request: RestoreItemActionExecuteRequest
) -> RestoreItemActionExecuteResponse | Exception:
    try:
        return action.execute(request)
    except Exception as exc:  # one item's failure is its result, not the batch's
        return exc
