"""Test helpers for the API models: fully populated sample objects and a small OpenAPI v3 validator."""

from __future__ import annotations

import enum
import typing
from datetime import UTC, datetime
from typing import Any, TypeVar

from veloro_core.api import ApiObject, Duration, Resource
from veloro_core.api.serde import strip_optional

T = TypeVar("T", bound=ApiObject)
MOMENT = datetime(2024, 3, 1, 10, 0, 5, tzinfo=UTC)


def sample_value(annotation: Any, name: str) -> Any:
    """A non-empty value of a field type, so that every field shows up on the wire."""
    inner, _ = strip_optional(annotation)
    origin = typing.get_origin(inner)
    if inner is Any:
        return {"name": name, "image": "busybox"}
    if origin is list:
        (item,) = typing.get_args(inner)
        return [sample_value(item, name)]
    if origin is dict:
        _, item = typing.get_args(inner)
        return {"key.example.io/one": sample_value(item, name)}
    if isinstance(inner, type) and issubclass(inner, enum.Enum):
        return list(inner)[-1]
    if isinstance(inner, type) and issubclass(inner, ApiObject):
        return populated(inner)
    values: dict[Any, Any] = {
        str: f"value-of-{name}",
        bool: True,
        int: 7,
        float: 1.5,
        Duration: Duration.parse("1h30m"),
        datetime: MOMENT,
    }
    return values[inner]


def populated(model: type[T]) -> T:
    """An instance with every modelled field set to a non-empty value."""
    hints = typing.get_type_hints(model)
    values = {plan.attr: sample_value(hints[plan.attr], plan.attr) for plan in model.field_plans()}
    if issubclass(model, Resource):
        values["metadata"] = {"name": "sample", "namespace": "veloro", "labels": {"a": "b"}}
    return model(**values)


def has_type(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    checks: dict[str, type] = {"string": str, "boolean": bool, "array": list, "object": dict}
    return isinstance(value, checks[kind])


def validate(schema: dict[str, Any], value: Any, path: str = "") -> list[str]:
    """Problems of `value` against a structural schema: the checks an API server does on a custom object."""
    if value is None:
        return [] if schema.get("nullable") else [f"{path}: null not allowed"]
    kind = schema.get("type")
    if kind is None:
        return []  # x-kubernetes-preserve-unknown-fields without a type: anything goes
    if not has_type(value, kind):
        return [f"{path}: expected {kind}, got {value!r}"]
    problems: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{path}: {value!r} not in {schema['enum']}")
    if kind == "array":
        for index, item in enumerate(value):
            problems += validate(schema["items"], item, f"{path}[{index}]")
    if kind == "object":
        problems += [f"{path}.{key}: required" for key in schema.get("required", []) if key not in value]
        properties = schema.get("properties")
        for key, item in value.items():
            if properties is not None and key in properties:
                problems += validate(properties[key], item, f"{path}.{key}")
            elif "additionalProperties" in schema:
                problems += validate(schema["additionalProperties"], item, f"{path}.{key}")
            elif properties is not None and not schema.get("x-kubernetes-preserve-unknown-fields"):
                problems.append(f"{path}.{key}: unknown field (would be pruned)")
    return problems
