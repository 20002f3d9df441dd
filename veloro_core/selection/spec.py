"""The selection part of a Backup or Restore spec, parsed and validated in one go.

`SpecSelection.parse(spec)` never raises: every problem (bad namespace pattern, mixed filters, a
selector that does not parse, labelSelector together with orLabelSelectors) is listed in `problems`, so
the engine can report them all at once as FailedValidation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from veloro_core.selection.errors import SelectorError
from veloro_core.selection.includes import IncludesExcludes, validate_namespaces
from veloro_core.selection.labels import EVERYTHING, LabelSelector, selector_from_dict
from veloro_core.selection.resource_filter import RawResourceFilters, ResourceFilter
from veloro_core.selection.resources import ResourceIndex

BOTH_SELECTORS = (
    "labelSelector and orLabelSelectors are both set; only one can be specified - use orLabelSelectors "
    "alone to select the union of several selectors"
)


def _string_list(spec: Mapping[str, Any], key: str, problems: list[str]) -> list[str]:
    value = spec.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{key} must be a list of strings")
        return []
    return list(value)


@dataclass
class SpecSelection:
    namespaces: IncludesExcludes
    resources: RawResourceFilters
    label_selector: LabelSelector | None = None
    or_label_selectors: tuple[LabelSelector, ...] = ()
    problems: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, spec: Mapping[str, Any], *, scoped_filters: bool = True) -> SpecSelection:
        """Parse a Backup (scoped_filters=True) or Restore spec dict; problems are collected."""
        problems: list[str] = []
        inc = _string_list(spec, "includedNamespaces", problems)
        exc = _string_list(spec, "excludedNamespaces", problems)
        problems.extend(validate_namespaces(inc, exc))
        resources = RawResourceFilters.from_spec(spec, problems, scoped=scoped_filters)
        label_selector: LabelSelector | None = None
        if spec.get("labelSelector") is not None:
            try:
                label_selector = selector_from_dict(spec.get("labelSelector"), "labelSelector")
            except SelectorError as exc_:
                problems.append(str(exc_))
        ors: list[LabelSelector] = []
        raw_ors = spec.get("orLabelSelectors") or []
        if not isinstance(raw_ors, list):
            problems.append("orLabelSelectors must be a list of label selectors")
            raw_ors = []
        for i, raw in enumerate(raw_ors):
            try:
                ors.append(selector_from_dict(raw, f"orLabelSelectors[{i}]"))
            except SelectorError as exc_:
                problems.append(str(exc_))
        if spec.get("labelSelector") is not None and raw_ors:
            problems.append(BOTH_SELECTORS)
        return cls(IncludesExcludes.of(inc, exc, globs=True), resources, label_selector, tuple(ors), problems)

    def list_selectors(self) -> list[LabelSelector]:
        """One list call per selector: the labelSelector, each orLabelSelector, or one unfiltered list."""
        if self.or_label_selectors:
            return list(self.or_label_selectors)
        return [self.label_selector or EVERYTHING]

    def labels_match(self, labels: Mapping[str, str] | None) -> bool:
        if self.or_label_selectors:
            return any(sel.matches(labels) for sel in self.or_label_selectors)
        return self.label_selector is None or self.label_selector.matches(labels)

    def resource_filter(self, index: ResourceIndex) -> ResourceFilter:
        return ResourceFilter(self.resources, index, self.namespaces)
