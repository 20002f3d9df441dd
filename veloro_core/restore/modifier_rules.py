"""Parsing and validation of a resource modifiers document (version v1) into compiled rules.

Every problem is listed (the Restore fails validation with all of them), with its place in the document,
e.g. `resourceModifierRules[1].patches[0]: unsupported operation 'rename'`. Unknown fields are problems,
as Velero reads the document strictly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
import yaml

from veloro_core.restore.jsonpatch import OPERATIONS, PatchError, parse_pointer
from veloro_core.selection import IncludesExcludes, LabelSelector, SelectorError, selector_from_dict

VERSION = "v1"
_NUMBER = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")
_RULE_KEYS = {"conditions", "patches", "mergePatches", "strategicPatches"}
_CONDITION_KEYS = {"groupResource", "resourceNameRegex", "namespaces", "labelSelector", "matches"}


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps dates as strings (Kubernetes' YAML reading has no timestamp type)."""


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class Conditions:
    group_resource: re.Pattern[str]
    namespaces: IncludesExcludes
    name_regex: re.Pattern[str] | None = None
    selector: LabelSelector | None = None
    matches: tuple[tuple[str, Any], ...] = ()  # (JSON pointer, expected value)


@dataclass(frozen=True)
class Rule:
    where: str  # "resourceModifierRules[i]", for messages
    conditions: Conditions
    json_ops: tuple[dict[str, Any], ...] = ()
    merge_patches: tuple[Any, ...] = ()
    strategic_patches: tuple[Any, ...] = ()


class GlobError(ValueError):
    pass


def compile_glob(pattern: str) -> re.Pattern[str]:
    """A groupResource glob with '.' as separator: `*` and `?` stay within one dot-separated part, `**`
    crosses parts, `[a-z]`/`[!a]` classes, `{a,b}` alternatives, `\\` escapes. Raises GlobError."""
    return re.compile(f"^{_glob_regex(pattern)}$")


def _glob_regex(pattern: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            double = pattern.startswith("**", i)
            out.append(".*" if double else "[^.]*")
            i += 2 if double else 1
            continue
        if ch == "?":
            out.append("[^.]")
        elif ch == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                raise GlobError(f"glob {pattern!r} has an unclosed '['")
            body = pattern[i + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            out.append("[" + ("^" if negate else "") + re.sub(r"([\\\[\]^])", r"\\\1", body) + "]")
            i = end
        elif ch == "{":
            end = pattern.find("}", i)
            if end < 0:
                raise GlobError(f"glob {pattern!r} has an unclosed '{{'")
            out.append("(?:" + "|".join(_glob_regex(alt) for alt in pattern[i + 1 : end].split(",")) + ")")
            i = end
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


def load_document(text: str) -> Any:
    """JSON or YAML text as plain JSON values. Raises ValueError."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML or JSON: {exc}") from exc


def patch_value(raw: Any) -> Any:
    """A patch/match `value` as Velero reads it: a string is JSON when it looks like a JSON number,
    boolean, null, object or array ("\\"5\\"" forces the string "5"); anything else is a string. YAML values
    that are not strings (numbers, maps...) are taken as they are."""
    if not isinstance(raw, str):
        return raw
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return raw[1:-1]
    if raw == "null":
        return None
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    if raw[:1] in ("{", "["):
        return load_document(raw)
    if _NUMBER.match(raw):
        return orjson.loads(raw)
    return raw


def _unknown(data: dict[str, Any], allowed: set[str], where: str, problems: list[str]) -> None:
    for key in sorted(set(data) - allowed):
        problems.append(f"{where}: unknown field {key!r} (allowed: {', '.join(sorted(allowed))})")


def _pointer(value: Any, where: str, problems: list[str]) -> str | None:
    if not isinstance(value, str) or not value:
        problems.append(f"{where} is required (a JSON pointer such as /spec/replicas)")
        return None
    try:
        parse_pointer(value)
    except PatchError as exc:
        problems.append(f"{where}: {exc}")
        return None
    return value


def _list(data: dict[str, Any], key: str, where: str, problems: list[str]) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(f"{where}.{key} must be a list")
        return []
    return value


def _json_op(raw: Any, where: str, problems: list[str]) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        problems.append(f"{where} must be a map with operation, path, from and value")
        return None
    _unknown(raw, {"operation", "path", "from", "value"}, where, problems)
    operation = str(raw.get("operation") or "").lower()
    if operation not in OPERATIONS:
        what = f"unsupported operation {raw.get('operation')!r}" if operation else "operation is required"
        problems.append(f"{where}: {what} (use one of {', '.join(OPERATIONS)})")
        return None
    path = _pointer(raw.get("path"), f"{where}.path", problems)
    op: dict[str, Any] = {"op": operation, "path": path}
    if operation in ("move", "copy"):
        op["from"] = _pointer(raw.get("from"), f"{where}.from", problems)
    elif operation != "remove":
        try:
            op["value"] = patch_value(raw.get("value", ""))  # Velero: a missing value is ""
        except ValueError as exc:
            problems.append(f"{where}.value: {exc}")
    return op if path is not None and op.get("from", "") is not None else None


def _patch_docs(rule: dict[str, Any], key: str, where: str, problems: list[str]) -> list[Any]:
    docs = []
    for i, raw in enumerate(_list(rule, key, where, problems)):
        here = f"{where}.{key}[{i}]"
        if not isinstance(raw, dict):
            problems.append(f"{here} must be a map with patchData")
            continue
        _unknown(raw, {"patchData"}, here, problems)
        data = raw.get("patchData")
        try:
            doc = load_document(data) if isinstance(data, str) else data
        except ValueError as exc:
            problems.append(f"{here}.patchData: {exc}")
            continue
        if not isinstance(doc, dict):
            problems.append(f"{here}.patchData must be a map (a partial object)")
            continue
        docs.append(doc)
    return docs


def _matches(cond: dict[str, Any], where: str, problems: list[str]) -> tuple[tuple[str, Any], ...]:
    out = []
    for i, raw in enumerate(_list(cond, "matches", where, problems)):
        here = f"{where}.matches[{i}]"
        if not isinstance(raw, dict):
            problems.append(f"{here} must be a map with path and value")
            continue
        _unknown(raw, {"path", "value"}, here, problems)
        pointer = _pointer(raw.get("path"), f"{here}.path", problems)
        try:
            value = patch_value(raw.get("value", ""))
        except ValueError as exc:
            problems.append(f"{here}.value: {exc}")
            continue
        if pointer is not None:
            out.append((pointer, value))
    return tuple(out)


def _conditions(raw: Any, where: str, problems: list[str]) -> Conditions | None:
    where = f"{where}.conditions"
    if not isinstance(raw, dict):
        problems.append(f"{where} is required (at least groupResource)")
        return None
    _unknown(raw, _CONDITION_KEYS, where, problems)
    before = len(problems)
    gr, glob = str(raw.get("groupResource") or ""), None
    if not gr:
        problems.append(f"{where}.groupResource is required (e.g. persistentvolumeclaims, deployments.apps)")
    else:
        try:
            glob = compile_glob(gr)
        except (GlobError, re.error) as exc:
            problems.append(f"{where}.groupResource: invalid glob: {exc}")
    name_regex = None
    if raw.get("resourceNameRegex"):
        try:
            name_regex = re.compile(str(raw["resourceNameRegex"]))
        except re.error as exc:
            problems.append(f"{where}.resourceNameRegex {raw['resourceNameRegex']!r} is not a regex: {exc}")
    selector = None
    if raw.get("labelSelector") is not None:
        try:
            selector = selector_from_dict(raw["labelSelector"], f"{where}.labelSelector")
        except SelectorError as exc:
            problems.append(str(exc))
    namespaces = [str(n) for n in _list(raw, "namespaces", where, problems)]
    matches = _matches(raw, where, problems)
    if glob is None or len(problems) > before:
        return None
    return Conditions(glob, IncludesExcludes.of(namespaces, None, globs=True), name_regex, selector, matches)


def _rule(raw: Any, where: str, problems: list[str]) -> Rule | None:
    if not isinstance(raw, dict):
        problems.append(f"{where} must be a map with conditions and patches")
        return None
    _unknown(raw, _RULE_KEYS, where, problems)
    before = len(problems)
    conditions = _conditions(raw.get("conditions"), where, problems)
    kinds = [k for k in ("patches", "mergePatches", "strategicPatches") if raw.get(k)]
    if len(kinds) > 1:
        problems.append(f"{where}: only one of patches, mergePatches, strategicPatches may be set (found "
                        f"{', '.join(kinds)}); write one rule per kind")
    elif not kinds:
        problems.append(f"{where} has no patches: set patches, mergePatches or strategicPatches")
    ops = [_json_op(op, f"{where}.patches[{i}]", problems)
           for i, op in enumerate(_list(raw, "patches", where, problems))]
    merges = _patch_docs(raw, "mergePatches", where, problems)
    strategic = _patch_docs(raw, "strategicPatches", where, problems)
    if conditions is None or len(problems) > before:
        return None
    return Rule(where, conditions, tuple(op for op in ops if op), tuple(merges), tuple(strategic))


def parse_rules(text: str) -> tuple[list[Rule], list[str]]:
    """The compiled rules of a document, or every problem found in it."""
    try:
        doc = load_document(text)
    except ValueError as exc:
        return [], [f"the rules document is {exc}"]
    if not isinstance(doc, dict):
        return [], ["the rules document must be a map with version and resourceModifierRules"]
    problems: list[str] = []
    _unknown(doc, {"version", "resourceModifierRules"}, "the rules document", problems)
    version = str(doc.get("version") or "")
    if version.lower() != VERSION:
        problems.append(f"unsupported resource modifier version {version!r}: use version: v1")
    raw_rules = doc.get("resourceModifierRules")
    if not isinstance(raw_rules, list) or not raw_rules:
        problems.append("resourceModifierRules must be a non-empty list of rules")
        raw_rules = []
    rules = [_rule(raw, f"resourceModifierRules[{i}]", problems) for i, raw in enumerate(raw_rules)]
    if problems:
        return [], problems
    return [r for r in rules if r is not None], []
