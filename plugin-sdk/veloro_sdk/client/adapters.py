"""v1 actions used where v2 is expected: the engines only speak v2; a v1 action never starts operations."""

from __future__ import annotations

from veloro_sdk.contracts.backup_item_action import (
    BackupItemAction,
    BackupItemActionExecuteRequest,
    BackupItemActionExecuteResponse,
    BackupItemActionV2,
)
from veloro_sdk.contracts.common import ResourceSelector
from veloro_sdk.contracts.restore_item_action import (
    RestoreItemAction,
    RestoreItemActionExecuteRequest,
    RestoreItemActionExecuteResponse,
    RestoreItemActionV2,
)


def _v1_backup(resp: BackupItemActionExecuteResponse) -> BackupItemActionExecuteResponse:
    # a v1 action cannot start an operation, whatever its response object carries
    return BackupItemActionExecuteResponse(item=resp.item, additional_items=resp.additional_items)


def _v1_restore(resp: RestoreItemActionExecuteResponse) -> RestoreItemActionExecuteResponse:
    return RestoreItemActionExecuteResponse(
        item=resp.item, additional_items=resp.additional_items, skip_restore=resp.skip_restore
    )


class BackupItemActionV1ToV2(BackupItemActionV2):
    """Wraps a v1 BackupItemAction; progress() raises (no operations), cancel() is a no-op."""

    def __init__(self, inner: BackupItemAction) -> None:
        self.inner = inner

    def applies_to(self) -> ResourceSelector:
        return self.inner.applies_to()

    def execute(self, request: BackupItemActionExecuteRequest) -> BackupItemActionExecuteResponse:
        return _v1_backup(self.inner.execute(request))

    def execute_batch(
        self, requests: list[BackupItemActionExecuteRequest]
    ) -> list[BackupItemActionExecuteResponse | Exception]:
        # passed through, so a v1 plugin's items still travel in batches
        return [
            r if isinstance(r, Exception) else _v1_backup(r) for r in self.inner.execute_batch(requests)
        ]

    def __repr__(self) -> str:
        return f"BackupItemActionV1ToV2({self.inner!r})"


class RestoreItemActionV1ToV2(RestoreItemActionV2):
    """Wraps a v1 RestoreItemAction; additional items are always ready, no operations."""

    def __init__(self, inner: RestoreItemAction) -> None:
        self.inner = inner

    def applies_to(self) -> ResourceSelector:
        return self.inner.applies_to()

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        return _v1_restore(self.inner.execute(request))

    def execute_batch(
        self, requests: list[RestoreItemActionExecuteRequest]
    ) -> list[RestoreItemActionExecuteResponse | Exception]:
        return [
            r if isinstance(r, Exception) else _v1_restore(r) for r in self.inner.execute_batch(requests)
        ]

    def __repr__(self) -> str:
        return f"RestoreItemActionV1ToV2({self.inner!r})"


def backup_action_as_v2(action: BackupItemAction) -> BackupItemActionV2:
    return action if isinstance(action, BackupItemActionV2) else BackupItemActionV1ToV2(action)


def restore_action_as_v2(action: RestoreItemAction) -> RestoreItemActionV2:
    return action if isinstance(action, RestoreItemActionV2) else RestoreItemActionV1ToV2(action)
