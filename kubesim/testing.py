"""Run kubesim as a subprocess for tests, benchmarks and demos.

    with KubeSimProcess(data_dir=tmp_path / "cluster") as sim:
        sim.kubectl("apply", "-f", "app.yaml")
        client = sim.api_client()          # a kubernetes.client.ApiClient
        sim.restart()                      # same port, same data dir: everything is still there
        sim.kill()                         # SIGKILL, for durability tests; start() again to come back

The process listens on 127.0.0.1 on a free port; `.url` and `.kubeconfig` (a file path) describe it.
Each instance has a private work directory for its kubeconfig, server log and kubectl's discovery cache.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

READY_PREFIX = "kubesim listening on "


class KubeSimError(RuntimeError):
    """kubesim did not start or stop as expected; the message includes the tail of its log."""


class KubeSimProcess:
    def __init__(
        self,
        data_dir: str | Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        kubeconfig: str | Path | None = None,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 20.0,
        env: dict[str, str] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.host = host
        self.port = port
        self.extra_args = list(extra_args)
        self.startup_timeout = startup_timeout
        self.env = env
        self.workdir = Path(tempfile.mkdtemp(prefix="kubesim-proc-"))
        self.kubeconfig = Path(kubeconfig) if kubeconfig is not None else self.workdir / "kubeconfig"
        self.log_path = self.workdir / "kubesim.log"
        self.kubectl_cache = self.workdir / "kubectl-cache"
        self.url = ""
        self.proc: subprocess.Popen[bytes] | None = None

    # ---- lifecycle ---------------------------------------------------------------------------
    def start(self) -> KubeSimProcess:
        if self.proc is not None and self.proc.poll() is None:
            raise KubeSimError("kubesim is already running; call stop() or kill() first")
        last_error: KubeSimError | None = None
        for _ in range(5 if self.port else 1):
            try:
                self._spawn()
                return self
            except KubeSimError as exc:  # the fixed port may still be held briefly after a restart
                last_error = exc
                time.sleep(0.2)
        assert last_error is not None
        raise last_error

    def _command(self) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "kubesim",
            "serve",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--kubeconfig-out",
            str(self.kubeconfig),
            "--exit-on-stdin-eof",  # if this process dies, the pipe closes and the server stops
        ]
        if self.data_dir is not None:
            cmd += ["--data-dir", str(self.data_dir)]
        else:  # in memory; volumes in our work dir, so even a killed server leaves nothing behind
            cmd += ["--volume-dir", str(self.workdir / "volumes")]
        return cmd + self.extra_args

    def _spawn(self) -> None:
        env = {**os.environ, **(self.env or {})}
        env.setdefault("PYTHONUNBUFFERED", "1")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self._command(),
                stdout=subprocess.PIPE,
                stderr=log,
                stdin=subprocess.PIPE,
                env=env,
                start_new_session=True,
            )
        line = self._read_ready_line()
        # "kubesim listening on http://127.0.0.1:PORT kubeconfig=FILE"
        url = line[len(READY_PREFIX) :].split()[0]
        self.url = url
        self.port = int(url.rsplit(":", 1)[1])

    def _read_ready_line(self) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + self.startup_timeout
        buf = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                buf += chunk
                for raw in buf.split(b"\n")[:-1]:
                    text = raw.decode(errors="replace")
                    if text.startswith(READY_PREFIX):
                        return text
            elif self.proc.poll() is not None:
                break
        self._terminate(signal.SIGKILL)
        raise KubeSimError(
            f"kubesim did not become ready within {self.startup_timeout}s "
            f"(exit code {self.proc.returncode}); log tail:\n{self.log_tail()}"
        )

    def _terminate(self, sig: int, timeout: float = 10.0) -> int | None:
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)
        for pipe in (proc.stdout, proc.stdin):
            if pipe is not None:
                pipe.close()
        return proc.returncode

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM and wait: the clean shutdown path."""
        code = self._terminate(signal.SIGTERM, timeout)
        self.proc = None
        if code not in (None, 0, -signal.SIGTERM):
            raise KubeSimError(f"kubesim exited with code {code}; log tail:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL without warning (durability tests)."""
        self._terminate(signal.SIGKILL)
        self.proc = None

    def restart(self, kill: bool = False) -> KubeSimProcess:
        """Stop (or kill) and start again on the same port with the same data dir."""
        if kill:
            self.kill()
        else:
            self.stop()
        return self.start()

    def close(self) -> None:
        if self.proc is not None:
            self.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> KubeSimProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self.proc is not None:
                self.stop()
        finally:
            self.close()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "<no log>"

    # ---- clients -----------------------------------------------------------------------------
    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        """Run the real kubectl against this server (private discovery cache per instance)."""
        cmd = ["kubectl", f"--kubeconfig={self.kubeconfig}", f"--cache-dir={self.kubectl_cache}", *args]
        result = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise KubeSimError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def api_client(self) -> Any:
        """A kubernetes.client.ApiClient for this server (imports the kubernetes package lazily)."""
        from kubernetes import client, config

        cfg = client.Configuration()
        config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=str(self.kubeconfig), client_configuration=cfg
        )
        return client.ApiClient(cfg)


def die_with_parent() -> None:
    """`preexec_fn` for test subprocesses (a veloro server, a node agent): the kernel kills the child when
    the test process dies, even by SIGKILL or a timeout, so no test leaves an orphaned server behind."""
    import ctypes
    import signal as _signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, _signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: best effort
        pass
