"""What every typed client shares: the plugin name, a default deadline and error translation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import grpc

from veloro_sdk.client.errors import translate_rpc_error

R = TypeVar("R")

# gRPC's own limit; Go hosts set the same, so large item lists never hit ResourceExhausted.
MAX_MESSAGE_BYTES = 2**31 - 1
CHANNEL_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    # A plugin is local; retries only hide a crash from the restart logic.
    ("grpc.enable_retries", 0),
]


class BaseClient:
    """A client of one named implementation (`name`) in one plugin process (`channel`).

    `timeout` is the default deadline of every call in seconds (None: no deadline); each method also takes
    `timeout=` to override it for one call.
    """

    SERVICE = ""  # full gRPC service name, e.g. "generated.ObjectStore" (for error messages)

    def __init__(self, channel: grpc.Channel, name: str, *, timeout: float | None = None) -> None:
        self.channel = channel
        self.name = name
        self.timeout = timeout

    def _deadline(self, timeout: float | None) -> float | None:
        return self.timeout if timeout is None else timeout

    def _call(self, method: str, fn: Callable[..., R], request: Any, timeout: float | None) -> R:
        try:
            return fn(request, timeout=self.timeout if timeout is None else timeout)
        except grpc.RpcError as err:
            raise translate_rpc_error(err, plugin=self.name, method=f"/{self.SERVICE}/{method}") from err

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"
