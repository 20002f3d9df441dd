"""Fixtures: a shared kubesim process for the session, fresh ones with a data dir, raw HTTP access."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubesim_helpers import Http

from kubesim.testing import KubeSimProcess

_ns_counter = itertools.count()


@pytest.fixture(scope="session")
def kubesim() -> Iterator[KubeSimProcess]:
    with KubeSimProcess() as sim:
        yield sim


@pytest.fixture
def http(kubesim: KubeSimProcess) -> Http:
    return Http(kubesim.url)


@pytest.fixture
def ns(kubesim: KubeSimProcess, http: Http) -> str:
    """A fresh namespace on the shared server for one test."""
    name = f"t{next(_ns_counter)}"
    status, body = http("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
    assert status == 201, body
    return name


@pytest.fixture
def api_client(kubesim: KubeSimProcess) -> Any:
    return kubesim.api_client()


@pytest.fixture
def kubesim_factory(tmp_path: Path) -> Iterator[Callable[..., KubeSimProcess]]:
    """Start private kubesim processes (e.g. with a data dir); all are stopped after the test."""
    started: list[KubeSimProcess] = []

    def make(data_dir: Path | None = None, **kwargs: Any) -> KubeSimProcess:
        sim = KubeSimProcess(data_dir=data_dir, **kwargs)
        started.append(sim)
        return sim.start()

    yield make
    for sim in started:
        sim.close()
