"""BackupItemAction (v1 and v2): change a Kubernetes object as it is backed up, add related objects."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field

from veloro_sdk.contracts.common import JSONDict, OperationProgress, ResourceIdentifier, ResourceSelector


@dataclass
class BackupItemActionExecuteRequest:
    item: JSONDict  # the object as read from the API (JSON dict)
    backup: JSONDict  # the Backup custom resource


@dataclass
class BackupItemActionExecuteResponse:
    """`item` None means unchanged. v1 actions leave operation_id and post_operation_items empty."""

    item: JSONDict | None = None
    additional_items: list[ResourceIdentifier] = field(default_factory=list)
    operation_id: str = ""
    post_operation_items: list[ResourceIdentifier] = field(default_factory=list)


class BackupItemAction(abc.ABC):
    """v1: synchronous. Served as `generated.BackupItemAction`."""

    @abc.abstractmethod
    def applies_to(self) -> ResourceSelector:
        """Which objects this action runs on (evaluated once, on the host)."""

    @abc.abstractmethod
    def execute(self, request: BackupItemActionExecuteRequest) -> BackupItemActionExecuteResponse:
        """Run on one object."""

    def execute_batch(
        self, requests: list[BackupItemActionExecuteRequest]
    ) -> list[BackupItemActionExecuteResponse | Exception]:
        """Run on many objects: one result per request, in order; a failed item's result is its exception
        (the other items go on). The default calls execute() per item; override it when an action can do
        a group faster (one lookup for all items). Over gRPC the whole list travels in one call."""
        return [_execute_one(self, request) for request in requests]


class BackupItemActionV2(BackupItemAction):
    """v2: may start an asynchronous operation, polled with progress(). Served as `v2.BackupItemAction`."""

    def progress(self, operation_id: str, backup: JSONDict) -> OperationProgress:
        """Progress of an operation started by execute(). Actions without operations need not override."""
        raise NotImplementedError(
            f"this action starts no asynchronous operations (asked about {operation_id!r})"
        )

    def cancel(self, operation_id: str, backup: JSONDict) -> None:
        """Cancel an operation started by execute(); a no-op for actions without operations."""


def _execute_one(
    action: BackupItemAction, request: BackupItemActionExecuteRequest
) -> BackupItemActionExecuteResponse | Exception:
    try:
        return action.execute(request)
    except Exception as exc:  # one item's failure is its result, not the batch's
        return exc
