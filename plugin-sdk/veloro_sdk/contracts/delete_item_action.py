"""DeleteItemAction: clean up external state of an object when its backup is deleted."""

from __future__ import annotations

import abc
from dataclasses import dataclass

from veloro_sdk.contracts.common import JSONDict, ResourceSelector


@dataclass
class DeleteItemActionExecuteRequest:
    item: JSONDict  # the object as stored in the backup
    backup: JSONDict  # the Backup being deleted


class DeleteItemAction(abc.ABC):
    """Served as `generated.DeleteItemAction`."""

    @abc.abstractmethod
    def applies_to(self) -> ResourceSelector:
        """Which objects of a backup this action runs on."""

    @abc.abstractmethod
    def execute(self, request: DeleteItemActionExecuteRequest) -> None:
        """Run on one object of the backup being deleted."""
