"""JSON Patch (RFC 6902) and JSON Merge Patch (RFC 7386) over plain JSON values, for resource modifiers.

Neither function mutates its input: a JSON patch works on a deep copy (so a failing operation leaves the
item as it was, as one patch list is atomic), a merge patch copies only the maps it changes.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

OPERATIONS = ("add", "remove", "replace", "move", "copy", "test")
_INDEX = re.compile(r"^(0|[1-9][0-9]*)$")


class PatchError(Exception):
    """The patch cannot be applied to this document."""


class PatchTestFailed(PatchError):
    """A `test` operation found another value (or nothing) at its path."""


def parse_pointer(pointer: str) -> list[str]:
    """The reference tokens of a JSON pointer (RFC 6901); "" is the whole document. Raises PatchError."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError(f"path {pointer!r} is not a JSON pointer: it must start with '/'")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but true is not 1 (Python's == says it is)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _index(token: str, size: int, pointer: str, allow_end: bool) -> int:
    if allow_end and token == "-":
        return size
    if not _INDEX.match(token):
        raise PatchError(f"{pointer}: {token!r} is not an array index")
    i = int(token)
    if i > size or (i == size and not allow_end):
        raise PatchError(f"{pointer}: index {i} is out of range (the array has {size} items)")
    return i


def _get(doc: Any, tokens: Sequence[str], pointer: str) -> Any:
    node = doc
    for token in tokens:
        if isinstance(node, dict):
            if token not in node:
                raise PatchError(f"{pointer}: no such member {token!r}")
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(token, len(node), pointer, allow_end=False)]
        else:
            raise PatchError(f"{pointer}: cannot descend into a {type(node).__name__}")
    return node


def get_pointer(doc: Any, pointer: str) -> Any:
    """The value at `pointer`; PatchError when there is none."""
    return _get(doc, parse_pointer(pointer), pointer)


def _parent(doc: Any, tokens: Sequence[str], pointer: str) -> Any:
    parent = _get(doc, tokens[:-1], pointer)
    if not isinstance(parent, dict | list):
        raise PatchError(f"{pointer}: the parent is a {type(parent).__name__}, not an object or array")
    return parent


def _add(doc: Any, tokens: list[str], value: Any, pointer: str) -> Any:
    if not tokens:
        return value
    parent, last = _parent(doc, tokens, pointer), tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    else:
        parent.insert(_index(last, len(parent), pointer, allow_end=True), value)
    return doc


def _remove(doc: Any, tokens: list[str], pointer: str) -> Any:
    if not tokens:
        raise PatchError("cannot remove the whole document")
    parent, last = _parent(doc, tokens, pointer), tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"{pointer}: no such member {last!r} to remove")
        return parent.pop(last)
    return parent.pop(_index(last, len(parent), pointer, allow_end=False))


def _apply_one(doc: Any, op: Mapping[str, Any]) -> Any:
    kind, pointer = op["op"], op["path"]
    tokens = parse_pointer(pointer)
    if kind == "add":
        return _add(doc, tokens, copy.deepcopy(op.get("value")), pointer)
    if kind == "remove":
        _remove(doc, tokens, pointer)
        return doc
    if kind == "replace":
        _get(doc, tokens, pointer)  # the target must exist
        if not tokens:
            return copy.deepcopy(op.get("value"))
        _remove(doc, tokens, pointer)
        return _add(doc, tokens, copy.deepcopy(op.get("value")), pointer)
    if kind in ("move", "copy"):
        source = str(op.get("from") or "")
        from_tokens = parse_pointer(source)
        if kind == "move" and tokens[: len(from_tokens)] == from_tokens and tokens != from_tokens:
            raise PatchError(f"cannot move {source} into its own child {pointer}")
        if kind == "move":
            value = _remove(doc, from_tokens, source) if from_tokens else doc
        else:
            value = copy.deepcopy(_get(doc, from_tokens, source))
        return _add(doc, tokens, value, pointer)
    if kind == "test":
        try:
            found = _get(doc, tokens, pointer)
        except PatchError as exc:
            raise PatchTestFailed(f"test of {pointer} failed: {exc}") from exc
        if not json_equal(found, op.get("value")):
            expected = op.get("value")
            raise PatchTestFailed(f"test of {pointer} failed: the value is {found!r}, not {expected!r}")
        return doc
    raise PatchError(f"unknown operation {kind!r} (use one of {', '.join(OPERATIONS)})")


def apply_json_patch(doc: Any, operations: Sequence[Mapping[str, Any]]) -> Any:
    """The document with `operations` ({op, path, from?, value?}) applied in order, all or nothing."""
    result = copy.deepcopy(doc)
    for op in operations:
        result = _apply_one(result, op)
    return result


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, null removes a member, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
