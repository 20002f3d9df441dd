"""The go-plugin services every plugin process serves (health, controller, stdio, broker) and the
PluginLister."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import grpc
from google.protobuf import empty_pb2

from veloro_sdk._proto.generated import PluginLister_pb2, Shared_pb2
from veloro_sdk._proto.grpc.health.v1 import health_pb2
from veloro_sdk._proto.plugin import grpc_broker_pb2, grpc_controller_pb2, grpc_stdio_pb2
from veloro_sdk.serve.registry import Registry
from veloro_sdk.serve.servicers.base import Handlers, bidi_stream, server_stream, unary

SERVING = health_pb2.HealthCheckResponse.SERVING
SERVICE_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN
HEALTHY_SERVICES = frozenset({"", "plugin"})


class ControlServicers:
    """Health, GRPCController, GRPCStdio, GRPCBroker and PluginLister of one process.

    `stopping` is set by Shutdown; the streams that stay open (stdio, broker) end when it is set, so they
    never hold the process up.
    """

    def __init__(
        self,
        registry: Registry,
        command: str,
        stopping: threading.Event,
        extra_services: frozenset[str] = frozenset(),
    ) -> None:
        self._registry = registry
        self._command = command
        self.stopping = stopping
        # Optional services (the veloro.batch.v1 extension) are advertised by name: a host asks
        # Check(service=<name>) and falls back when the answer is NOT_FOUND (Go plugins, older SDKs).
        self._healthy = HEALTHY_SERVICES | extra_services

    def Check(self, request: health_pb2.HealthCheckRequest, context: grpc.ServicerContext) -> object:
        if request.service not in self._healthy:
            context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {request.service!r}")
        return health_pb2.HealthCheckResponse(status=SERVING)

    def Watch(
        self, request: health_pb2.HealthCheckRequest, context: grpc.ServicerContext
    ) -> Iterator[object]:
        status = SERVING if request.service in self._healthy else SERVICE_UNKNOWN
        yield health_pb2.HealthCheckResponse(status=status)
        self._hold_open(context)

    def Shutdown(self, request: grpc_controller_pb2.Empty, context: grpc.ServicerContext) -> object:
        self.stopping.set()
        return grpc_controller_pb2.Empty()

    def StreamStdio(self, request: empty_pb2.Empty, context: grpc.ServicerContext) -> Iterator[object]:
        # stdout/stderr are not forwarded over gRPC: the host reads stderr directly, and stdout is closed to
        # plugin output after the handshake. The stream stays open and silent, as go-plugin allows.
        self._hold_open(context)
        return
        yield  # a generator that yields nothing

    def StartStream(
        self, requests: Iterator[grpc_broker_pb2.ConnInfo], context: grpc.ServicerContext
    ) -> Iterator[object]:
        # The broker is not used by the Velero contracts; drain what the host sends until it hangs up.
        for _ in requests:
            if self.stopping.is_set():
                return
        return
        yield

    def ListPlugins(self, request: Shared_pb2.Empty, context: grpc.ServicerContext) -> object:
        return PluginLister_pb2.ListPluginsResponse(
            plugins=[
                PluginLister_pb2.PluginIdentifier(command=self._command, kind=kind.value, name=name)
                for kind, name in self._registry.entries()
            ]
        )

    def _hold_open(self, context: grpc.ServicerContext) -> None:
        done = threading.Event()
        context.add_callback(done.set)  # the host hung up
        while not done.is_set() and not self.stopping.is_set():
            done.wait(0.25)

    def services(self) -> dict[str, Handlers]:
        hcr = health_pb2.HealthCheckRequest
        return {
            "grpc.health.v1.Health": {
                "Check": unary(self.Check, hcr, health_pb2.HealthCheckResponse),
                "Watch": server_stream(self.Watch, hcr, health_pb2.HealthCheckResponse),
            },
            "plugin.GRPCController": {
                "Shutdown": unary(self.Shutdown, grpc_controller_pb2.Empty, grpc_controller_pb2.Empty),
            },
            "plugin.GRPCStdio": {
                "StreamStdio": server_stream(self.StreamStdio, empty_pb2.Empty, grpc_stdio_pb2.StdioData),
            },
            "plugin.GRPCBroker": {
                "StartStream": bidi_stream(
                    self.StartStream, grpc_broker_pb2.ConnInfo, grpc_broker_pb2.ConnInfo
                ),
            },
            "generated.PluginLister": {
                "ListPlugins": unary(
                    self.ListPlugins, Shared_pb2.Empty, PluginLister_pb2.ListPluginsResponse
                ),
            },
        }
