"""Fixtures of the cluster-facing CLI tests: one kubesim (real HTTP) with veloro installed by the CLI
itself, a fresh server namespace per test, and an isolated client config directory."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_cluster import Veloro, invoke

from kubesim.testing import KubeSimProcess
from veloro_core.kube import GroupVersionResource, KubeClient, KubeSettings

NAMESPACES = GroupVersionResource("", "v1", "namespaces")
_counter = itertools.count()


@pytest.fixture(autouse=True)
def _client_config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never read or write the real ~/.config/veloro of the person running the tests."""
    home = tmp_path / "config-home"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def sim() -> Iterator[KubeSimProcess]:
    with KubeSimProcess() as process:
        # veloro's CRDs and a first namespace, installed through the CLI under test
        result = invoke(
            "install",
            "--kubeconfig",
            str(process.kubeconfig),
            "--provider",
            "aws",
            "--bucket",
            "b",
            "--no-secret",
        )
        assert result.code == 0, result.output
        yield process


@pytest.fixture(scope="session")
def kube(sim: KubeSimProcess) -> Iterator[KubeClient]:
    with KubeClient.from_kubeconfig(sim.kubeconfig, settings=KubeSettings(qps=0)) as client:
        yield client


@pytest.fixture
def ns(kube: KubeClient) -> str:
    name = f"vt{next(_counter)}"
    kube.create(NAMESPACES, {"metadata": {"name": name}})
    return name


@pytest.fixture
def veloro(sim: KubeSimProcess, ns: str) -> Veloro:
    """Runs `veloro ... --kubeconfig K -n NS` in-process through main() (exit codes as a user sees them)."""
    return Veloro(str(sim.kubeconfig), ns)
