"""One kubesim (with a data dir, so pods have volume directories) per module, veloro's CRDs, a filesystem
backup storage location, and the real `veloro node-agent` process serving the simulated node."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pv_helpers import SERVER_NS, ensure_namespace, install_crds, make_bsl, run_agent

from kubesim.testing import KubeSimProcess
from veloro_core.kube import KubeClient


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cluster")


@pytest.fixture(scope="module")
def sim(data_dir: Path) -> Iterator[KubeSimProcess]:
    with KubeSimProcess(data_dir=data_dir) as process:
        yield process


@pytest.fixture(scope="module")
def store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("store")


@pytest.fixture(scope="module")
def kube(sim: KubeSimProcess, store_root: Path) -> Iterator[KubeClient]:
    with KubeClient.from_kubeconfig(sim.kubeconfig) as client:
        install_crds(client)
        ensure_namespace(client, SERVER_NS)
        make_bsl(client, "default", store_root)
        yield client


@pytest.fixture(scope="module")
def agent_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("agent") / "node-agent.log"


@pytest.fixture(scope="module")
def agent(
    sim: KubeSimProcess, kube: KubeClient, data_dir: Path, agent_log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    log_path = agent_log
    with run_agent(sim.kubeconfig, data_dir / "kubelet", log_path) as proc:
        yield proc
    print(log_path.read_text()[-5000:])  # shown by pytest when a test of the module failed
