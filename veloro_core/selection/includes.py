"""Include/exclude lists with Velero's semantics and validation rules.

Empty includes (or exactly `*`) mean everything; an exclude always wins. Namespaces may use glob
patterns (`*`, `?`, `[...]`); resource names are resolved to `resource.group` before they get here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

_GLOB_CHARS = frozenset("*?[")
_NAMESPACE_PATTERN = re.compile(r"^[a-z0-9*?\[\]\-!^]([-a-z0-9*?\[\]!^]*)?$")


def is_pattern(value: str) -> bool:
    return any(ch in _GLOB_CHARS for ch in value)


@dataclass(frozen=True)
class IncludesExcludes:
    """A compiled include/exclude pair; `globs` enables shell-style patterns (namespaces)."""

    includes: frozenset[str] = frozenset()
    excludes: frozenset[str] = frozenset()
    globs: bool = False

    @classmethod
    def of(cls, includes: Iterable[str] | None, excludes: Iterable[str] | None, *, globs: bool = False
           ) -> IncludesExcludes:
        return cls(frozenset(includes or ()), frozenset(excludes or ()), globs)

    @property
    def include_everything(self) -> bool:
        """Nothing excluded and everything included (Velero's IncludeEverything)."""
        return not self.excludes and (not self.includes or self.includes == {"*"})

    @property
    def includes_all(self) -> bool:
        return not self.includes or "*" in self.includes

    def _has(self, values: frozenset[str], item: str) -> bool:
        if item in values:
            return True
        return self.globs and any(is_pattern(v) and fnmatchcase(item, v) for v in values)

    def should_include(self, item: str) -> bool:
        if "*" in self.excludes or self._has(self.excludes, item):
            return False
        return self.includes_all or self._has(self.includes, item)

    def excluded(self, item: str) -> bool:
        """Explicitly excluded (by name, pattern or `*`)."""
        return "*" in self.excludes or self._has(self.excludes, item)

    def concrete_includes(self) -> frozenset[str] | None:
        """The included names when they are a finite list without patterns, else None."""
        if self.includes_all or (self.globs and any(is_pattern(v) for v in self.includes)):
            return None
        return self.includes


def validate_includes_excludes(includes: Sequence[str], excludes: Sequence[str], what: str) -> list[str]:
    """Velero's rules for the old filters and namespaces: `*` alone; never excluded; no item in both."""
    problems: list[str] = []
    inc, exc = set(includes), set(excludes)
    if len(inc) > 1 and "*" in inc:
        problems.append(f"included {what} list must either contain '*' only, or a non-empty list of items")
    if "*" in exc:
        problems.append(f"excluded {what} list cannot contain '*'")
    problems.extend(
        f"excluded {what} list cannot contain an item in the included list: {item}"
        for item in sorted(exc & inc)
    )
    return problems


def validate_scoped_includes_excludes(includes: Sequence[str], excludes: Sequence[str], what: str
                                      ) -> list[str]:
    """Rules of the newer cluster/namespace-scoped filters, where excluding `*` is allowed alone."""
    problems: list[str] = []
    inc, exc = set(includes), set(excludes)
    if len(inc) > 1 and "*" in inc:
        problems.append(f"included {what} list must either contain '*' only, or a non-empty list of items")
    if len(exc) > 1 and "*" in exc:
        problems.append(f"excluded {what} list must either contain '*' only, or a non-empty list of items")
    if inc and "*" in exc:
        problems.append(f"when excluded {what} is '*', included {what} cannot have a value")
    problems.extend(
        f"excluded {what} list cannot contain an item in the included list: {item}"
        for item in sorted(exc & inc)
    )
    return problems


def validate_namespaces(includes: Sequence[str], excludes: Sequence[str]) -> list[str]:
    """Namespace lists: the include/exclude rules plus each entry a namespace name or a glob pattern."""
    problems = validate_includes_excludes(includes, excludes, "namespaces")
    for value in [*includes, *excludes]:
        if value == "*":
            continue
        if not isinstance(value, str) or not value or len(value) > 63 or not _NAMESPACE_PATTERN.match(value):
            problems.append(
                f"invalid namespace {value!r}: use a namespace name (lowercase letters, digits, '-') "
                "or a glob pattern with '*', '?' or '[...]'"
            )
        elif is_pattern(value) and not _valid_glob(value):
            problems.append(f"invalid namespace pattern {value!r}: unbalanced '[' or ']'")
    return problems


def _valid_glob(value: str) -> bool:
    depth = 0
    for ch in value:
        if ch == "[":
            if depth:
                return False
            depth = 1
        elif ch == "]":
            if not depth:
                return False
            depth = 0
    return depth == 0
