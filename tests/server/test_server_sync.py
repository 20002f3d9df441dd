"""Backup sync into a second cluster sharing the bucket (cluster migration): backups made by one server
appear in the other cluster with their status; Velero's velero.io/v1 metadata is created as veloro.io/v1;
backups gone from the bucket are removed from the cluster."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_helpers import ServerProcess, backup, bsl, get, prepare_cluster, veloro, wait_for, wait_phase

from kubesim.testing import KubeSimProcess
from veloro_core.kube import KubeClient


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[KubeSimProcess, KubeClient]]:
    with KubeSimProcess() as process, KubeClient.from_kubeconfig(process.kubeconfig) as client:
        prepare_cluster(client)
        yield process, client


def test_backups_sync_into_a_second_cluster_sharing_the_bucket(
    sim: KubeSimProcess, kube: KubeClient, other: tuple[KubeSimProcess, KubeClient], tmp_path: Path
) -> None:
    sim2, kube2 = other
    kube.create(veloro("backupstoragelocations"), bsl("default", tmp_path))
    kube2.create(veloro("backupstoragelocations"), bsl("default", tmp_path, accessMode="ReadOnly"))
    source = ServerProcess(sim).start()
    target = ServerProcess(sim2, "--backup-sync-period", "1s").start()
    try:
        kube.create(veloro("backups"), backup("moving", includedNamespaces=["app"]))
        made = wait_phase(kube, "backups", "moving", ("Completed",))
        synced = wait_for(lambda: get(kube2, "backups", "moving"), 15, "the backup synced into cluster 2")
        synced = wait_phase(kube2, "backups", "moving", ("Completed",))
        assert synced["apiVersion"] == "veloro.io/v1"
        assert synced["spec"]["storageLocation"] == "default"
        assert synced["spec"]["includedNamespaces"] == ["app"]
        assert synced["status"]["startTimestamp"] == made["status"]["startTimestamp"]
        assert synced["metadata"]["labels"]["velero.io/storage-location"] == "default"
        assert synced["metadata"]["uid"] != made["metadata"]["uid"]
        assert wait_phase(kube2, "backupstoragelocations", "default", ("Available",))["status"][
            "lastSyncedTime"
        ]

        # a backup written by Velero (velero.io/v1 metadata) is created as veloro.io/v1
        velero_dir = tmp_path / "bucket" / "backups" / "from-velero"
        shutil.copytree(tmp_path / "bucket" / "backups" / "moving", velero_dir)
        meta = json.loads((velero_dir / "velero-backup.json").read_text())
        meta["apiVersion"] = "velero.io/v1"
        meta["metadata"]["name"] = "from-velero"
        (velero_dir / "velero-backup.json").write_text(json.dumps(meta))
        from_velero = wait_for(lambda: get(kube2, "backups", "from-velero"), 15, "the Velero backup synced")
        assert from_velero["apiVersion"] == "veloro.io/v1"
        wait_phase(kube2, "backups", "from-velero", ("Completed",))

        # gone from the bucket -> gone from the cluster
        shutil.rmtree(velero_dir)
        wait_for(lambda: get(kube2, "backups", "from-velero") is None, 15, "the vanished backup removed")
        assert get(kube2, "backups", "moving") is not None
    finally:
        for server in (source, target):
            assert server.stop() == 0, server.log()
            server.close()
