"""Matching an action's AppliesTo (a veloro_sdk ResourceSelector) against an item, on the host.

The selector is compiled once per action per backup/restore (resource names resolved through discovery,
the label selector parsed), so per item the check is a few set lookups - no plugin call is made for
items an action does not apply to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from veloro_sdk.contracts import ResourceSelector

from veloro_core.selection.errors import SelectorError
from veloro_core.selection.includes import IncludesExcludes
from veloro_core.selection.labels import LabelSelector, parse_selector
from veloro_core.selection.resources import ResourceIndex


@dataclass(frozen=True)
class ActionMatcher:
    """A compiled AppliesTo. `unresolved` lists resource names discovery did not know (warnings)."""

    resources: IncludesExcludes
    namespaces: IncludesExcludes
    selector: LabelSelector
    unresolved: tuple[str, ...] = ()

    @classmethod
    def compile(
        cls, applies_to: ResourceSelector, index: ResourceIndex, *, action: str = ""
    ) -> ActionMatcher:
        """Raises SelectorError (naming the action) if its label selector does not parse."""
        unresolved: list[str] = []

        def resolve(names: list[str]) -> list[str]:
            out: list[str] = []
            for name in names:
                if name == "*":
                    out.append(name)
                    continue
                gr = index.resolve_group_resource(name)
                if gr is None:
                    unresolved.append(name)
                    out.append(name)  # kept: an unknown include must not widen to "everything"
                else:
                    out.append(gr)
            return out

        try:
            selector = parse_selector(applies_to.selector)
        except SelectorError as exc:
            raise SelectorError(f"action {action!r} has an invalid AppliesTo selector: {exc}") from exc
        included = resolve(applies_to.included_resources)
        excluded = resolve(applies_to.excluded_resources)
        return cls(
            IncludesExcludes.of(included, excluded),
            IncludesExcludes.of(applies_to.included_namespaces, applies_to.excluded_namespaces, globs=True),
            selector,
            tuple(unresolved),
        )

    def applies_to_resource(self, group_resource: str) -> bool:
        """The resource part alone (lets an engine skip label checks for whole resource types)."""
        return self.resources.should_include(group_resource)

    def matches(self, group_resource: str, namespace: str, labels: Mapping[str, str] | None) -> bool:
        """Velero's rule: resource included; a namespaced item's namespace included; a cluster-scoped
        item only if the action does not restrict namespaces; labels match the selector."""
        if not self.resources.should_include(group_resource):
            return False
        if namespace:
            if not self.namespaces.should_include(namespace):
                return False
        elif not self.namespaces.include_everything:
            return False
        return self.selector.matches(labels)
