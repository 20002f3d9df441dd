"""Helpers of the server tests: a kubesim cluster prepared for veloro (CRDs, namespace, a filesystem
location) and `veloro server` as a real subprocess, reached over real HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from kubesim.testing import KubeSimProcess, die_with_parent
from veloro_core.api.crdgen import all_crds
from veloro_core.kube import GroupVersionResource, KubeClient, NotFound

NS = "veloro"
CRDS = GroupVersionResource("apiextensions.k8s.io", "v1", "customresourcedefinitions")
NAMESPACES = GroupVersionResource("", "v1", "namespaces")
CONFIGMAPS = GroupVersionResource("", "v1", "configmaps")
LEASES = GroupVersionResource("coordination.k8s.io", "v1", "leases")
T = TypeVar("T")


def veloro(plural: str) -> GroupVersionResource:
    return GroupVersionResource("veloro.io", "v1", plural)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    fn: Callable[[], T | None], timeout: float = 30.0, what: str = "condition", interval: float = 0.1
) -> T:
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def prepare_cluster(kube: KubeClient) -> None:
    """CRDs, the veloro namespace and an `app` namespace with two config maps."""
    for crd in all_crds():
        kube.create(CRDS, crd)
    for name in (NS, "app"):
        kube.create(NAMESPACES, {"metadata": {"name": name}})
    for name in ("one", "two"):
        kube.create(CONFIGMAPS, {"metadata": {"name": name, "namespace": "app"}, "data": {"k": name}})
    # the CRDs must be served before objects of them are created
    wait_for(lambda: _served(kube), 20, "veloro CRDs served")


def _served(kube: KubeClient) -> bool:
    try:
        kube.list_items(veloro("backups"), NS).__next__()
    except StopIteration:
        return True
    except Exception:
        return False
    return True


def bsl(
    name: str,
    root: Path | str,
    bucket: str = "bucket",
    *,
    provider: str = "filesystem",
    config: dict[str, str] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    return {
        "apiVersion": "veloro.io/v1",
        "kind": "BackupStorageLocation",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "provider": provider,
            "objectStorage": {"bucket": bucket},
            "config": config if config is not None else {"root": str(root)},
            **spec,
        },
    }


def backup(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "veloro.io/v1",
        "kind": "Backup",
        "metadata": {"name": name, "namespace": NS},
        "spec": spec,
    }


def get(kube: KubeClient, plural: str, name: str) -> dict[str, Any] | None:
    try:
        return kube.get(veloro(plural), name, NS)
    except NotFound:
        return None


def phase(kube: KubeClient, plural: str, name: str) -> str:
    obj = get(kube, plural, name)
    return str(((obj or {}).get("status") or {}).get("phase") or "")


def wait_phase(
    kube: KubeClient, plural: str, name: str, phases: tuple[str, ...], timeout: float = 30.0
) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        obj = get(kube, plural, name)
        if obj is not None and (obj.get("status") or {}).get("phase") in phases:
            return obj
        return None

    return wait_for(done, timeout, f"{plural}/{name} in {phases}")


class ServerProcess:
    """`veloro server` in a subprocess with fast timings (lease 3 s, ticks 0.2 s)."""

    def __init__(self, sim: KubeSimProcess, *args: str, plugin_dir: Path | None = None) -> None:
        self.sim = sim
        self.args = list(args)
        self.metrics_port = free_port()
        self.download_port = free_port()
        self.plugin_dir = plugin_dir or Path(tempfile.mkdtemp(prefix="veloro-plugins-"))
        self.log_path = Path(tempfile.mkstemp(prefix="veloro-server-", suffix=".log")[1])
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "veloro_core.cli",
            "server",
            "--kubeconfig",
            str(self.sim.kubeconfig),
            "--plugin-dir",
            str(self.plugin_dir),
            "--metrics-address",
            f"127.0.0.1:{self.metrics_port}",
            "--download-address",
            f"127.0.0.1:{self.download_port}",
            "--leader-lease-duration",
            "3s",
            "--leader-renew-deadline",
            "2s",
            "--leader-retry-period",
            "300ms",
            "--tick-period",
            "200ms",
            *self.args,
        ]

    def start(self, wait: bool = True) -> ServerProcess:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.command(),
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        if wait:
            wait_for(self.ready, 30, "server readiness")
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}"

    def http(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as response:
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read().decode()
        except OSError:
            return 0, ""

    def ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"the server exited with {self.proc.returncode}:\n{self.log()}")
        return self.http("/readyz")[0] == 200

    def metric(self, name: str, labels: str = "") -> float | None:
        _, text = self.http("/metrics")
        wanted = f"{name}{{{labels}}}" if labels else name
        for line in text.splitlines():
            if line.startswith(wanted + " "):
                return float(line.split()[-1])
        return None

    def is_leader(self) -> bool:
        return self.metric("veloro_server_leader") == 1.0

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def stop(self, timeout: float = 30.0) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"the server did not stop on SIGTERM within {timeout}s:\n{self.log()}"
            ) from None

    def kill(self) -> None:
        """SIGKILL the whole process group (the server and its plugin processes)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def close(self) -> None:
        self.kill()
        self.log_path.unlink(missing_ok=True)


FIXTURES = Path(__file__).parent / "fixtures"


def install_test_plugins(plugin_dir: Path, record_file: Path) -> Path:
    """Copy fixtures/test_plugins.py into `plugin_dir` as an executable run by this interpreter."""
    source = (FIXTURES / "test_plugins.py").read_text()
    source = source.replace('RECORD_FILE = "/dev/null"', f"RECORD_FILE = {str(record_file)!r}")
    target = plugin_dir / "veloro-test-plugins"
    target.write_text(f"#!{sys.executable}\n{source}")
    target.chmod(0o755)
    return target
