"""Fixtures of the restore tests: one kubesim (real HTTP), the real filesystem store served by
`veloro run-plugins` and a real test action plugin process, both through the PluginManager."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubesim.testing import KubeSimProcess
from veloro_core.kube import KubeClient, KubeSettings
from veloro_core.persistence import BackupStore
from veloro_core.plugins import PluginManager, PluginSettings

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "fixtures"))
TEST_PLUGIN = HERE / "plugins" / "restore_test_plugin.py"
_counter = itertools.count()


@pytest.fixture(scope="session")
def kubesim() -> Iterator[KubeSimProcess]:
    with KubeSimProcess() as sim:
        yield sim


@pytest.fixture(scope="session")
def kube(kubesim: KubeSimProcess) -> Iterator[KubeClient]:
    with KubeClient.from_kubeconfig(kubesim.kubeconfig, settings=KubeSettings(qps=0)) as client:
        yield client


@pytest.fixture(scope="session")
def plugins(kubesim: KubeSimProcess) -> Iterator[PluginManager]:
    settings = PluginSettings(
        extra_env={"KUBECONFIG": str(kubesim.kubeconfig)},  # actions that read the cluster (ConfigMaps)
        builtin_commands=[
            [sys.executable, "-m", "veloro_core.cli", "run-plugins"],
            [sys.executable, str(TEST_PLUGIN)],
        ],
        entry_point_group=None,
        call_timeout=30.0,
        start_timeout=30.0,
    )
    with PluginManager.discover(settings) as manager:
        yield manager


@pytest.fixture(scope="session")
def store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("store-root")


@pytest.fixture
def store(plugins: PluginManager, store_root: Path) -> BackupStore:
    """A fresh bucket per test in the filesystem store's plugin process."""
    bucket = f"bucket{next(_counter)}"
    (store_root / bucket).mkdir()
    object_store = plugins.object_store("filesystem")
    object_store.init({"root": str(store_root), "bucket": bucket})
    return BackupStore(object_store, bucket, "", location="default")


@pytest.fixture
def ns() -> str:
    """A unique namespace name (created by the test)."""
    return f"rt{next(_counter)}"
