"""ItemBlockAction: name the objects that must be backed up together with an object."""

from __future__ import annotations

import abc
from dataclasses import dataclass

from veloro_sdk.contracts.common import JSONDict, ResourceIdentifier, ResourceSelector


@dataclass
class ItemBlockActionRequest:
    item: JSONDict
    backup: JSONDict


class ItemBlockAction(abc.ABC):
    """Served as `v1.ItemBlockAction`."""

    @abc.abstractmethod
    def applies_to(self) -> ResourceSelector:
        """Which objects this action runs on."""

    @abc.abstractmethod
    def get_related_items(self, request: ItemBlockActionRequest) -> list[ResourceIdentifier]:
        """Objects that belong in the same block as `request.item`."""
