"""PluginLister over gRPC (`generated.PluginLister`): which (kind, name)s a plugin process serves."""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from veloro_sdk._proto.generated import PluginLister_pb2_grpc, Shared_pb2
from veloro_sdk.client._base import BaseClient


@dataclass(frozen=True)
class ListedPlugin:
    """One entry of ListPlugins as the plugin reported it. `kind` stays a string: a newer plugin may list a
    kind this host does not know, which the caller decides how to treat."""

    kind: str
    name: str
    command: str


class PluginListerClient(BaseClient):
    SERVICE = "generated.PluginLister"

    def __init__(self, channel: grpc.Channel, name: str = "", *, timeout: float | None = None) -> None:
        super().__init__(channel, name, timeout=timeout)
        self._stub = PluginLister_pb2_grpc.PluginListerStub(channel)

    def list_plugins(self, *, timeout: float | None = None) -> list[ListedPlugin]:
        resp = self._call("ListPlugins", self._stub.ListPlugins, Shared_pb2.Empty(), timeout)
        return [ListedPlugin(kind=p.kind, name=p.name, command=p.command) for p in resp.plugins]
