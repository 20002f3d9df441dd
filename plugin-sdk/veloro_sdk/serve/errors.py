"""Exceptions from implementations -> the wire errors go-plugin hosts (Velero's included) understand.

Mapping (the Python reading of Go's error-vs-panic split):
- Unknown (2) with the message: PluginError and every other ordinary failure (OSError, ValueError,
  KeyError, RuntimeError, a cloud SDK's exceptions, NotImplementedError, ...). These are what a Go plugin
  would `return err` for. A PluginError's text is sent as is; other exceptions are prefixed with their type
  name so that `KeyError('x')` does not reach the user as just `'x'`.
- Aborted (10) "plugin panicked: <Type>: <text>": exceptions that signal a bug in the plugin, i.e. what Go
  would panic on - TypeError, AttributeError, NameError, AssertionError, IndexError, ZeroDivisionError,
  RecursionError, MemoryError - and anything that is not an Exception at all (SystemExit, ...).
Both carry a `generated.Stack` detail (innermost frame first, as Go's pkg/errors stacks are), so hosts can
say where it happened.
"""

from __future__ import annotations

import os
import traceback
from typing import NamedTuple, NoReturn

import grpc

from veloro_sdk._proto.generated import Shared_pb2
from veloro_sdk.contracts.common import PluginError
from veloro_sdk.rpc_status import STATUS_DETAILS_KEY, RpcStatus, encode_status, stack_detail

PANIC_TYPES: tuple[type[BaseException], ...] = (
    TypeError,
    AttributeError,
    NameError,
    AssertionError,
    IndexError,
    ZeroDivisionError,
    RecursionError,
    MemoryError,
)
_SDK_DIR = os.path.dirname(os.path.abspath(__file__))
_MAX_FRAMES = 64


class UnknownPluginName(PluginError):
    """A request named a plugin this process does not serve for that kind."""


class _Status(NamedTuple):
    """Implements grpc.Status (an interface with exactly these attributes)."""

    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple[tuple[str, bytes], ...]


def is_panic(exc: BaseException) -> bool:
    return isinstance(exc, PANIC_TYPES) or not isinstance(exc, Exception)


def stack_of(exc: BaseException) -> Shared_pb2.Stack:
    """The implementation's frames of `exc`, innermost first; the SDK's own frames are left out."""
    frames = [
        Shared_pb2.StackFrame(file=fs.filename, line=fs.lineno or 0, function=fs.name)
        for fs in reversed(traceback.extract_tb(exc.__traceback__))
        if not fs.filename.startswith(_SDK_DIR)
    ]
    return Shared_pb2.Stack(frames=frames[:_MAX_FRAMES])


def describe(exc: BaseException) -> tuple[grpc.StatusCode, str]:
    """The status code and message for `exc` (also used per item by the batch services)."""
    text = str(exc)
    if is_panic(exc):
        return grpc.StatusCode.ABORTED, f"plugin panicked: {type(exc).__name__}: {text}"
    if isinstance(exc, PluginError):
        return grpc.StatusCode.UNKNOWN, text or type(exc).__name__
    return grpc.StatusCode.UNKNOWN, f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def status_for(exc: BaseException) -> _Status:
    """The gRPC status (with the rich details trailer) a host receives for `exc`."""
    code, message = describe(exc)
    rich = RpcStatus(code=code.value[0], message=message, details=[stack_detail(stack_of(exc))])
    return _Status(code, message, ((STATUS_DETAILS_KEY, encode_status(rich)),))


def abort(context: grpc.ServicerContext, exc: BaseException) -> NoReturn:
    """End the call with the status for `exc` (raises, as ServicerContext.abort does)."""
    context.abort_with_status(status_for(exc))
    raise AssertionError("unreachable: abort_with_status raises")  # pragma: no cover
