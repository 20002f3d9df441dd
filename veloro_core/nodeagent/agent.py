"""The node agent process: PodVolumeBackup, PodVolumeRestore and BackupRepository controllers for one node.

A pass lists the three kinds in the server namespace and hands every object that needs work to a small
thread pool (an object already being worked on is not handed out twice). Passes run every
`resync` seconds and immediately after a watch event, so work starts within a fraction of a second
while a lost watch never loses work.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from veloro_core.api import GROUP, VERSION, BackupRepository
from veloro_core.kube import GroupVersionResource, KubeClient, KubeError
from veloro_core.nodeagent.controllers import (
    AgentContext,
    fail_interrupted,
    is_mine_pvb,
    reconcile_pvb,
    reconcile_pvr,
)
from veloro_core.podvolume.backuprepo import RepositoryManager
from veloro_core.podvolume.credentials import CredentialFiles
from veloro_core.podvolume.objects import PVBS, PVRS
from veloro_core.podvolume.restic import Restic

log = structlog.get_logger("veloro.nodeagent")
REPOS = GroupVersionResource(GROUP, VERSION, BackupRepository.PLURAL)
Obj = dict[str, Any]


@dataclass
class AgentSettings:
    namespace: str = "veloro"
    node_name: str = ""
    pods_dir: Path = Path("/var/lib/kubelet/pods")
    workers: int = 2
    resync: float = 2.0
    restic_binary: str = "restic"
    lock_wait: float = 60.0


class NodeAgent:
    def __init__(self, kube: KubeClient, settings: AgentSettings) -> None:
        if not settings.node_name:
            raise ValueError("the node agent needs a node name (--node-name or $NODE_NAME)")
        self.kube = kube
        self.settings = settings
        self.files = CredentialFiles(kube, settings.namespace)
        restic = Restic(settings.restic_binary, lock_wait=settings.lock_wait)
        self.ctx = AgentContext(
            kube,
            settings.namespace,
            settings.node_name,
            settings.pods_dir,
            restic,
            RepositoryManager(kube, settings.namespace, restic, self.files),
        )
        self._pool = ThreadPoolExecutor(max_workers=max(1, settings.workers), thread_name_prefix="pv-worker")
        self._busy: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()

    # ---- lifecycle ------------------------------------------------------------------------------
    def run(self) -> None:
        """Until stop(): fail what a previous run left InProgress, then pass after pass."""
        log.info(
            "node agent starting",
            node=self.settings.node_name,
            pods_dir=str(self.settings.pods_dir),
            restic=self.ctx.restic.version() or "not found",
        )
        self._recover()
        for ref in (PVBS, PVRS):
            threading.Thread(
                target=self._watch, args=(ref,), daemon=True, name=f"watch-{ref.resource}"
            ).start()
        while not self._stop.is_set():
            try:
                self.run_pass()
            except KubeError as exc:
                log.warning("listing failed; retrying", error=str(exc))
            self._wake.wait(self.settings.resync)
            self._wake.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.files.close()
        log.info("node agent stopped")

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _recover(self) -> None:
        for ref in (PVBS, PVRS):
            try:
                for obj in self.kube.list_items(ref, self.settings.namespace):
                    fail_interrupted(self.ctx, obj, ref)
            except KubeError as exc:
                log.warning("could not check for interrupted work", kind=ref.resource, error=str(exc))

    def _watch(self, ref: GroupVersionResource) -> None:
        while not self._stop.is_set():
            try:
                for _event in self.kube.watch(ref, self.settings.namespace, timeout_seconds=30):
                    self._wake.set()
                    if self._stop.is_set():
                        return
            except KubeError as exc:
                log.debug("watch ended", kind=ref.resource, error=str(exc))
                self._stop.wait(1.0)

    # ---- passes ---------------------------------------------------------------------------------
    def run_pass(self) -> None:
        ns = self.settings.namespace
        for obj in self.kube.list_items(PVBS, ns):
            if is_mine_pvb(self.ctx, obj):
                self._submit(f"pvb/{obj['metadata']['name']}", reconcile_pvb, obj)
        for obj in self.kube.list_items(PVRS, ns):
            if ((obj.get("status") or {}).get("phase") or "New") == "New":
                self._submit(f"pvr/{obj['metadata']['name']}", reconcile_pvr, obj)
        for obj in self.kube.list_items(REPOS, ns):
            # New ones only: a NotReady repository is re-checked by the next backup that needs it, not
            # hammered every pass (a wrong password stays wrong until someone fixes the secret).
            if ((obj.get("status") or {}).get("phase") or "New") == "New":
                self._submit(f"repo/{obj['metadata']['name']}", self._reconcile_repo, obj)

    def _reconcile_repo(self, ctx: AgentContext, obj: Obj) -> None:
        ctx.repos.reconcile(obj)

    def _submit(self, key: str, fn: Callable[[AgentContext, Obj], None], obj: Obj) -> None:
        with self._lock:
            if key in self._busy:
                return
            self._busy.add(key)
        future = self._pool.submit(fn, self.ctx, obj)
        future.add_done_callback(lambda f: self._done(key, f))

    def _done(self, key: str, future: Future[None]) -> None:
        with self._lock:
            self._busy.discard(key)
        exc = future.exception() if not future.cancelled() else None
        if exc is not None:
            log.error("worker failed", key=key, error=f"{type(exc).__name__}: {exc}")
