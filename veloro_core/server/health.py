"""The metrics address: /metrics (Prometheus), /healthz (liveness) and /readyz (readiness)."""

from __future__ import annotations

from collections.abc import Callable
from http.server import BaseHTTPRequestHandler

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from veloro_core.server.httpd import BackgroundHTTPServer, BodyHandler

# () -> list of problems; empty = ready.
ReadinessCheck = Callable[[], list[str]]


class HealthServer(BackgroundHTTPServer):
    def __init__(self, host: str, port: int, registry: CollectorRegistry, readiness: ReadinessCheck) -> None:
        self.registry = registry
        self.readiness = readiness
        super().__init__(host, port, _handler_for(self), "veloro-metrics")


def _handler_for(server: HealthServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BodyHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self.send_body(200, generate_latest(server.registry), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                self.send_body(200, b"ok\n")
            elif path == "/readyz":
                problems = server.readiness()
                if problems:
                    self.send_body(503, ("not ready: " + "; ".join(problems) + "\n").encode())
                else:
                    self.send_body(200, b"ok\n")
            else:
                self.send_body(404, b"not found: try /metrics, /healthz or /readyz\n")

        def log_message(self, format: str, *args: object) -> None:
            pass  # scrapes every few seconds would drown the log

    return Handler
