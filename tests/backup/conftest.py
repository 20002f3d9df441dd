"""Fixtures: one kubesim for the module with the demo app, the real plugin host (built-in plugins in
`veloro run-plugins` plus the test action plugin process), and a filesystem BackupStore per test."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from backup_helpers import CRD, create, make_app

from kubesim.testing import KubeSimProcess
from veloro_core.kube import KubeClient
from veloro_core.persistence import BackupStore
from veloro_core.plugins import PluginManager, PluginSettings

FIXTURES = Path(__file__).parent / "fixtures"
_prefix = itertools.count()


def plugin_settings(kubeconfig: Path, with_test_actions: bool = True) -> PluginSettings:
    commands = [[sys.executable, "-m", "veloro_core.cli", "run-plugins"]]
    if with_test_actions:
        commands.append([sys.executable, str(FIXTURES / "test_actions.py")])
    # the built-in service-account action reads RBAC objects from the cluster: it needs the kubeconfig
    return PluginSettings(
        builtin_commands=commands,
        entry_point_group=None,
        call_timeout=30.0,
        start_timeout=30.0,
        extra_env={"KUBECONFIG": str(kubeconfig)},
    )


@pytest.fixture(scope="module")
def sim() -> Iterator[KubeSimProcess]:
    with KubeSimProcess() as process:
        yield process


@pytest.fixture(scope="module")
def kube(sim: KubeSimProcess) -> Iterator[KubeClient]:
    with KubeClient.from_kubeconfig(sim.kubeconfig) as client:
        create(client, "customresourcedefinitions.apiextensions.k8s.io", CRD)
        client.discovery.refresh()
        make_app(client, "shop")
        yield client


@pytest.fixture(scope="module")
def manager(sim: KubeSimProcess) -> Iterator[PluginManager]:
    with PluginManager.discover(plugin_settings(sim.kubeconfig)) as m:
        yield m


@pytest.fixture(scope="module")
def store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("store")


@pytest.fixture
def store(manager: PluginManager, store_root: Path) -> BackupStore:
    object_store = manager.object_store("veloro.io/filesystem")
    object_store.init({"root": str(store_root), "bucket": "velero"})
    return BackupStore(object_store, "velero", f"p{next(_prefix)}", location="default")
