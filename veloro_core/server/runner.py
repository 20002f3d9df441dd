"""`veloro server`: one process, thread-based. Start-up order: metrics/health endpoint, kube client,
plugin discovery (processes shared and kept alive), download server, then leader election; the leader
recovers interrupted operations and runs the controllers. SIGTERM: stop taking work, let running backups
and restores finish up to --terminating-timeout (the rest are marked Failed), release the lease, stop the
plugins."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import threading
import time
import uuid
from types import FrameType

import structlog

from veloro_core.api import Backup, Restore
from veloro_core.controllers.backup import BackupController
from veloro_core.controllers.base import Controller, ControllerContext, ControllerManager
from veloro_core.controllers.deletion import DeletionController
from veloro_core.controllers.download import DownloadController
from veloro_core.controllers.gc import GCController
from veloro_core.controllers.location import LocationController
from veloro_core.controllers.restore import RestoreController
from veloro_core.controllers.schedule import ScheduleController
from veloro_core.controllers.status import ServerStatusController
from veloro_core.controllers.sync import BackupSyncController
from veloro_core.kube import KubeClient, KubeError
from veloro_core.plugins import PluginManager, PluginSettings
from veloro_core.server.download import DownloadServer, DownloadTokens
from veloro_core.server.events import EventRecorder
from veloro_core.server.health import HealthServer
from veloro_core.server.leader import LeaderElector
from veloro_core.server.metrics import Metrics
from veloro_core.server.recovery import fail_in_progress, fail_unfinished
from veloro_core.server.settings import ServerSettings, parse_address
from veloro_core.server.stores import Locations

log = structlog.get_logger("veloro.server")

CONTROLLER_CLASSES: dict[str, type[Controller]] = {
    "backup": BackupController,
    "restore": RestoreController,
    "schedule": ScheduleController,
    "gc": GCController,
    "backup-deletion": DeletionController,
    "backup-sync": BackupSyncController,
    "backup-storage-location": LocationController,
    "download-request": DownloadController,
    "server-status-request": ServerStatusController,
}


class Server:
    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.stopping = threading.Event()
        self.plugins: PluginManager | None = None
        self.kube: KubeClient | None = None
        self.ctx: ControllerContext | None = None
        self.elector: LeaderElector | None = None
        self.manager: ControllerManager | None = None
        self._lock = threading.Lock()
        self._kube_ok = (0.0, False)
        self.health: HealthServer | None = None
        self.downloads: DownloadServer | None = None
        self.exit_code = 0

    # ---------------------------------------------------------------------------------------- start
    def start(self) -> None:
        settings = self.settings
        host, port = parse_address(settings.metrics_address)
        self.health = HealthServer(host, port, self.metrics.registry, self.readiness)
        self.health.start()
        bound = self.health.address
        log.info("metrics and health endpoints listening", address=f"{bound[0]}:{bound[1]}")
        self.kube = KubeClient.auto(settings.kubeconfig, settings.kubecontext, settings.kube)
        self.plugins = PluginManager.discover(self._plugin_settings())
        log.info("plugins discovered", count=len(self.plugins.list_plugins()))
        locations = Locations(self.kube, self.plugins, settings.namespace)
        tokens = DownloadTokens()
        self.ctx = ControllerContext(
            kube=self.kube,
            settings=settings,
            plugins=self.plugins,
            locations=locations,
            metrics=self.metrics,
            events=EventRecorder(self.kube),
            tokens=tokens,
        )
        if settings.enabled("download-request"):
            self._start_downloads(tokens, locations)
        if settings.leader.enabled:
            identity = settings.leader.identity or f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"
            settings.leader.identity = identity
            self.elector = LeaderElector(
                self.kube, settings.namespace, settings.leader, self._start_leading, self._stop_leading
            )
            log.info("waiting for the leader lease", identity=identity, lease=settings.leader.lease_name)
            self.elector.start()
        else:
            self._start_leading()

    def _plugin_settings(self) -> PluginSettings:
        """Plugins that read the cluster (item actions) need the server's kubeconfig: they inherit the
        environment, so --kubeconfig is passed on as KUBECONFIG (in a pod they use the service account)."""
        env: dict[str, str] = {"VELORO_NAMESPACE": self.settings.namespace}  # where plugin ConfigMaps live
        # Plugins' own clients (CSI snapshots, RBAC lookups) get the server's rate limit, not a lower one.
        env["VELORO_CLIENT_QPS"] = f"{self.settings.kube.qps:g}"
        env["VELORO_CLIENT_BURST"] = str(self.settings.kube.burst)
        if self.settings.kubeconfig:
            env["KUBECONFIG"] = os.path.abspath(self.settings.kubeconfig)
        plugin_settings = PluginSettings(plugin_dirs=list(self.settings.plugin_dirs), extra_env=env)
        if not self.settings.entry_point_plugins:
            plugin_settings = dataclasses.replace(plugin_settings, entry_point_group=None)
        return plugin_settings

    def _start_downloads(self, tokens: DownloadTokens, locations: Locations) -> None:
        assert self.ctx is not None
        host, port = parse_address(self.settings.download_address, "127.0.0.1")

        def opener(location: str):  # type: ignore[no-untyped-def]
            from veloro_core.controllers.lookup import get_bsl

            assert self.ctx is not None
            return locations.backup_store(get_bsl(self.ctx, location))

        self.downloads = DownloadServer(host, port, tokens, opener)
        self.downloads.start()
        bound_host, bound_port = self.downloads.address
        self.ctx.download_base = (
            self.settings.download_url_base.rstrip("/") or f"http://{bound_host}:{bound_port}"
        )
        log.info("download server listening", url=self.ctx.download_base)

    # ---------------------------------------------------------------------------------------- leading
    def _start_leading(self) -> None:
        assert self.ctx is not None
        with self._lock:
            if self.stopping.is_set() or self.manager is not None:
                return
            fail_in_progress(self.ctx)
            controllers = [
                cls(self.ctx) for name, cls in CONTROLLER_CLASSES.items() if self.settings.enabled(name)
            ]
            self.manager = ControllerManager(controllers)
            self.manager.start()
            self.metrics.leader.set(1)

    def _stop_leading(self) -> None:
        """The lease is lost: stop the controllers. Work still running would race the new leader, so if
        some does not finish quickly the process exits (its Deployment restarts it)."""
        with self._lock:
            manager, self.manager = self.manager, None
            self.metrics.leader.set(0)
        if manager is not None and manager.stop(timeout=5.0):
            log.error(
                "lost the lease with operations still running: exiting so they cannot race the new leader"
            )
            os._exit(1)

    # ---------------------------------------------------------------------------------------- health
    def readiness(self) -> list[str]:
        problems: list[str] = []
        if self.plugins is None:
            problems.append("plugins not discovered yet")
        if not self._kube_reachable():
            problems.append("the Kubernetes API is not reachable")
        if self.stopping.is_set():
            problems.append("the server is stopping")
        return problems

    def _kube_reachable(self) -> bool:
        checked, ok = self._kube_ok
        if time.monotonic() - checked < 5.0:
            return ok
        try:
            ok = self.kube is not None and bool(self.kube.get_json("/version"))
        except KubeError:
            ok = False
        self._kube_ok = (time.monotonic(), ok)
        return ok

    # ---------------------------------------------------------------------------------------- stop
    def request_stop(self, signum: int = signal.SIGTERM, frame: FrameType | None = None) -> None:
        self.stopping.set()

    def shutdown(self) -> None:
        settings = self.settings
        log.info(
            "stopping: no new work; waiting for running operations", timeout=settings.terminating_timeout
        )
        with self._lock:
            manager, self.manager = self.manager, None
        if manager is not None:
            for controller, keys in manager.stop(settings.terminating_timeout):
                if self.ctx is not None and controller.NAME in ("backup", "restore"):
                    fail_unfinished(self.ctx, Backup if controller.NAME == "backup" else Restore, keys)
        if self.ctx is not None:
            self.ctx.frozen.set()
        if self.elector is not None:
            self.elector.stop(release=True)
        self.metrics.leader.set(0)
        if self.plugins is not None:
            self.plugins.close()
        if self.ctx is not None:
            self.ctx.locations.close()
        for endpoint in (self.downloads, self.health):
            if endpoint is not None:
                endpoint.stop()
        log.info("server stopped")

    def run(self) -> int:
        """Run until SIGTERM/SIGINT; the exit code."""
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        try:
            self.start()
            while not self.stopping.wait(0.5):
                pass
        finally:
            self.shutdown()
        return self.exit_code
