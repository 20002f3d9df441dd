"""Fixtures shared by every test folder.

`cluster_env` points KUBECONFIG at one kubesim process shared by the session, for tests that start the
built-in plugin process: some built-in actions read the cluster (service-account backup, the ConfigMap
driven restore actions) and, like Velero's, fail clearly when there is no cluster to read.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kubesim.testing import KubeSimProcess


@pytest.fixture(scope="session")
def shared_kubesim() -> Iterator[KubeSimProcess]:
    with KubeSimProcess() as sim:
        yield sim


@pytest.fixture
def cluster_env(shared_kubesim: KubeSimProcess, monkeypatch: pytest.MonkeyPatch) -> str:
    """Set KUBECONFIG (inherited by every process the test starts) to the shared kubesim's; return it."""
    path = str(shared_kubesim.kubeconfig)
    monkeypatch.setenv("KUBECONFIG", path)
    return path
