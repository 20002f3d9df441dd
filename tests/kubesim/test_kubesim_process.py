"""The `kubesim serve` command and the KubeSimProcess helper that the rest of veloro relies on."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from kubesim_helpers import needs_kubectl

from kubesim.testing import KubeSimError, KubeSimProcess

READY = re.compile(r"^kubesim listening on (http://127\.0\.0\.1:(\d+)) kubeconfig=(\S+)$")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_ready_line_writes_kubeconfig_and_stops_cleanly(tmp_path: Path, sig: int) -> None:
    kubeconfig = tmp_path / "out" / "config"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubesim", "serve", "--port", "0", "--kubeconfig-out", str(kubeconfig)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        match = READY.match(proc.stdout.readline().strip())
        assert match is not None
        url, kubeconfig_path = match.group(1), Path(match.group(3))
        assert kubeconfig_path == kubeconfig
        config = yaml.safe_load(kubeconfig.read_text())
        assert config["clusters"][0]["cluster"]["server"] == url
        assert config["current-context"] == "kubesim"
        with urllib.request.urlopen(url + "/readyz") as resp:
            assert resp.read() == b"ok"
        proc.send_signal(sig)
        assert proc.wait(timeout=10) == 0
        assert proc.stderr is not None and "kubesim stopped" in proc.stderr.read()
    finally:
        proc.kill()


def test_busy_port_is_a_clear_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "kubesim", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


@needs_kubectl
def test_kubesim_process_restart_keeps_port_and_data(tmp_path: Path) -> None:
    with KubeSimProcess(data_dir=tmp_path / "d") as sim:
        url = sim.url
        sim.kubectl("create", "configmap", "keep", "--from-literal=a=b")
        sim.restart()
        assert sim.url == url and sim.running
        assert sim.kubectl("get", "cm", "keep", "-o", "jsonpath={.data.a}").stdout == "b"
        sim.kill()
        assert not sim.running
        sim.start()
        assert sim.kubectl("get", "cm", "keep", "-o", "name").stdout.strip() == "configmap/keep"
        assert "kubesim started" in sim.log_tail()
    assert not sim.workdir.exists()


def test_kubesim_process_reports_a_failed_start(tmp_path: Path) -> None:
    sim = KubeSimProcess(data_dir=tmp_path / "d", extra_args=["--no-such-flag"], startup_timeout=10)
    with pytest.raises(KubeSimError, match="did not become ready"):
        sim.start()
    sim.close()


@needs_kubectl
def test_a_data_dir_serves_one_process_at_a_time(tmp_path: Path) -> None:
    with KubeSimProcess(data_dir=tmp_path / "d") as sim:
        assert sim.proc is not None
        result = subprocess.run(
            [sys.executable, "-m", "kubesim", "serve", "--data-dir", str(tmp_path / "d")],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 2
        assert f"in use by another kubesim (pid {sim.proc.pid})" in result.stderr
        sim.restart(kill=True)  # the lock dies with the process: a restart after kill -9 works
        assert sim.running


def test_server_exits_when_its_parent_dies(tmp_path: Path) -> None:
    # A parent that starts kubesim through KubeSimProcess and is then killed without cleaning up.
    script = (
        "import os, sys; from kubesim.testing import KubeSimProcess\n"
        "sim = KubeSimProcess().start()\n"
        "print(sim.proc.pid, sim.workdir, flush=True)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    parent = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    server_pid, workdir = int(parent.stdout.split()[0]), Path(parent.stdout.split()[1])
    deadline = time.time() + 10
    try:
        while time.time() < deadline:
            try:
                os.kill(server_pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        os.kill(server_pid, signal.SIGKILL)
        pytest.fail("kubesim outlived the process that started it")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
