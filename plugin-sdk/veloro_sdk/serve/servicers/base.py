"""What every servicer shares: the registry lookup, the error wrapper, and gRPC handler building."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import grpc

from veloro_sdk.contracts import PluginKind
from veloro_sdk.serve.errors import abort
from veloro_sdk.serve.registry import Registry

_S = TypeVar("_S", bound="KindServicer")
Method = Callable[[Any, grpc.ServicerContext], Any]
Handlers = dict[str, grpc.RpcMethodHandler]


def rpc(fn: Callable[[_S, Any, grpc.ServicerContext], Any]) -> Callable[[_S, Any, grpc.ServicerContext], Any]:
    """Turn any exception of a unary (or client-streaming) method into the wire error."""

    @functools.wraps(fn)
    def wrapper(self: _S, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return fn(self, request, context)
        except BaseException as exc:
            abort(context, exc)

    return wrapper


def rpc_stream(
    fn: Callable[[_S, Any, grpc.ServicerContext], Iterator[Any]],
) -> Callable[[_S, Any, grpc.ServicerContext], Iterator[Any]]:
    """The same for server-streaming methods (generators)."""

    @functools.wraps(fn)
    def wrapper(self: _S, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        try:
            yield from fn(self, request, context)
        except BaseException as exc:
            abort(context, exc)

    return wrapper


class KindServicer:
    """Base of the servicers of one plugin kind: `_impl(name)` is the cached implementation."""

    kind: PluginKind
    service: str  # full gRPC service name, e.g. "generated.ObjectStore"

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def _impl(self, name: str) -> Any:
        return self._registry.instance(self.kind, name)

    def handlers(self) -> Handlers:
        raise NotImplementedError


def unary(method: Method, request_type: Any, response_type: Any) -> grpc.RpcMethodHandler:
    return grpc.unary_unary_rpc_method_handler(
        method,
        request_deserializer=request_type.FromString,
        response_serializer=response_type.SerializeToString,
    )


def client_stream(method: Method, request_type: Any, response_type: Any) -> grpc.RpcMethodHandler:
    return grpc.stream_unary_rpc_method_handler(
        method,
        request_deserializer=request_type.FromString,
        response_serializer=response_type.SerializeToString,
    )


def server_stream(method: Method, request_type: Any, response_type: Any) -> grpc.RpcMethodHandler:
    return grpc.unary_stream_rpc_method_handler(
        method,
        request_deserializer=request_type.FromString,
        response_serializer=response_type.SerializeToString,
    )


def bidi_stream(method: Method, request_type: Any, response_type: Any) -> grpc.RpcMethodHandler:
    return grpc.stream_stream_rpc_method_handler(
        method,
        request_deserializer=request_type.FromString,
        response_serializer=response_type.SerializeToString,
    )


def json_obj(data: bytes) -> Any:
    """A JSON payload; empty bytes (a host that sends no backup/restore) read as {}."""
    from veloro_sdk.convert import loads

    return loads(data) if data else {}
