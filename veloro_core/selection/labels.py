"""Kubernetes label selectors: the string grammar (`app=web,tier in (a,b),!legacy`) and the
metav1.LabelSelector dict form ({matchLabels, matchExpressions}), parsed into one matcher type.

Both engines and action matching need the same semantics, and the backup also hands the canonical
string to the API server (server-side filtering) while re-checking on the client, so a selector that
the server would read differently is caught here with a clear message rather than silently matching.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from veloro_core.selection.errors import SelectorError

_TOKEN = re.compile(r"\s*(!=|==|=|\(|\)|,|!|>|<|[^\s!=(),<>]+)")
_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_OPERATORS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
_HINT = "write it as in kubectl, e.g. 'app=web,tier in (front,back),!legacy'"


@dataclass(frozen=True)
class Requirement:
    """One requirement; op is one of =, !=, in, notin, exists, ! (does not exist), gt, lt."""

    key: str
    op: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.op
        if op == "=":
            return labels.get(self.key) == self.values[0]
        if op == "!=":
            return labels.get(self.key) != self.values[0]
        if op == "in":
            return self.key in labels and labels[self.key] in self.values
        if op == "notin":
            return labels.get(self.key) not in self.values
        if op == "exists":
            return self.key in labels
        if op == "!":
            return self.key not in labels
        value = labels.get(self.key)
        if value is None or not _is_int(value):
            return False
        return int(value) > int(self.values[0]) if op == "gt" else int(value) < int(self.values[0])

    def to_string(self) -> str:
        if self.op == "exists":
            return self.key
        if self.op == "!":
            return f"!{self.key}"
        if self.op in ("in", "notin"):
            return f"{self.key} {self.op} ({','.join(sorted(self.values))})"
        symbol = {"gt": ">", "lt": "<"}.get(self.op, self.op)
        return f"{self.key}{symbol}{self.values[0]}"


@dataclass(frozen=True)
class LabelSelector:
    """ANDed requirements; no requirement matches everything."""

    requirements: tuple[Requirement, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        return all(req.matches(labels) for req in self.requirements)

    def to_string(self) -> str:
        """The canonical selector string (what the API server's `labelSelector` parameter takes)."""
        return ",".join(req.to_string() for req in self.requirements)

    def __str__(self) -> str:
        return self.to_string()


EVERYTHING = LabelSelector()


def _is_int(value: str) -> bool:
    return bool(re.fullmatch(r"-?[0-9]+", value))


def validate_key(key: str, what: str = "label selector") -> None:
    """A qualified name: optional DNS-subdomain prefix and '/', then a name of at most 63 characters."""
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        raise SelectorError(f"invalid {what}: key {key!r} has an invalid prefix (a DNS subdomain is needed)")
    if not name or len(name) > 63 or not _NAME.match(name):
        raise SelectorError(
            f"invalid {what}: key {key!r} must be at most 63 alphanumeric characters, '-', '_' or '.', "
            "starting and ending with an alphanumeric character (optionally prefixed 'domain/')"
        )


def validate_value(value: str, what: str = "label selector") -> None:
    if value and (len(value) > 63 or not _NAME.match(value)):
        raise SelectorError(
            f"invalid {what}: value {value!r} must be empty or at most 63 alphanumeric characters, "
            "'-', '_' or '.', starting and ending with an alphanumeric character"
        )


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    stripped = text.strip()
    while pos < len(stripped):
        match = _TOKEN.match(stripped, pos)
        if match is None:  # pragma: no cover - the pattern accepts any non-space character
            raise SelectorError(f"invalid label selector {text!r}: cannot read {stripped[pos:]!r}; {_HINT}")
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0

    def fail(self, why: str) -> SelectorError:
        return SelectorError(f"invalid label selector {self.text!r}: {why}; {_HINT}")

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise self.fail("it ends too early")
        self.pos += 1
        return token

    def parse(self) -> LabelSelector:
        reqs: list[Requirement] = []
        while self.peek() is not None:
            reqs.append(self.requirement())
            token = self.peek()
            if token is None:
                break
            if token != ",":
                raise self.fail(f"expected ',' before {token!r}")
            self.pos += 1
            if self.peek() is None:
                raise self.fail("it ends with ','")
        return LabelSelector(tuple(reqs))

    def requirement(self) -> Requirement:
        token = self.take()
        if token == "!":
            key = self.take()
            self.check_key(key)
            return Requirement(key, "!")
        self.check_key(token)
        op = self.peek()
        if op is None or op == ",":
            return Requirement(token, "exists")
        self.pos += 1
        if op in ("=", "=="):
            return Requirement(token, "=", (self.value(),))
        if op == "!=":
            return Requirement(token, "!=", (self.value(),))
        if op in ("in", "notin"):
            return Requirement(token, op, self.value_set())
        if op in (">", "<"):
            value = self.take()
            if not _is_int(value):
                raise self.fail(f"{token}{op}{value}: a number is needed after {op!r}")
            return Requirement(token, "gt" if op == ">" else "lt", (value,))
        raise self.fail(f"unknown operator {op!r} after key {token!r} (use =, ==, !=, in, notin)")

    def check_key(self, key: str) -> None:
        if key in ("=", "==", "!=", "(", ")", ",", "!", ">", "<", "in", "notin"):
            raise self.fail(f"expected a key, found {key!r}")
        try:
            validate_key(key)
        except SelectorError as exc:
            raise self.fail(str(exc).removeprefix("invalid label selector: ")) from exc

    def value(self) -> str:
        token = self.peek()
        if token is None or token == ",":
            return ""  # `key=` matches an empty value, as in Kubernetes
        if token in ("(", ")", "=", "==", "!=", "!"):
            raise self.fail(f"expected a value, found {token!r}")
        self.pos += 1
        try:
            validate_value(token)
        except SelectorError as exc:
            raise self.fail(str(exc).removeprefix("invalid label selector: ")) from exc
        return token

    def value_set(self) -> tuple[str, ...]:
        if self.take() != "(":
            raise self.fail("expected '(' after in/notin")
        values: list[str] = []
        while True:
            token = self.peek()
            if token is None:
                raise self.fail("missing ')' after the in/notin values")
            if token == ")":
                self.pos += 1
                break
            if token == ",":
                self.pos += 1
                continue
            values.append(self.value())
        if not values:
            raise self.fail("in/notin needs at least one value")
        return tuple(sorted(set(values)))


def parse_selector(text: str | None) -> LabelSelector:
    """Parse a selector string; "" and None select everything. Raises SelectorError."""
    if text is None or not text.strip():
        return EVERYTHING
    return _Parser(text).parse()


def selector_from_dict(data: Mapping[str, Any] | None, what: str = "labelSelector") -> LabelSelector:
    """A metav1.LabelSelector in its JSON form; None or {} selects everything. Raises SelectorError."""
    if data is None:
        return EVERYTHING
    if not isinstance(data, Mapping):
        raise SelectorError(f"invalid {what}: expected an object with matchLabels/matchExpressions")
    reqs: list[Requirement] = []
    match_labels = data.get("matchLabels") or {}
    if not isinstance(match_labels, Mapping):
        raise SelectorError(f"invalid {what}: matchLabels must be a map of label keys to values")
    for key, value in sorted(match_labels.items()):
        validate_key(str(key), what)
        validate_value(str(value), what)
        reqs.append(Requirement(str(key), "=", (str(value),)))
    expressions = data.get("matchExpressions") or []
    if not isinstance(expressions, list):
        raise SelectorError(f"invalid {what}: matchExpressions must be a list")
    for expr in expressions:
        reqs.append(_expression(expr, what))
    return LabelSelector(tuple(reqs))


def _expression(expr: Any, what: str) -> Requirement:
    if not isinstance(expr, Mapping):
        raise SelectorError(f"invalid {what}: each matchExpressions entry must be an object")
    key = str(expr.get("key") or "")
    validate_key(key, what)
    operator = expr.get("operator")
    op = _OPERATORS.get(str(operator))
    if op is None:
        raise SelectorError(
            f"invalid {what}: operator {operator!r} of key {key!r} is not one of In, NotIn, Exists, "
            "DoesNotExist"
        )
    values = tuple(sorted({str(v) for v in expr.get("values") or []}))
    if op in ("in", "notin") and not values:
        raise SelectorError(f"invalid {what}: operator {operator} of key {key!r} needs at least one value")
    if op in ("exists", "!") and values:
        raise SelectorError(f"invalid {what}: operator {operator} of key {key!r} takes no values")
    for value in values:
        validate_value(value, what)
    return Requirement(key, op, values)


def matches_any(selectors: Iterable[LabelSelector], labels: Mapping[str, str] | None) -> bool:
    """orLabelSelectors semantics: true when any selector matches."""
    return any(sel.matches(labels) for sel in selectors)
