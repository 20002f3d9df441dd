"""Host-side errors of plugin calls, translated from gRPC statuses at the client boundary.

A plugin reports a failure as status Unknown with the error text and, optionally, a `generated.Stack`
detail naming where it happened (frames innermost first: frame 0 is where it failed), packed in a
google.rpc.Status in the `grpc-status-details-bin` trailer; an uncaught exception/panic is Aborted; a
dead process is Unavailable. Callers branch on the class (the manager restarts on PluginUnavailable),
users read the message.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from veloro_sdk.contracts.common import PluginError
from veloro_sdk.rpc_status import STATUS_DETAILS_KEY, decode_status


@dataclass(frozen=True)
class RemoteFrame:
    """One frame of the stack a plugin attached to its error."""

    file: str
    line: int
    function: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} {self.function}".rstrip()


class PluginCallError(PluginError):
    """A call to a plugin failed. `plugin` is the plugin name, `method` the full gRPC method."""

    def __init__(
        self, message: str, *, plugin: str = "", method: str = "", code: grpc.StatusCode | None = None
    ):
        super().__init__(message)
        self.message = message
        self.plugin = plugin
        self.method = method
        self.code = code

    def __str__(self) -> str:
        where = f"plugin {self.plugin!r}" if self.plugin else "plugin"
        if self.method:
            where += f" ({self.method})"
        return f"{where}: {self.message}"


class RemotePluginError(PluginCallError):
    """The plugin returned an error (status Unknown). `stack` holds the frames it reported in wire order:
    innermost FIRST, so `stack[0]` is where it failed (Velero's ProtoStackError reads Frames[0])."""

    def __init__(
        self,
        message: str,
        *,
        stack: tuple[RemoteFrame, ...] = (),
        plugin: str = "",
        method: str = "",
        code: grpc.StatusCode | None = grpc.StatusCode.UNKNOWN,
    ) -> None:
        super().__init__(message, plugin=plugin, method=method, code=code)
        self.stack = stack

    def __str__(self) -> str:
        text = super().__str__()
        if self.stack:
            text += f" (at {self.stack[0]})"
        if len(self.stack) > 1:
            text += "\nremote stack (innermost first):\n" + "\n".join(f"  {frame}" for frame in self.stack)
        return text


class PluginPanicked(PluginCallError):
    """The plugin raised an uncaught exception or panicked (status Aborted)."""


class PluginUnavailable(PluginCallError):
    """The plugin process cannot be reached: it exited, crashed or was killed (status Unavailable).

    The manager restarts the process on the next call."""


class PluginTimeout(PluginCallError):
    """The call did not finish within its deadline (status DEADLINE_EXCEEDED)."""


class PluginCallCancelled(PluginCallError):
    """The call was cancelled (by the host, or because the connection was closed)."""


def decode_status_stack(details: bytes) -> tuple[RemoteFrame, ...]:
    """The frames of the generated.Stack detail in a serialized google.rpc.Status, or ()."""
    try:
        stack = decode_status(details).stack()
    except Exception:  # a malformed detail must never hide the error itself
        return ()
    if stack is None:
        return ()
    return tuple(RemoteFrame(f.file, f.line, f.function) for f in stack.frames)


def _stack_of(err: grpc.RpcError) -> tuple[RemoteFrame, ...]:
    trailing = getattr(err, "trailing_metadata", None)
    metadata = trailing() if callable(trailing) else None
    for key, value in metadata or ():
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            return decode_status_stack(value)
    return ()


def translate_rpc_error(err: grpc.RpcError, *, plugin: str, method: str) -> PluginCallError:
    """Turn a gRPC error from a plugin call into the matching PluginCallError subclass."""
    code_fn = getattr(err, "code", None)
    details_fn = getattr(err, "details", None)
    code: grpc.StatusCode | None = code_fn() if callable(code_fn) else None
    details = (details_fn() if callable(details_fn) else None) or str(err)
    if code == grpc.StatusCode.UNKNOWN:
        return RemotePluginError(details, stack=_stack_of(err), plugin=plugin, method=method, code=code)
    cls: type[PluginCallError] = PluginCallError
    text = f"{code.name if code is not None else 'UNKNOWN'}: {details}"
    if code == grpc.StatusCode.ABORTED:
        cls, text = (
            PluginPanicked,
            details if details.startswith("plugin panicked") else f"plugin panicked: {details}",
        )
    elif code == grpc.StatusCode.UNAVAILABLE:
        cls, text = (
            PluginUnavailable,
            f"plugin process is not reachable (it exited, crashed or was killed): {details}",
        )
    elif code == grpc.StatusCode.DEADLINE_EXCEEDED:
        cls, text = (
            PluginTimeout,
            (
                "the call did not finish within its timeout (the plugin may be hung); raise the per-call "
                "timeout if the operation is legitimately slow"
            ),
        )
    elif code == grpc.StatusCode.CANCELLED:
        cls, text = PluginCallCancelled, f"call cancelled: {details}"
    return cls(text, plugin=plugin, method=method, code=code)
