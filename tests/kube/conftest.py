"""Fixtures: one kubesim process for the module session, a KubeClient on it, fresh namespaces."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from kube_helpers import NAMESPACES

from kubesim.testing import KubeSimProcess
from veloro_core.kube import KubeClient, KubeSettings

_counter = itertools.count()


@pytest.fixture(scope="session")
def kubesim() -> Iterator[KubeSimProcess]:
    with KubeSimProcess() as sim:
        yield sim


@pytest.fixture(scope="session")
def kube(kubesim: KubeSimProcess) -> Iterator[KubeClient]:
    with KubeClient.from_kubeconfig(kubesim.kubeconfig, settings=KubeSettings(qps=0)) as client:
        yield client


@pytest.fixture
def ns(kube: KubeClient) -> str:
    name = f"kt{next(_counter)}"
    kube.create(NAMESPACES, {"metadata": {"name": name}})
    return name
