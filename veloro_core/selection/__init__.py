"""Selection shared by the backup and restore engines and by action matching.

- namespaces: IncludesExcludes (globs, empty = all) and validate_namespaces;
- resources: ResourceInfo/ResourceIndex (names resolved through discovery), RawResourceFilters (old and
  new filters, with validation) and ResourceFilter (should_include / should_exclude);
- labels: parse_selector (string form), selector_from_dict (metav1.LabelSelector), LabelSelector.matches;
- SpecSelection: the whole selection of a Backup/Restore spec, every problem listed;
- ActionMatcher: an action's AppliesTo compiled once and matched per item;
- excluded_by_label: veloro.io/ and velero.io/exclude-from-backup.
"""

from veloro_core.selection.applies_to import ActionMatcher
from veloro_core.selection.errors import SelectorError
from veloro_core.selection.exclusion import EXCLUDE_LABELS, excluded_by_label
from veloro_core.selection.includes import (
    IncludesExcludes,
    validate_includes_excludes,
    validate_namespaces,
    validate_scoped_includes_excludes,
)
from veloro_core.selection.labels import (
    EVERYTHING,
    LabelSelector,
    Requirement,
    matches_any,
    parse_selector,
    selector_from_dict,
)
from veloro_core.selection.resource_filter import MIXED_FILTERS, RawResourceFilters, ResourceFilter
from veloro_core.selection.resources import ResourceIndex, ResourceInfo
from veloro_core.selection.spec import BOTH_SELECTORS, SpecSelection

__all__ = [
    "BOTH_SELECTORS",
    "EVERYTHING",
    "EXCLUDE_LABELS",
    "MIXED_FILTERS",
    "ActionMatcher",
    "IncludesExcludes",
    "LabelSelector",
    "RawResourceFilters",
    "Requirement",
    "ResourceFilter",
    "ResourceIndex",
    "ResourceInfo",
    "SelectorError",
    "SpecSelection",
    "excluded_by_label",
    "matches_any",
    "parse_selector",
    "selector_from_dict",
    "validate_includes_excludes",
    "validate_namespaces",
    "validate_scoped_includes_excludes",
]
