"""Assembly of a kubesim server: store (+ SQLite), registry, API semantics, HTTP app, controllers."""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import structlog
from aiohttp import web

from kubesim.bootstrap import bootstrap
from kubesim.builtins import install_builtins
from kubesim.controllers.base import Context, Controller
from kubesim.discovery import Discovery
from kubesim.httpapi import MAX_BODY, HttpApi
from kubesim.objects import Api
from kubesim.openapi import OpenApi
from kubesim.persist import SqlitePersistence
from kubesim.resources import Registry
from kubesim.reviews import install_reviews
from kubesim.store import EVENT_LOG_SIZE, Store

log = structlog.get_logger("kubesim.server")


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 0
    data_dir: Path | None = None
    volume_dir: Path | None = None  # without data_dir: where volume directories go (else a temp dir)
    kubeconfig_out: Path | None = None
    fsync: bool = False
    list_snapshot_ttl: float = 300.0
    event_log_size: int = EVENT_LOG_SIZE
    pod_delay: float = 0.05
    node_name: str = "kubesim-node"
    controllers: bool = True
    extra: dict[str, str] = field(default_factory=dict)


def kubeconfig_text(url: str) -> str:
    return (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: kubesim\n  cluster:\n    server: {url}\n"
        "contexts:\n- name: kubesim\n  context:\n    cluster: kubesim\n    user: kubesim\n"
        "    namespace: default\n"
        "current-context: kubesim\n"
        "users:\n- name: kubesim\n  user: {}\n"
    )


def _controllers(ctx: Context) -> list[Controller]:
    from kubesim.controllers.batch import JobController, StatefulSetController
    from kubesim.controllers.crds import CrdController
    from kubesim.controllers.endpoints import EndpointsController
    from kubesim.controllers.gc import GarbageCollector
    from kubesim.controllers.kubelet import Kubelet
    from kubesim.controllers.namespaces import NamespaceController
    from kubesim.controllers.snapshots import SnapshotController
    from kubesim.controllers.storage import VolumeController
    from kubesim.controllers.workloads import (
        DaemonSetController,
        DeploymentController,
        ReplicaSetController,
        ReplicationControllerController,
    )

    gc = GarbageCollector(ctx)
    idx = gc.index
    return [
        CrdController(ctx),
        gc,
        NamespaceController(ctx),
        Kubelet(ctx),
        VolumeController(ctx),
        SnapshotController(ctx),
        DeploymentController(ctx, idx),
        ReplicaSetController(ctx, idx),
        ReplicationControllerController(ctx, idx),
        StatefulSetController(ctx, idx),
        JobController(ctx, idx),
        DaemonSetController(ctx, idx),
        EndpointsController(ctx),
    ]


class DataDirInUse(RuntimeError):
    """Another kubesim process serves this data dir: two writers would corrupt it."""


def _lock_data_dir(data_dir: Path) -> TextIO:
    handle = open(data_dir / "kubesim.lock", "a+")  # noqa: SIM115 - held for the life of the server
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        handle.seek(0)
        owner = handle.read().strip() or "unknown"
        handle.close()
        raise DataDirInUse(
            f"data dir {data_dir} is in use by another kubesim (pid {owner}); stop it or choose another "
            "--data-dir"
        ) from exc
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


class KubeSim:
    def __init__(self, cfg: ServerConfig) -> None:
        self.cfg = cfg
        self._tmp: Path | None = None
        self._lock: TextIO | None = None
        if cfg.data_dir is None:
            if cfg.volume_dir is not None:  # the caller owns it (and removes it)
                self.data_dir = cfg.volume_dir
                self.data_dir.mkdir(parents=True, exist_ok=True)
            else:
                self._tmp = Path(tempfile.mkdtemp(prefix="kubesim-"))
                self.data_dir = self._tmp
        else:
            self.data_dir = cfg.data_dir
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._lock = _lock_data_dir(self.data_dir)
        self.persistence = (
            SqlitePersistence(self.data_dir / "kubesim.db", cfg.fsync) if cfg.data_dir is not None else None
        )
        self.store = Store(self.persistence, log_size=cfg.event_log_size)
        self.store.snapshots.ttl = cfg.list_snapshot_ttl
        self.registry = Registry()
        install_builtins(self.registry)
        install_reviews(self.registry)
        self.api = Api(self.store, self.registry)
        self.controllers: list[Controller] = []
        self._stopping = False
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.kubeconfig: Path = cfg.kubeconfig_out or self.data_dir / "kubeconfig"

    async def start(self) -> str:
        loaded = self.persistence.load_into(self.store) if self.persistence else 0
        for e in self.store.entries("/services"):
            self.api.admission.observe_service(e.obj)
        ctx = Context(
            api=self.api, data_dir=self.data_dir, node_name=self.cfg.node_name, pod_delay=self.cfg.pod_delay
        )
        if self.cfg.controllers:
            self.controllers = _controllers(ctx)
        else:
            from kubesim.controllers.crds import CrdController

            self.controllers = [CrdController(ctx)]
        for c in self.controllers:
            c.start()
        bootstrap(self.api, self.cfg.node_name)
        http = HttpApi(self.api, Discovery(self.registry), OpenApi(self.registry), lambda: self._stopping)
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("*", "/{tail:.*}", http.handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.cfg.host, self.cfg.port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        self.kubeconfig.parent.mkdir(parents=True, exist_ok=True)
        self.kubeconfig.write_text(kubeconfig_text(self.url))
        log.info(
            "kubesim started",
            url=self.url,
            data_dir=str(self.data_dir),
            objects_loaded=loaded,
            resource_version=self.store.rv,
        )
        return self.url

    async def settle(self, timeout: float = 5.0) -> None:
        """Wait until the controllers have no queued work (tests and bootstrap use it)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if all(c.idle() for c in self.controllers):
                return
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._stopping = True
        self.store.close_watchers()
        for c in self.controllers:
            await c.stop()
        if self._runner is not None:
            await self._runner.cleanup()
        if self.persistence is not None:
            self.persistence.close()
        if self._lock is not None:
            self._lock.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
        log.info("kubesim stopped")
