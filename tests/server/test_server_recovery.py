"""Faults: the server SIGKILLed during a backup (after a restart that backup is Failed with Velero's
reason and nothing complete-looking is in the store), and SIGTERM during a backup (graceful stop: the
backup that does not finish within --terminating-timeout is Failed, the lease is released)."""

from __future__ import annotations

from pathlib import Path

import pytest
from server_helpers import (
    CONFIGMAPS,
    LEASES,
    NAMESPACES,
    NS,
    ServerProcess,
    backup,
    bsl,
    install_test_plugins,
    veloro,
    wait_phase,
)

from kubesim.testing import KubeSimProcess
from veloro_core.kube import KubeClient

REASON = "found a backup with status InProgress during the server starting, mark it as failed"


@pytest.fixture(scope="module")
def slow_namespace(kube: KubeClient, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A namespace whose config map the slow test plugin takes 60 s over; the store root."""
    kube.create(NAMESPACES, {"metadata": {"name": "slow"}})
    kube.create(
        CONFIGMAPS, {"metadata": {"name": "slowpoke", "namespace": "slow", "labels": {"test-slow": "true"}}}
    )
    root = tmp_path_factory.mktemp("store")
    kube.create(veloro("backupstoragelocations"), bsl("default", root))
    return root


def _server(sim: KubeSimProcess, tmp_path: Path, *args: str) -> ServerProcess:
    plugin_dir = tmp_path / "plugins"
    plugin_dir.mkdir(exist_ok=True)
    install_test_plugins(plugin_dir, tmp_path / "deleted.txt")
    return ServerProcess(sim, *args, plugin_dir=plugin_dir)


def test_sigkill_during_a_backup_then_restart_marks_it_failed(
    sim: KubeSimProcess, kube: KubeClient, slow_namespace: Path, tmp_path: Path
) -> None:
    server = _server(sim, tmp_path).start()
    try:
        kube.create(veloro("backups"), backup("interrupted", includedNamespaces=["slow"]))
        wait_phase(kube, "backups", "interrupted", ("InProgress",))
        server.kill()  # SIGKILL to the server and its plugin processes
        folder = slow_namespace / "bucket" / "backups" / "interrupted"
        assert not (folder / "velero-backup.json").exists()
        server.start()
        failed = wait_phase(kube, "backups", "interrupted", ("Failed",), timeout=20)
        assert failed["status"]["failureReason"] == REASON
        assert not (folder / "velero-backup.json").exists()  # nothing complete-looking
        # and the restarted server works
        kube.create(veloro("backups"), backup("after-restart", includedNamespaces=["app"]))
        assert (
            wait_phase(kube, "backups", "after-restart", ("Completed", "Failed"))["status"]["phase"]
            == "Completed"
        )
        assert server.stop() == 0, server.log()
    finally:
        server.close()


def test_sigterm_stops_gracefully_failing_what_does_not_finish(
    sim: KubeSimProcess, kube: KubeClient, slow_namespace: Path, tmp_path: Path
) -> None:
    server = _server(sim, tmp_path, "--terminating-timeout", "1s").start()
    try:
        kube.create(veloro("backups"), backup("cut-short", includedNamespaces=["slow"]))
        wait_phase(kube, "backups", "cut-short", ("InProgress",))
        assert server.stop(timeout=20) == 0, server.log()
        failed = wait_phase(kube, "backups", "cut-short", ("Failed",), timeout=5)
        assert "server stopped" in failed["status"]["failureReason"]
        lease = kube.get(LEASES, "veloro-server", NS)
        assert not lease["spec"].get("holderIdentity")  # released for the next server
    finally:
        server.close()
