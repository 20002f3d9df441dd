"""Generic JSON <-> dataclass conversion for the custom resource models.

One table of per-type codecs, built once per class from its type hints, drives both directions and the
CRD schema generator (crdgen.py), so the wire shape, the Python shape and the OpenAPI schema cannot drift.
Rules (the same as Go's `omitempty` where it matters, so Velero-written JSON round-trips):
- `X | None` fields are omitted when None; JSON null reads as absent.
- plain str/int/bool/list/dict fields are omitted when empty/zero; nested objects when they encode to {};
  fields the schema requires are always written (like Go fields without omitempty).
- wire names are the camelCase of the attribute unless the field metadata says
  otherwise (`metadata=wire_name("snapshotID")`).
- keys we do not model are kept in `extra` and written back, so newer Velero fields survive a round trip.
Decoding collects every problem with its path ("spec.ttl: expected a duration string like 720h, got 5")
and raises one ApiValidationError listing them all.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, ClassVar, Self

from veloro_core.api.duration import Duration, DurationError

_INVALID: Any = object()  # returned by a decoder after it recorded a problem


class ApiValidationError(ValueError):
    """An object whose fields have the wrong types; `problems` holds one "path: what is wrong" per field."""

    def __init__(self, what: str, problems: list[str]) -> None:
        self.what = what
        self.problems = problems
        listing = "; ".join(problems)
        super().__init__(f"invalid {what}: {listing}")


def show_value(value: Any) -> str:
    """A short JSON rendering of a bad value for error messages."""
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _key_path(path: str, key: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_-]+", key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def camel(name: str) -> str:
    """snake_case attribute name -> camelCase wire name."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def wire_name(name: str) -> dict[str, Any]:
    """Field metadata giving an explicit wire name, for names camel() cannot guess (e.g. snapshotID)."""
    return {"wire": name}


# Field metadata for fields the CRD schema marks as required (the API server rejects objects without them).
REQUIRED: Mapping[str, Any] = MappingProxyType({"required": True})
# Field metadata for fields written even when empty (spec of a top-level object).
ALWAYS: Mapping[str, Any] = MappingProxyType({"always": True})


Decoder = Callable[[Any, str, list[str]], Any]
Encoder = Callable[[Any], Any]


@dataclass(frozen=True)
class Codec:
    """How one Python type travels: decode(value, path, problems), encode(value), and its OpenAPI kind."""

    decode: Decoder
    encode: Encoder
    annotation: Any


@dataclass(frozen=True)
class FieldPlan:
    attr: str
    wire: str
    codec: Codec
    optional: bool
    required: bool
    always: bool


def _scalar(pytype: type, expected: str) -> Codec:
    def decode(value: Any, path: str, problems: list[str]) -> Any:
        ok = isinstance(value, pytype) and not (pytype is not bool and isinstance(value, bool))
        if pytype is int and isinstance(value, float) and value.is_integer():
            return int(value)
        if pytype is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not ok:
            problems.append(f"{path}: expected {expected}, got {show_value(value)}")
            return _INVALID
        return value

    return Codec(decode, lambda v: v, pytype)


def _decode_duration(value: Any, path: str, problems: list[str]) -> Any:
    if not isinstance(value, str):
        problems.append(f"{path}: expected a duration string like 720h, got {show_value(value)}")
        return _INVALID
    try:
        return Duration.parse(value)
    except DurationError as exc:
        problems.append(f"{path}: {exc}")
        return _INVALID


def parse_time(text: str) -> datetime:
    """RFC 3339 timestamp (as Kubernetes writes metav1.Time) -> aware UTC datetime."""
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # Kubernetes times are UTC; a naive value can only mean that
    return parsed.astimezone(UTC)


def format_time(moment: datetime) -> str:
    """Aware or naive-UTC datetime -> "2024-01-31T12:00:00Z" (fraction only when there is one)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    spec = "%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return moment.strftime(spec)


def _decode_time(value: Any, path: str, problems: list[str]) -> Any:
    hint = "an RFC 3339 timestamp like 2024-01-31T12:00:00Z"
    if not isinstance(value, str):
        problems.append(f"{path}: expected {hint}, got {show_value(value)}")
        return _INVALID
    try:
        return parse_time(value)
    except ValueError:
        problems.append(f"{path}: expected {hint}, got {show_value(value)}")
        return _INVALID


def _enum_codec(enum_type: type[enum.Enum]) -> Codec:
    allowed = [member.value for member in enum_type]

    def decode(value: Any, path: str, problems: list[str]) -> Any:
        try:
            return enum_type(value)
        except ValueError:
            problems.append(f"{path}: expected one of {', '.join(allowed)}, got {show_value(value)}")
            return _INVALID

    return Codec(decode, lambda v: v.value, enum_type)


def _free_form(value: Any, path: str, problems: list[str]) -> Any:
    return value  # any JSON value is fine here


def _list_codec(annotation: Any, item: Codec) -> Codec:
    def decode(value: Any, path: str, problems: list[str]) -> Any:
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list, got {show_value(value)}")
            return _INVALID
        out = [item.decode(entry, f"{path}[{index}]", problems) for index, entry in enumerate(value)]
        return [entry for entry in out if entry is not _INVALID]

    return Codec(decode, lambda v: [item.encode(entry) for entry in v], annotation)


def _dict_codec(annotation: Any, item: Codec) -> Codec:
    def decode(value: Any, path: str, problems: list[str]) -> Any:
        if not isinstance(value, dict):
            problems.append(f"{path}: expected an object (a map), got {show_value(value)}")
            return _INVALID
        out: dict[str, Any] = {}
        for key, entry in value.items():
            decoded = item.decode(entry, _key_path(path, str(key)), problems)
            if decoded is not _INVALID:
                out[str(key)] = decoded
        return out

    return Codec(decode, lambda v: {key: item.encode(entry) for key, entry in v.items()}, annotation)


def _model_codec(model: type[ApiObject]) -> Codec:
    def decode(value: Any, path: str, problems: list[str]) -> Any:
        if not isinstance(value, dict):
            problems.append(f"{path}: expected an object, got {show_value(value)}")
            return _INVALID
        return model.decode(value, path, problems)

    return Codec(decode, lambda v: v.to_dict(), model)


def strip_optional(annotation: Any) -> tuple[Any, bool]:
    """`X | None` -> (X, True); anything else -> (annotation, False)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(args) != 1:
            raise TypeError(f"unsupported union in an API model: {annotation}")
        return args[0], True
    return annotation, False


def codec_for(annotation: Any) -> Codec:
    """The codec of a (non-optional) field type; raises TypeError for types the API layer does not use."""
    origin = typing.get_origin(annotation)
    if annotation is Any:
        return Codec(_free_form, lambda v: v, annotation)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return _list_codec(annotation, codec_for(item))
    if origin is dict:
        key, item = typing.get_args(annotation)
        if key is not str:
            raise TypeError(f"map keys must be str in an API model: {annotation}")
        return _dict_codec(annotation, codec_for(item))
    if isinstance(annotation, type):
        if issubclass(annotation, enum.Enum):
            return _enum_codec(annotation)
        if issubclass(annotation, ApiObject):
            return _model_codec(annotation)
        if annotation is Duration:
            return Codec(_decode_duration, str, annotation)
        if annotation is datetime:
            return Codec(_decode_time, format_time, annotation)
        expected = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
        if annotation in expected:
            return _scalar(annotation, expected[annotation])
    raise TypeError(f"unsupported type in an API model: {annotation!r}")


def _is_empty(encoded: Any) -> bool:
    """Go's omitempty on an encoded value: false, 0, "", [] and {} are left out."""
    if isinstance(encoded, bool):
        return not encoded
    if isinstance(encoded, int | float):
        return encoded == 0
    if isinstance(encoded, str | list | dict):
        return len(encoded) == 0
    return False


@dataclass(kw_only=True)
class ApiObject:
    """Base of every model. Subclasses are kw_only dataclasses whose fields all have defaults."""

    extra: dict[str, Any] = field(default_factory=dict, repr=False, metadata={"extra": True})

    _plans: ClassVar[dict[type, list[FieldPlan]]] = {}

    @classmethod
    def field_plans(cls) -> list[FieldPlan]:
        """Per-field wire name and codec, computed once per class from its type hints."""
        cached = ApiObject._plans.get(cls)
        if cached is not None:
            return cached
        hints = typing.get_type_hints(cls)
        plans = []
        for item in dataclasses.fields(cls):
            if item.metadata.get("extra") or item.metadata.get("skip"):
                continue
            inner, optional = strip_optional(hints[item.name])
            plans.append(
                FieldPlan(
                    attr=item.name,
                    wire=item.metadata.get("wire", camel(item.name)),
                    codec=codec_for(inner),
                    optional=optional,
                    required=bool(item.metadata.get("required")),
                    always=bool(item.metadata.get("always")),
                )
            )
        ApiObject._plans[cls] = plans
        return plans

    @classmethod
    def decode(cls, data: Mapping[str, Any], path: str, problems: list[str]) -> Self:
        """Decode `data` (a JSON object) recording problems instead of raising; used for nesting."""
        values: dict[str, Any] = {}
        known: set[str] = set()
        for plan in cls.field_plans():
            known.add(plan.wire)
            raw = data.get(plan.wire)
            if raw is None:
                continue
            decoded = plan.codec.decode(raw, _key_path(path, plan.wire), problems)
            if decoded is not _INVALID:
                values[plan.attr] = decoded
        extra = {key: value for key, value in data.items() if key not in known}
        return cls(extra=extra, **values)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from a JSON object; raises ApiValidationError listing every badly typed field."""
        problems: list[str] = []
        if not isinstance(data, Mapping):
            raise ApiValidationError(cls.__name__, [f"expected an object, got {show_value(data)}"])
        result = cls.decode(data, "", problems)
        if problems:
            raise ApiValidationError(cls.__name__, problems)
        return result

    def to_dict(self) -> dict[str, Any]:
        """The JSON object (camelCase keys), omitting unset fields; unknown fields read earlier included."""
        out: dict[str, Any] = {}
        for plan in self.field_plans():
            value = getattr(self, plan.attr)
            if value is None:
                continue
            encoded = plan.codec.encode(value)
            if not (plan.optional or plan.always or plan.required) and _is_empty(encoded):
                continue
            out[plan.wire] = encoded
        for key, value in self.extra.items():
            out.setdefault(key, value)
        return out
