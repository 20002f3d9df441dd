"""Helpers of the end-to-end tests: everything goes through real processes over real HTTP.

- a kubesim cluster (`kubesim.testing.KubeSimProcess`) into which veloro is put with `veloro install`;
- `veloro server` as a subprocess (its own process group, so its plugin processes are stopped with it);
- the `veloro` CLI as a subprocess (`python -m veloro_core.cli ...`) with a private client config;
- the quickstart's sample app (examples/quickstart) deployed into any namespace with the real kubectl.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from kubesim.testing import KubeSimProcess, die_with_parent

NS = "veloro"
REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "quickstart"
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(fn: Callable[[], T | None], timeout: float = 30.0, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


@dataclass
class Cli:
    """Runs `veloro` against one cluster, as a user at a shell would (no terminal: stdin closed)."""

    kubeconfig: Path
    home: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(
        self, *args: str, code: int | None = 0, timeout: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        """Run `veloro ARGS`; assert the exit code unless `code` is None."""
        env = {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "COLUMNS": "200",
            **self.env,
        }
        env.pop("VELORO_DEBUG", None)
        result = subprocess.run(
            [sys.executable, "-m", "veloro_core.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
        )
        if code is not None and result.returncode != code:
            raise AssertionError(
                f"`veloro {' '.join(args)}` exited {result.returncode}, expected {code}\n"
                f"stdout:\n{result.stdout[-4000:]}\nstderr:\n{result.stderr[-4000:]}"
            )
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "-o", "json").stdout)


class Server:
    """`veloro server` against one kubesim, with fast timings; extra flags and environment per test."""

    def __init__(
        self, sim: KubeSimProcess, *flags: str, env: dict[str, str] | None = None, fast: bool = True
    ) -> None:
        self.sim = sim
        self.flags = list(flags)
        self.fast = fast
        self.env = env or {}
        self.metrics_port = free_port()
        self.download_port = free_port()
        self.plugin_dir = Path(tempfile.mkdtemp(prefix="veloro-e2e-plugins-"))
        self.log_path = Path(tempfile.mkstemp(prefix="veloro-e2e-server-", suffix=".log")[1])
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        command = [
            sys.executable, "-m", "veloro_core.cli", "server",
            "--kubeconfig", str(self.sim.kubeconfig),
            "--namespace", NS,
            "--plugin-dir", str(self.plugin_dir),
            "--no-entry-point-plugins",
            "--metrics-address", f"127.0.0.1:{self.metrics_port}",
            "--download-address", f"127.0.0.1:{self.download_port}",
        ]  # fmt: skip
        if self.fast:  # test timings (hidden flags); without them the server runs with its defaults
            command += [
                "--leader-lease-duration", "3s",
                "--leader-renew-deadline", "2s",
                "--leader-retry-period", "300ms",
                "--tick-period", "200ms",
            ]  # fmt: skip
        return command + self.flags

    def metric(self, name: str) -> float | None:
        """The first sample of `name` (with any labels) on /metrics."""
        for line in self.http("/metrics")[1].splitlines():
            if line.startswith((name + " ", name + "{")):
                return float(line.split()[-1])
        return None

    def start(self) -> Server:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.command(),
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env},
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        wait_for(self.ready, 30, "server readiness")
        return self

    def http(self, path: str) -> tuple[int, str]:
        try:
            url = f"http://127.0.0.1:{self.metrics_port}{path}"
            with urllib.request.urlopen(url, timeout=5) as response:
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

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def stop(self) -> int | None:
        """SIGTERM (the graceful path); SIGKILL the group if it does not stop in time."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
            raise AssertionError(f"the server did not stop on SIGTERM:\n{self.log()}") from None

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.log_path.unlink(missing_ok=True)


@dataclass
class Stack:
    """One cluster with veloro installed and a server running: what a module of tests shares."""

    sim: KubeSimProcess
    cli: Cli
    server: Server
    bucket: Path | None = None  # the bucket folder of a filesystem store

    @property
    def store(self) -> Path:
        assert self.bucket is not None, "this stack has no filesystem store"
        return self.bucket

    def kubectl(self, *args: str, check: bool = True, input: str | None = None) -> str:
        return str(self.sim.kubectl(*args, check=check, input=input).stdout)

    def kget(self, *args: str) -> Any:
        return json.loads(self.kubectl("get", *args, "-o", "json"))

    def veloro_obj(self, plural: str, name: str) -> dict[str, Any] | None:
        result = self.sim.kubectl("get", f"{plural}.veloro.io", name, "-n", NS, "-o", "json", check=False)
        return json.loads(result.stdout) if result.returncode == 0 else None

    def wait_location_available(self, name: str = "default", timeout: float = 30) -> None:
        def available() -> bool:
            obj = self.veloro_obj("backupstoragelocations", name) or {}
            return (obj.get("status") or {}).get("phase") == "Available"

        wait_for(available, timeout, f"backup storage location {name} Available\n{self.server.log()}")


@contextmanager
def start_stack(
    cli_home: Path,
    install_args: list[str],
    server_flags: list[str],
    server_env: dict[str, str] | None = None,
    *,
    fast: bool = True,
) -> Iterator[Stack]:
    """kubesim + `veloro install ARGS` + `veloro server FLAGS`; yields the Stack, stops it all."""
    with KubeSimProcess() as sim:
        cli = Cli(sim.kubeconfig, cli_home)
        cli.run("install", "--namespace", NS, *install_args)
        server = Server(sim, *server_flags, env=server_env, fast=fast)
        try:
            server.start()
            stack = Stack(sim, cli, server)
            stack.wait_location_available()
            yield stack
        finally:
            code = server.stop()
            log = server.log()
            server.close()
            assert code == 0, f"the server exited with {code} on SIGTERM:\n{log}"


def sample_app(namespace: str) -> str:
    """The quickstart app (deployment, service, configmap, secret, PVC, a Widget) in `namespace`."""
    docs = [d for d in yaml.safe_load_all((SAMPLE / "app.yaml").read_text()) if d]
    for doc in docs:
        if doc["kind"] == "Namespace":
            doc["metadata"]["name"] = namespace
        else:
            doc["metadata"]["namespace"] = namespace
    return yaml.safe_dump_all(docs)


def deploy_sample_app(stack: Stack, namespace: str) -> None:
    stack.kubectl("apply", "-f", str(SAMPLE / "crd.yaml"))
    stack.kubectl("wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=30s")
    stack.kubectl("apply", "-f", "-", input=sample_app(namespace))
    stack.kubectl(
        "wait", "--for=jsonpath={.status.phase}=Bound", "pvc/web-data", "-n", namespace, "--timeout=30s"
    )


APP_KINDS = "deployments,services,configmaps,secrets,persistentvolumeclaims,widgets.example.com"
# Fields the API server or the restore sets, which differ legitimately between the original and the copy.
SERVER_SET_SPEC = {
    "Service": ("clusterIP", "clusterIPs"),
    "PersistentVolumeClaim": ("volumeName", "dataSource", "dataSourceRef"),
}


def app_snapshot(stack: Stack, namespace: str) -> dict[str, Any]:
    """{kind/name: what must survive a backup and restore} for the sample app's objects in `namespace`."""
    out: dict[str, Any] = {}
    for item in stack.kget(APP_KINDS, "-n", namespace)["items"]:
        kind, meta = item["kind"], item["metadata"]
        if kind == "ConfigMap" and meta["name"] == "kube-root-ca.crt":
            continue  # made by the cluster in every namespace
        labels = {
            k: v
            for k, v in (meta.get("labels") or {}).items()
            if not k.startswith(("velero.io/", "veloro.io/"))
        }
        spec = {k: v for k, v in (item.get("spec") or {}).items() if k not in SERVER_SET_SPEC.get(kind, ())}
        out[f"{kind}/{meta['name']}"] = {
            "labels": labels,
            "spec": spec,
            "data": item.get("data"),
            "type": item.get("type"),
        }
    return out


@contextmanager
def moto_server(log_dir: Path) -> Iterator[str]:
    """moto in server mode (a real S3 endpoint over HTTP on 127.0.0.1); yields its URL."""
    port = free_port()
    log_path = log_dir / "moto.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"moto exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=2).close()
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False
        return True

    try:
        wait_for(answers, 30, "moto server")
        yield url
    finally:
        proc.kill()
        proc.wait(10)
