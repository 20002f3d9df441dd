"""Server status requests: the server's version and its plugins ({name, kind}); processed requests are
deleted after a minute (the CLI reads the answer within seconds)."""

from __future__ import annotations

from importlib import metadata

from veloro_core.api import ServerStatusRequest, format_time, parse_time
from veloro_core.controllers.base import Controller


def server_version() -> str:
    try:
        return metadata.version("veloro")
    except metadata.PackageNotFoundError:
        return "unknown"


class ServerStatusController(Controller):
    NAME = "server-status-request"
    RESOURCE = ServerStatusRequest

    def tick_interval(self) -> float | None:
        return 30.0

    def tick(self) -> None:
        for item in self.ctx.list(ServerStatusRequest):
            self.queue.add(str(item["metadata"]["name"]))

    def reconcile(self, name: str) -> None:
        obj = self.ctx.get(ServerStatusRequest, name)
        if obj is None:
            return
        status = obj.get("status") or {}
        now = self.ctx.clock()
        if status.get("phase") == "Processed":
            processed = status.get("processedTimestamp")
            if not processed or (now - parse_time(str(processed))) >= self.ctx.settings.status_request_ttl:
                self.ctx.delete(ServerStatusRequest, name)
            return
        plugins = [{"name": info.name, "kind": info.kind.value} for info in self.ctx.plugins.list_plugins()]
        self.ctx.patch_status(
            ServerStatusRequest,
            name,
            {
                "phase": "Processed",
                "processedTimestamp": format_time(now),
                "serverVersion": server_version(),
                "plugins": plugins,
            },
        )
