"""Conversions between the wire messages and the contract dataclasses.

Shared by the plugin side (veloro_sdk.serve) and the host side (veloro_core.plugins), so both ends agree
on every field by construction. JSON payloads use orjson when it is installed (the host always has it),
else the standard library.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf import duration_pb2, timestamp_pb2

from veloro_sdk._proto.generated import Shared_pb2
from veloro_sdk.contracts.common import JSONDict, OperationProgress, ResourceIdentifier, ResourceSelector

try:  # orjson is 5-10x faster on items; optional so vendors' plugins need only the SDK's own deps
    import orjson

    def dumps(obj: Any) -> bytes:
        return orjson.dumps(obj)

    def loads(data: bytes) -> Any:
        return orjson.loads(data)

except ImportError:  # pragma: no cover - exercised only where orjson is absent
    import json

    def dumps(obj: Any) -> bytes:
        return json.dumps(obj, separators=(",", ":")).encode()

    def loads(data: bytes) -> Any:
        return json.loads(data)


def json_or_none(data: bytes) -> JSONDict | None:
    """Empty bytes mean "no object" (an action's unchanged item)."""
    return loads(data) if data else None


def rid_to_proto(rid: ResourceIdentifier) -> Shared_pb2.ResourceIdentifier:
    return Shared_pb2.ResourceIdentifier(
        group=rid.group, resource=rid.resource, namespace=rid.namespace, name=rid.name
    )


def rid_from_proto(msg: Shared_pb2.ResourceIdentifier) -> ResourceIdentifier:
    return ResourceIdentifier(group=msg.group, resource=msg.resource, namespace=msg.namespace, name=msg.name)


def selector_to_proto(sel: ResourceSelector) -> Shared_pb2.ResourceSelector:
    return Shared_pb2.ResourceSelector(
        includedNamespaces=sel.included_namespaces,
        excludedNamespaces=sel.excluded_namespaces,
        includedResources=sel.included_resources,
        excludedResources=sel.excluded_resources,
        selector=sel.selector,
    )


def selector_from_proto(msg: Shared_pb2.ResourceSelector) -> ResourceSelector:
    return ResourceSelector(
        included_namespaces=list(msg.includedNamespaces),
        excluded_namespaces=list(msg.excludedNamespaces),
        included_resources=list(msg.includedResources),
        excluded_resources=list(msg.excludedResources),
        selector=msg.selector,
    )


def _ts_to_proto(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC))
    return ts


def progress_to_proto(p: OperationProgress) -> Shared_pb2.OperationProgress:
    return Shared_pb2.OperationProgress(
        completed=p.completed,
        err=p.err,
        nCompleted=p.n_completed,
        nTotal=p.n_total,
        operationUnits=p.operation_units,
        description=p.description,
        started=_ts_to_proto(p.started),
        updated=_ts_to_proto(p.updated),
    )


def progress_from_proto(msg: Shared_pb2.OperationProgress) -> OperationProgress:
    return OperationProgress(
        completed=msg.completed,
        err=msg.err,
        n_completed=msg.nCompleted,
        n_total=msg.nTotal,
        operation_units=msg.operationUnits,
        description=msg.description,
        started=msg.started.ToDatetime(tzinfo=UTC) if msg.HasField("started") else None,
        updated=msg.updated.ToDatetime(tzinfo=UTC) if msg.HasField("updated") else None,
    )


def duration_to_proto(value: timedelta | None) -> duration_pb2.Duration | None:
    if value is None:
        return None
    d = duration_pb2.Duration()
    d.FromTimedelta(value)
    return d


def duration_from_proto(msg: duration_pb2.Duration, present: bool) -> timedelta | None:
    return msg.ToTimedelta() if present else None


def ttl_to_nanos(ttl: timedelta) -> int:
    """CreateSignedURL's ttl travels as int64 nanoseconds (a Go time.Duration)."""
    return int(ttl.total_seconds() * 1_000_000_000)


def nanos_to_ttl(nanos: int) -> timedelta:
    return timedelta(microseconds=nanos / 1000)
