"""One kubesim with a data dir for the CSI tests (snapshot and volume data live there) and a client to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kubesim.testing import KubeSimProcess
from veloro_core.kube import KubeClient


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeSimProcess]:
    with KubeSimProcess(data_dir=tmp_path_factory.mktemp("csi-kubesim")) as process:
        yield process


@pytest.fixture(scope="module")
def kube(sim: KubeSimProcess) -> Iterator[KubeClient]:
    with KubeClient.from_kubeconfig(sim.kubeconfig) as client:
        yield client
