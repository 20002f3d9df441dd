"""Running the CLI in-process through main() (so exit codes and one-line errors are the real ones), and
a stand-in for the server's request controllers (DownloadRequest, ServerStatusRequest) until the real
server exists: a thread that answers requests in kubesim like the server will."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from veloro_core.cli import main as cli_main
from veloro_core.kube import GroupVersionResource, KubeClient, NotFound

BACKUPS = GroupVersionResource("veloro.io", "v1", "backups")
RESTORES = GroupVersionResource("veloro.io", "v1", "restores")
SCHEDULES = GroupVersionResource("veloro.io", "v1", "schedules")
BSLS = GroupVersionResource("veloro.io", "v1", "backupstoragelocations")
VSLS = GroupVersionResource("veloro.io", "v1", "volumesnapshotlocations")
DBRS = GroupVersionResource("veloro.io", "v1", "deletebackuprequests")
DOWNLOADS = GroupVersionResource("veloro.io", "v1", "downloadrequests")
SSRS = GroupVersionResource("veloro.io", "v1", "serverstatusrequests")
DEPLOYMENTS = GroupVersionResource("apps", "v1", "deployments")


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def invoke(*args: str, input: str | None = None) -> Result:
    runner = CliRunner()
    with runner.isolation(input=input) as (out, err, _):
        try:
            cli_main.main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        return Result(code, out.getvalue().decode(), err.getvalue().decode())


@dataclass
class Veloro:
    kubeconfig: str
    namespace: str

    def __call__(self, *args: str, input: str | None = None) -> Result:
        return invoke(*args, "--kubeconfig", self.kubeconfig, "-n", self.namespace, input=input)


def set_status(
    kube: KubeClient, gvr: GroupVersionResource, name: str, ns: str, status: dict[str, Any]
) -> None:
    kube.patch_status(gvr, name, {"status": status}, ns)


@contextmanager
def background(fn: Callable[[threading.Event], None]) -> Iterator[None]:
    stop = threading.Event()
    thread = threading.Thread(target=fn, args=(stop,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)


def wait_for(kube: KubeClient, gvr: GroupVersionResource, name: str, ns: str, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            kube.get(gvr, name, ns)
            return True
        except NotFound:
            time.sleep(0.05)
    return False


@contextmanager
def file_server(root: Path) -> Iterator[str]:
    """Serve `root` over http://127.0.0.1:<free port> (the server's signed-URL endpoint stand-in)."""
    handler = partial(SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None  # type: ignore[method-assign]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def request_answerer(
    kube: KubeClient,
    ns: str,
    *,
    files: dict[tuple[str, str], str] | None = None,
    plugins: list[dict[str, str]] | None = None,
    version: str = "9.9.9",
) -> Iterator[list[dict[str, Any]]]:
    """Answer DownloadRequests with files[(kind, name)] (a URL) and ServerStatusRequests with plugins.

    Yields the list of requests seen (as created), so tests can check what the CLI asked for.
    """
    seen: list[dict[str, Any]] = []
    done: set[str] = set()

    def loop(stop: threading.Event) -> None:
        while not stop.is_set():
            for req in kube.list_items(DOWNLOADS, ns):
                name = req["metadata"]["name"]
                if name in done:
                    continue
                done.add(name)
                seen.append(req)
                target = req["spec"]["target"]
                url = (files or {}).get((target["kind"], target["name"]), "")
                set_status(kube, DOWNLOADS, name, ns, {"phase": "Processed", "downloadURL": url})
            for req in kube.list_items(SSRS, ns):
                name = req["metadata"]["name"]
                if name in done:
                    continue
                done.add(name)
                seen.append(req)
                set_status(
                    kube,
                    SSRS,
                    name,
                    ns,
                    {"phase": "Processed", "serverVersion": version, "plugins": plugins or []},
                )
            time.sleep(0.05)

    with background(loop):
        yield seen


def write_gz(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data))
    return path
