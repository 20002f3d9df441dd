"""Which sample objects an action's applies_to() selects, as a host would decide.

Resources match by plural, singular, short name or `plural.group`, `*` matches all; namespace filters
apply to namespaced objects only; `selector` is a Kubernetes label selector (equality- and set-based).
A selector this parser cannot read is reported, so a typo fails the check rather than matching nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from veloro_sdk.contracts import ResourceSelector
from veloro_sdk.testing.samples import Sample

Requirement = Callable[[dict[str, str]], bool]

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_SET_RE = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s+\(([^()]*)\)\s*$")
_EQ_RE = re.compile(rf"^\s*({_KEY})\s*(==|=|!=)\s*({_VALUE})\s*$")
_EXISTS_RE = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")
_VALUE_RE = re.compile(rf"^{_VALUE}$")


class SelectorSyntaxError(ValueError):
    """A label selector that is not valid Kubernetes syntax."""


def _split_requirements(selector: str) -> list[str]:
    """Split on commas that are not inside `( ... )`."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _requirement(text: str) -> Requirement:
    if match := _SET_RE.match(text):
        key, op = match.group(1), match.group(3)
        values = {v.strip() for v in match.group(4).split(",")}
        if not all(_VALUE_RE.match(v) for v in values):
            raise SelectorSyntaxError(f"invalid value in {text.strip()!r}")
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if match := _EQ_RE.match(text):
        key, op, value = match.group(1), match.group(3), match.group(4)
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if match := _EXISTS_RE.match(text):
        negate, key = match.group(1) == "!", match.group(2)
        return lambda labels: (key in labels) != negate
    raise SelectorSyntaxError(f"cannot parse label selector requirement {text.strip()!r}")


def parse_label_selector(selector: str) -> Requirement:
    """A predicate on a labels dict; the empty selector matches everything."""
    if not selector.strip():
        return lambda labels: True
    requirements = [_requirement(part) for part in _split_requirements(selector)]
    return lambda labels: all(req(labels) for req in requirements)


def _resource_names(sample: Sample) -> set[str]:
    names = {sample.resource, sample.kind.lower(), *sample.aliases}
    if sample.group:
        names |= {f"{name}.{sample.group}" for name in list(names)}
    return names


def _resource_selected(sample: Sample, sel: ResourceSelector) -> bool:
    names = _resource_names(sample)
    if any(r.lower() in names for r in sel.excluded_resources):
        return False
    included = [r.lower() for r in sel.included_resources]
    return not included or "*" in included or any(r in names for r in included)


def _namespace_selected(sample: Sample, sel: ResourceSelector) -> bool:
    if not sample.namespaced:
        return True
    namespace = sample.obj["metadata"]["namespace"]
    if namespace in sel.excluded_namespaces:
        return False
    included = sel.included_namespaces
    return not included or "*" in included or namespace in included


def selected_samples(sel: ResourceSelector, samples: list[Sample]) -> list[Sample]:
    """The samples a host would pass to the action."""
    labels_match = parse_label_selector(sel.selector)
    return [
        s
        for s in samples
        if _resource_selected(s, sel)
        and _namespace_selected(s, sel)
        and labels_match(s.obj["metadata"].get("labels") or {})
    ]


def check_selector(value: object) -> ResourceSelector:
    """Validate what applies_to() returned; raise AssertionError saying what is wrong."""
    if not isinstance(value, ResourceSelector):
        raise AssertionError(f"applies_to() returned {type(value).__name__}, expected ResourceSelector")
    for field_name in (
        "included_namespaces",
        "excluded_namespaces",
        "included_resources",
        "excluded_resources",
    ):
        items = getattr(value, field_name)
        if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
            raise AssertionError(
                f"applies_to().{field_name} must be a list of non-empty strings, got {items!r}"
            )
    if not isinstance(value.selector, str):
        raise AssertionError(f"applies_to().selector must be a string, got {type(value.selector).__name__}")
    try:
        parse_label_selector(value.selector)
    except SelectorSyntaxError as exc:
        raise AssertionError(
            f"applies_to().selector {value.selector!r} is not a label selector: {exc}"
        ) from exc
    return value
