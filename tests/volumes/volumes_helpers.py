"""Helpers of the end-to-end volume tests: a kubesim with a data dir prepared for veloro, and the real
`veloro server` and `veloro node-agent` as subprocesses (each process's log is kept for failure output)."""

from __future__ import annotations

import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubesim.testing import KubeSimProcess, die_with_parent
from veloro_core.api.crdgen import all_crds
from veloro_core.kube import AlreadyExists, GroupVersionResource, KubeClient, NotFound

NS = "veloro"
NODE = "kubesim-node"
Obj = dict[str, Any]
CRDS = GroupVersionResource("apiextensions.k8s.io", "v1", "customresourcedefinitions")
NAMESPACES = GroupVersionResource("", "v1", "namespaces")
PODS = GroupVersionResource("", "v1", "pods")
PVCS = GroupVersionResource("", "v1", "persistentvolumeclaims")
PVS = GroupVersionResource("", "v1", "persistentvolumes")
VS = GroupVersionResource("snapshot.storage.k8s.io", "v1", "volumesnapshots")
VSC = GroupVersionResource("snapshot.storage.k8s.io", "v1", "volumesnapshotcontents")


def veloro(plural: str) -> GroupVersionResource:
    return GroupVersionResource("veloro.io", "v1", plural)


def wait_until(check: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def get(kube: KubeClient, gvr: GroupVersionResource, name: str, ns: str | None = None) -> Obj | None:
    try:
        return kube.get(gvr, name, ns)
    except NotFound:
        return None


def prepare(kube: KubeClient, store_root: Path) -> None:
    """veloro's CRDs (established), its namespace and a filesystem backup storage location `default`."""
    for crd in all_crds():
        try:
            kube.create(CRDS, crd)
        except AlreadyExists:
            pass

    def established() -> bool:
        return all(
            any(
                c.get("type") == "Established" and c.get("status") == "True"
                for c in ((get(kube, CRDS, crd["metadata"]["name"]) or {}).get("status") or {}).get(
                    "conditions"
                )
                or []
            )
            for crd in all_crds()
        )

    wait_until(established, what="veloro CRDs established")
    kube.discovery.refresh()
    kube.create(NAMESPACES, {"metadata": {"name": NS}})
    kube.create(
        veloro("backupstoragelocations"),
        {
            "apiVersion": "veloro.io/v1",
            "kind": "BackupStorageLocation",
            "metadata": {"name": "default", "namespace": NS},
            "spec": {
                "provider": "veloro.io/filesystem",
                "objectStorage": {"bucket": "bucket"},
                "config": {"root": str(store_root)},
                "default": True,
            },
        },
        NS,
    )


def wait_phase(
    kube: KubeClient, plural: str, name: str, phases: tuple[str, ...], timeout: float = 45.0
) -> Obj:
    def done() -> Obj | None:
        obj = get(kube, veloro(plural), name, NS)
        return obj if ((obj or {}).get("status") or {}).get("phase") in phases else None

    found: Obj = wait_until(done, timeout, f"{plural}/{name} in {phases}")
    return found


def wait_namespace_gone(kube: KubeClient, name: str) -> None:
    kube.delete(NAMESPACES, name)
    wait_until(lambda: get(kube, NAMESPACES, name) is None, 30, f"namespace {name} deleted")


def read_store_json(path: Path) -> Any:
    return json.loads(gzip.decompress(path.read_bytes()))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Process:
    """A veloro subprocess in its own process group, its output in a log file."""

    def __init__(self, command: list[str], log_path: Path) -> None:
        self.command = command
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.command,
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-8000:]

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def node_agent(sim: KubeSimProcess, data_dir: Path, log_dir: Path) -> Process:
    command = [
        sys.executable, "-m", "veloro_core.cli", "node-agent", "--kubeconfig", str(sim.kubeconfig),
        "-n", NS, "--node-name", NODE, "--kubelet-root", str(data_dir / "kubelet"),
    ]  # fmt: skip
    return Process(command, log_dir / "node-agent.log").start()


def server(sim: KubeSimProcess, log_dir: Path) -> Process:
    """`veloro server` with its default built-in plugins (core actions, aws, CSI), fast timings."""
    metrics = _free_port()
    plugin_dir = log_dir / "plugins"
    plugin_dir.mkdir(exist_ok=True)
    command = [
        sys.executable, "-m", "veloro_core.cli", "server", "--kubeconfig", str(sim.kubeconfig),
        "--plugin-dir", str(plugin_dir), "--no-entry-point-plugins",
        "--metrics-address", f"127.0.0.1:{metrics}", "--download-address", f"127.0.0.1:{_free_port()}",
        "--no-leader-elect", "--tick-period", "200ms", "-n", NS,
    ]  # fmt: skip
    process = Process(command, log_dir / "server.log").start()
    process.metrics_url = f"http://127.0.0.1:{metrics}"  # type: ignore[attr-defined]

    def ready() -> bool:
        if not process.alive():
            raise AssertionError(f"the server exited:\n{process.log()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{metrics}/readyz", timeout=2) as response:
                return int(response.status) == 200
        except (urllib.error.URLError, OSError):
            return False

    wait_until(ready, 45, "server readiness")
    return process


def metric(process: Process, name: str) -> float:
    """The sum of a metric's samples (all label values)."""
    url = process.metrics_url  # type: ignore[attr-defined]
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        text = response.read().decode()
    return sum(
        float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith(name + "{") or line.startswith(name + " ")
    )
