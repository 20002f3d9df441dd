"""tests/controllers reuse the cluster helpers of tests/server; one kubesim per module."""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "server"))

from server_helpers import prepare_cluster

from kubesim.testing import KubeSimProcess
from veloro_core.kube import KubeClient


@pytest.fixture(scope="module")
def kube() -> Iterator[KubeClient]:
    with KubeSimProcess() as sim, KubeClient.from_kubeconfig(sim.kubeconfig) as client:
        prepare_cluster(client)
        yield client
