"""Fixtures: a kubesim per module prepared for veloro, and a filesystem location root per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from server_helpers import prepare_cluster

from kubesim.testing import KubeSimProcess
from veloro_core.kube import KubeClient


@pytest.fixture(scope="module")
def sim() -> Iterator[KubeSimProcess]:
    with KubeSimProcess() as process:
        yield process


@pytest.fixture(scope="module")
def kube(sim: KubeSimProcess) -> Iterator[KubeClient]:
    with KubeClient.from_kubeconfig(sim.kubeconfig) as client:
        prepare_cluster(client)
        yield client
