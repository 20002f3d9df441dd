"""The backup item actions of one run: fetched from the plugin manager, AppliesTo asked once per action
and compiled against discovery, then matched on the host for every item (no plugin call for items an
action does not apply to)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from veloro_sdk.contracts import BackupItemActionV2

from veloro_core.plugins import PluginManager
from veloro_core.selection import ActionMatcher, ResourceIndex, SelectorError


class ActionSetupError(Exception):
    """An action's AppliesTo could not be read; the backup cannot say which items it must change."""


@dataclass(frozen=True)
class ResolvedAction:
    name: str
    action: BackupItemActionV2
    matcher: ActionMatcher


class ActionSet:
    def __init__(self, actions: list[ResolvedAction]) -> None:
        self.actions = actions
        self._by_resource: dict[str, list[ResolvedAction]] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, plugins: PluginManager | None, index: ResourceIndex) -> tuple[ActionSet, list[str]]:
        """Resolve every action; returns the set and warnings (AppliesTo names discovery does not know)."""
        if plugins is None:
            return cls([]), []
        resolved: list[ResolvedAction] = []
        warnings: list[str] = []
        for name, action in plugins.backup_item_actions():
            try:
                selector = action.applies_to()
                matcher = ActionMatcher.compile(selector, index, action=name)
            except SelectorError as exc:
                raise ActionSetupError(str(exc)) from exc
            except Exception as exc:
                raise ActionSetupError(
                    f"backup item action {name!r}: AppliesTo failed: {exc}; check that its plugin "
                    "starts (veloro plugin list) or remove it"
                ) from exc
            warnings.extend(
                f"backup item action {name!r} applies to resource {r!r}, which the cluster does not serve"
                for r in matcher.unresolved
            )
            resolved.append(ResolvedAction(name, action, matcher))
        return cls(resolved), warnings

    def for_resource(self, group_resource: str) -> list[ResolvedAction]:
        """Actions whose resource part matches (cached per group-resource)."""
        found = self._by_resource.get(group_resource)
        if found is None:
            found = [a for a in self.actions if a.matcher.applies_to_resource(group_resource)]
            with self._lock:
                self._by_resource[group_resource] = found
        return found
