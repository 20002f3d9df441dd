"""Kubernetes Events on the server's objects (what `kubectl describe backup` shows under Events)."""

from __future__ import annotations

import secrets
import socket
from datetime import UTC, datetime
from typing import Any

import structlog

from veloro_core.api import format_time
from veloro_core.kube import GroupVersionResource, KubeClient, KubeError

EVENTS = GroupVersionResource("", "v1", "events")
COMPONENT = "veloro-server"
log = structlog.get_logger("veloro.server")


class EventRecorder:
    def __init__(self, kube: KubeClient) -> None:
        self.kube = kube
        self.host = socket.gethostname()

    def record(self, obj: dict[str, Any], reason: str, message: str, *, warning: bool = False) -> None:
        """Best effort: an event that cannot be written is logged, never an error of the operation."""
        meta = obj.get("metadata") or {}
        name, namespace = str(meta.get("name") or ""), str(meta.get("namespace") or "")
        now = format_time(datetime.now(UTC))
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{name}.{secrets.token_hex(8)}", "namespace": namespace},
            "involvedObject": {
                "apiVersion": obj.get("apiVersion"),
                "kind": obj.get("kind"),
                "name": name,
                "namespace": namespace,
                "uid": meta.get("uid"),
                "resourceVersion": meta.get("resourceVersion"),
            },
            "reason": reason,
            "message": message[:1024],
            "type": "Warning" if warning else "Normal",
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "source": {"component": COMPONENT, "host": self.host},
            "reportingComponent": COMPONENT,
            "reportingInstance": self.host,
        }
        try:
            self.kube.create(EVENTS, event, namespace)
        except KubeError as exc:
            log.warning("could not record an event", object=name, reason=reason, error=str(exc))
