"""Label and field selectors with the grammar and error behaviour of the real API server."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from kubesim.errors import bad_request

Matcher = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(r"\s*(!=|==|=|\(|\)|,|!|>|<|[^\s!=(),<>]+)")
_SET_OPS = {"in", "notin"}


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise bad_request(f"unable to parse requirement: invalid label selector {text!r}")
        out.append(m.group(1))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def _req(key: str, op: str, values: list[str]) -> Callable[[dict[str, str]], bool]:
    if op in ("=", "=="):
        return lambda labels: labels.get(key) == values[0]
    if op == "!=":
        return lambda labels: labels.get(key) != values[0]
    if op == "in":
        vs = set(values)
        return lambda labels: key in labels and labels[key] in vs
    if op == "notin":
        vs = set(values)
        return lambda labels: labels.get(key) not in vs
    if op == "exists":
        return lambda labels: key in labels
    if op == "!":
        return lambda labels: key not in labels
    bound = _int(values[0])
    if op == ">":
        return lambda labels: _int_or_none(labels.get(key)) is not None and _int(labels[key]) > bound
    return lambda labels: _int_or_none(labels.get(key)) is not None and _int(labels[key]) < bound


def _int(v: str) -> int:
    try:
        return int(v)
    except ValueError as exc:
        raise bad_request(f"unable to parse requirement: invalid integer value {v!r}") from exc


def _int_or_none(v: str | None) -> int | None:
    if v is None:
        return None
    try:
        return int(v)
    except ValueError:
        return None


def _parse_values(toks: list[str], i: int, text: str) -> tuple[list[str], int]:
    if i >= len(toks) or toks[i] != "(":
        raise bad_request(
            f"unable to parse requirement: found '{toks[i] if i < len(toks) else ''}', "
            f"expected: '(' in label selector {text!r}"
        )
    i += 1
    values: list[str] = []
    while i < len(toks) and toks[i] != ")":
        if toks[i] != ",":
            values.append(toks[i])
        i += 1
    if i >= len(toks):
        raise bad_request(f"unable to parse requirement: missing ')' in label selector {text!r}")
    return values, i + 1


def parse_label_selector(text: str | None) -> Callable[[dict[str, str]], bool] | None:
    """Parse a label selector; None when it selects everything."""
    if not text or not text.strip():
        return None
    toks = _tokens(text)
    reqs: list[Callable[[dict[str, str]], bool]] = []
    i = 0
    while i < len(toks):
        if toks[i] == "!":
            if i + 1 >= len(toks):
                raise bad_request(f"unable to parse requirement: missing key after '!' in {text!r}")
            reqs.append(_req(toks[i + 1], "!", []))
            i += 2
        else:
            key = toks[i]
            nxt = toks[i + 1] if i + 1 < len(toks) else ","
            if nxt == ",":
                reqs.append(_req(key, "exists", []))
                i += 1
            elif nxt in ("=", "==", "!=", ">", "<"):
                if i + 2 >= len(toks) or toks[i + 2] == ",":
                    value = ""
                    i += 2
                else:
                    value = toks[i + 2]
                    i += 3
                reqs.append(_req(key, nxt, [value]))
            elif nxt in _SET_OPS:
                values, i = _parse_values(toks, i + 2, text)
                reqs.append(_req(key, nxt, values))
            else:
                raise bad_request(
                    f"unable to parse requirement: found '{nxt}', expected: "
                    f"in, notin, =, ==, !=, gt, lt in label selector {text!r}"
                )
        if i < len(toks):
            if toks[i] != ",":
                raise bad_request(f"unable to parse requirement: found '{toks[i]}', expected ',' in {text!r}")
            i += 1
    return lambda labels: all(r(labels) for r in reqs)


# Field selectors: the fields each resource supports, beyond metadata.name and metadata.namespace.
_FIELDS: dict[str, tuple[str, ...]] = {
    "/pods": (
        "status.phase",
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "status.podIP",
        "status.nominatedNodeName",
        "spec.hostNetwork",
    ),
    "/events": (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    "/secrets": ("type",),
    "/namespaces": ("status.phase",),
    "/nodes": ("spec.unschedulable",),
    "/replicationcontrollers": ("status.replicas",),
    "apps/replicasets": ("status.replicas",),
    "batch/jobs": ("status.successful",),
    "/persistentvolumeclaims": (),
    "certificates.k8s.io/certificatesigningrequests": ("spec.signerName",),
}


def _field_value(obj: dict[str, Any], path: str) -> str:
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def parse_field_selector(text: str | None, bucket_key: str, kind: str) -> Matcher | None:
    if not text or not text.strip():
        return None
    allowed = {"metadata.name", "metadata.namespace", *_FIELDS.get(bucket_key, ())}
    reqs: list[tuple[str, bool, str]] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "!=" in part:
            field, value = part.split("!=", 1)
            neg = True
        elif "==" in part:
            field, value = part.split("==", 1)
            neg = False
        elif "=" in part:
            field, value = part.split("=", 1)
            neg = False
        else:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        field = field.strip()
        if field not in allowed:
            raise bad_request(f"field label not supported: {field}")
        reqs.append((field, neg, value.strip()))

    def match(obj: dict[str, Any]) -> bool:
        return all((_field_value(obj, field) == value) != neg for field, neg, value in reqs)

    return match


def combine(label: Callable[[dict[str, str]], bool] | None, field: Matcher | None) -> Matcher | None:
    """One predicate over whole objects, or None when nothing is filtered."""
    if label is None and field is None:
        return None

    def match(obj: dict[str, Any]) -> bool:
        if label is not None and not label(obj.get("metadata", {}).get("labels") or {}):
            return False
        return field is None or field(obj)

    return match
