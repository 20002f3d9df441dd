"""Parsing of flag values shared by the create commands: lists, KEY=VALUE maps, durations, label
selectors, namespace mappings, ordered resources.

Each bad value raises click.BadParameter (a usage error: exit 2 with a one-line message), either from a
click ParamType at parse time or from the helpers called by the commands.
"""

from __future__ import annotations

import re
from typing import Any

import click

from veloro_core.api import (
    Duration,
    DurationError,
    LabelSelector,
    LabelSelectorOperator,
    LabelSelectorRequirement,
)

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


class DurationType(click.ParamType):  # type: ignore[type-arg]
    """A Go duration ("720h", "1h30m", "10m0s")."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Duration:
        if isinstance(value, Duration):
            return value
        try:
            duration = Duration.parse(str(value))
        except DurationError as exc:
            self.fail(f"{value!r} is not a duration like 720h, 1h30m or 90s ({exc})", param, ctx)
        if duration.nanoseconds < 0:
            self.fail(f"{value!r} is negative", param, ctx)
        return duration


DURATION = DurationType()


def split_list(values: tuple[str, ...] | list[str]) -> list[str]:
    """`--x a,b --x c` -> [a, b, c] (repeatable and comma-separated, as Velero's string arrays)."""
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def _split_pairs(value: str) -> list[str]:
    """`a=1,b=2` is two pairs; `a=x,y` (no '=' after the comma) keeps the comma in the value."""
    pairs: list[str] = []
    for part in value.split(","):
        if pairs and "=" not in part:
            pairs[-1] += "," + part
        else:
            pairs.append(part)
    return pairs


def parse_key_values(values: tuple[str, ...], flag: str, *, labels: bool = False) -> dict[str, str]:
    """`--labels a=b,c=d` (repeatable) -> {a: b, c: d}; with `labels`, keys/values must be valid labels."""
    result: dict[str, str] = {}
    for value in values:
        for item in _split_pairs(value):
            key, sep, val = item.partition("=")
            key = key.strip()
            if not sep or not key:
                raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint=f"'{flag}'")
            if labels and not (_LABEL_KEY.match(key) and _LABEL_VALUE.match(val)):
                raise click.BadParameter(f"{item!r} is not a valid label KEY=VALUE", param_hint=f"'{flag}'")
            result[key] = val
    return result


def parse_namespace_mappings(value: str | None) -> dict[str, str]:
    """`src:dst,src2:dst2` -> {src: dst, src2: dst2}; each side a namespace name, each source once."""
    mapping: dict[str, str] = {}
    if not value:
        return mapping
    for item in value.split(","):
        source, sep, target = (part.strip() for part in item.partition(":"))
        if not sep or not source or not target:
            raise click.BadParameter(
                f"{item.strip()!r} is not SOURCE:TARGET (e.g. prod:staging,web:web-copy)",
                param_hint="'--namespace-mappings'",
            )
        for name in (source, target):
            if not _DNS_LABEL.match(name):
                raise click.BadParameter(
                    f"{name!r} is not a valid namespace name", param_hint="'--namespace-mappings'"
                )
        if source in mapping:
            raise click.BadParameter(
                f"namespace {source!r} is mapped twice", param_hint="'--namespace-mappings'"
            )
        mapping[source] = target
    return mapping


def parse_ordered_resources(value: str | None) -> dict[str, str]:
    """Velero's `pods=ns1/a,ns1/b;persistentvolumeclaims=ns1/c` -> {pods: "ns1/a,ns1/b", ...}."""
    ordered: dict[str, str] = {}
    if not value:
        return ordered
    for item in value.split(";"):
        if not item.strip():
            continue
        kind, sep, names = (part.strip() for part in item.partition("="))
        if not sep or not kind or not names:
            raise click.BadParameter(
                f"{item.strip()!r} is not RESOURCE=ns/name,ns/name (entries separated by ';')",
                param_hint="'--ordered-resources'",
            )
        ordered[kind] = names
    return ordered


# ---- label selectors -------------------------------------------------------------------------------
_SET_OP = re.compile(r"^(?P<key>\S+)\s+(?P<op>in|notin)\s*\((?P<values>[^)]*)\)$")


def _split_requirements(text: str) -> list[str]:
    """Split on commas outside parentheses: `a in (x,y),b=c` -> [`a in (x,y)`, `b=c`]."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [part.strip() for part in parts]


def _requirement(text: str, selector: LabelSelector, flag: str) -> None:
    def bad(why: str) -> click.BadParameter:
        return click.BadParameter(f"{text!r} {why}", param_hint=f"'{flag}'")

    match = _SET_OP.match(text)
    if match:
        values = sorted(v.strip() for v in match["values"].split(",") if v.strip())
        if not values:
            raise bad("needs at least one value in the parentheses")
        op = LabelSelectorOperator.IN if match["op"] == "in" else LabelSelectorOperator.NOT_IN
        key = match["key"]
        requirement = LabelSelectorRequirement(key=key, operator=op, values=values)
    elif "!=" in text:
        key, value = (part.strip() for part in text.split("!=", 1))
        requirement = LabelSelectorRequirement(key=key, operator=LabelSelectorOperator.NOT_IN, values=[value])
    elif "=" in text:
        key, value = (part.strip() for part in text.replace("==", "=", 1).split("=", 1))
        if not _LABEL_KEY.match(key) or not _LABEL_VALUE.match(value):
            raise bad("is not a valid label requirement (key=value)")
        selector.match_labels[key] = value
        return
    elif text.startswith("!"):
        key = text[1:].strip()
        requirement = LabelSelectorRequirement(key=key, operator=LabelSelectorOperator.DOES_NOT_EXIST)
    else:
        key = text
        requirement = LabelSelectorRequirement(key=key, operator=LabelSelectorOperator.EXISTS)
    if not _LABEL_KEY.match(key) or not all(_LABEL_VALUE.match(v) for v in requirement.values):
        raise bad("is not a valid label requirement (key=value, key!=value, key in (a,b), key, !key)")
    selector.match_expressions.append(requirement)


def parse_label_selector(text: str | None, flag: str = "--selector") -> LabelSelector | None:
    """A kubectl label selector (`app=web,tier!=db,env in (a,b),!legacy`) as a metav1.LabelSelector."""
    if text is None or not text.strip():
        return None
    selector = LabelSelector()
    for part in _split_requirements(text):
        if not part:
            raise click.BadParameter(f"{text!r} has an empty requirement", param_hint=f"'{flag}'")
        _requirement(part, selector, flag)
    return selector


def parse_or_selectors(text: str | None) -> list[LabelSelector]:
    """`--or-selector "a=b or c=d"`: one selector per alternative (Velero's orLabelSelectors)."""
    if text is None or not text.strip():
        return []
    selectors = []
    for part in re.split(r"\s+or\s+", text.strip()):
        selector = parse_label_selector(part, "--or-selector")
        if selector is None:
            raise click.BadParameter(f"{text!r} has an empty alternative", param_hint="'--or-selector'")
        selectors.append(selector)
    return selectors


def format_label_selector(selector: LabelSelector | None) -> str:
    """The kubectl spelling of a selector ("<none>" when there is none)."""
    if selector is None or not (selector.match_labels or selector.match_expressions):
        return "<none>"
    parts = [f"{key}={value}" for key, value in sorted(selector.match_labels.items())]
    for req in selector.match_expressions:
        op = req.operator
        if op is LabelSelectorOperator.EXISTS:
            parts.append(req.key)
        elif op is LabelSelectorOperator.DOES_NOT_EXIST:
            parts.append(f"!{req.key}")
        else:
            parts.append(
                f"{req.key} {'in' if op is LabelSelectorOperator.IN else 'notin'} ({','.join(req.values)})"
            )
    return ",".join(parts)
