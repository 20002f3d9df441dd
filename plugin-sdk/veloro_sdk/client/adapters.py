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


class BackupItemActionV1ToV2(BackupItemActionV2):
    """Wraps a v1 BackupItemAction; progress() raises (no operations), cancel() is a no-op."""

    def __init__(self, inner: BackupItemAction) -> None:
        self.inner = inner

    def applies_to(self) -> ResourceSelector:
        return self.inner.applies_to()

    def execute(self, request: BackupItemActionExecuteRequest) -> BackupItemActionExecuteResponse:
        resp = self.inner.execute(request)
        # a v1 action cannot start an operation, whatever its response object carries
        return BackupItemActionExecuteResponse(item=resp.item, additional_items=resp.additional_items)

    def __repr__(self) -> str:
        return f"BackupItemActionV1ToV2({self.inner!r})"


class RestoreItemActionV1ToV2(RestoreItemActionV2):
    """Wraps a v1 RestoreItemAction; additional items are always ready, no operations."""

    def __init__(self, inner: RestoreItemAction) -> None:
        self.inner = inner

    def applies_to(self) -> ResourceSelector:
        return self.inner.applies_to()

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        resp = self.inner.execute(request)
        return RestoreItemActionExecuteResponse(
            item=resp.item, additional_items=resp.additional_items, skip_restore=resp.skip_restore
        )

    def __repr__(self) -> str:
        return f"RestoreItemActionV1ToV2({self.inner!r})"


def backup_action_as_v2(action: BackupItemAction) -> BackupItemActionV2:
    return action if isinstance(action, BackupItemActionV2) else BackupItemActionV1ToV2(action)


def restore_action_as_v2(action: RestoreItemAction) -> RestoreItemActionV2:
    return action if isinstance(action, RestoreItemActionV2) else RestoreItemActionV1ToV2(action)
