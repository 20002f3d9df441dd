"""File-level backup and restore through the real path: kubesim over HTTP, the engine-facing API, the real
`veloro node-agent` process and the real restic binary."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import orjson
from pv_helpers import (
    PODS,
    REPOS,
    SERVER_NS,
    empty_dir,
    make_app,
    make_backup,
    make_restore,
    pv_dir,
    read_tree,
    restic_env,
    wait_until,
    write_tree,
)

from veloro_core.api import PodVolumeBackup
from veloro_core.kube import KubeClient
from veloro_core.podvolume import (
    DEFAULT_REPO_PASSWORD,
    PVBS,
    PodVolumeBackupper,
    PodVolumeRestorer,
    forget_snapshots,
    pod_volume_backups_document,
    volume_info_records,
)


def _snapshots(repo: str, tmp: Path) -> list[dict[str, object]]:
    out = subprocess.run(
        ["restic", "snapshots", "--json"],
        env=restic_env(repo, DEFAULT_REPO_PASSWORD, tmp),
        capture_output=True,
        check=True,
    )
    data: list[dict[str, object]] = orjson.loads(out.stdout)
    return data


def test_opt_in_backup_then_restore_into_a_new_pod_is_byte_identical(
    kube: KubeClient, agent: object, data_dir: Path, store_root: Path, tmp_path: Path
) -> None:
    pod = make_app(kube, "shop", {"backup.velero.io/backup-volumes": "data, cache"})
    data_files = write_tree(pv_dir(kube, data_dir, "shop", pod), seed=1)
    cache_files = write_tree(empty_dir(data_dir, pod, "cache"), seed=2)

    backup = make_backup(kube, "b1", "default")
    backupper = PodVolumeBackupper(kube, SERVER_NS, "default", backup, timeout=60, poll=0.2)
    results = backupper.backup_pod(pod)

    assert sorted(r.volume for r in results) == ["cache", "data"]
    assert all(r.phase == "Completed" for r in results), [(r.volume, r.message) for r in results]
    assert backupper.covered_pvcs == {("shop", "data")}
    by_volume = {r.volume: r for r in results}
    pvb = PodVolumeBackup.from_dict(by_volume["data"].obj)
    assert pvb.spec.node == "kubesim-node" and pvb.spec.uploader_type == "restic"
    assert pvb.spec.pod.name == "app" and pvb.spec.pod.uid == pod["metadata"]["uid"]
    repo = str(store_root / "bucket" / "team/a" / "restic" / "shop")
    assert pvb.spec.repo_identifier == repo
    assert (
        pvb.spec.tags["backup"] == "b1"
        and pvb.spec.tags["volume"] == "data"
        and pvb.spec.tags["ns"] == "shop"
    )
    assert (
        pvb.labels["velero.io/backup-name"] == "b1"
        and pvb.labels["veloro.io/backup-uid"] == backup["metadata"]["uid"]
    )
    assert pvb.status.progress is not None and pvb.status.progress.total_bytes >= 300_000
    assert pvb.status.progress.bytes_done == pvb.status.progress.total_bytes
    assert len(pvb.status.snapshot_id) == 64 and pvb.status.path

    snaps = {s["id"]: s for s in _snapshots(repo, tmp_path)}
    assert pvb.status.snapshot_id in snaps
    assert f"pod-uid={pod['metadata']['uid']}" in snaps[pvb.status.snapshot_id]["tags"]  # type: ignore[operator]
    repo_obj = kube.get(REPOS, "shop-default-restic", SERVER_NS)
    assert repo_obj["status"]["phase"] == "Ready" and repo_obj["spec"]["resticIdentifier"] == repo

    document = pod_volume_backups_document(results)
    assert [d["spec"]["volume"] for d in document] == sorted(
        [d["spec"]["volume"] for d in document], key=lambda v: by_volume[v].name
    )
    infos = {i["pvbInfo"]["volumeName"]: i for i in volume_info_records(results)}
    assert infos["data"]["backupMethod"] == "PodVolumeBackup" and infos["data"]["pvcName"] == "data"
    assert infos["data"]["pvName"] and infos["data"]["pvbInfo"]["snapshotHandle"] == pvb.status.snapshot_id
    assert infos["cache"]["pvcName"] == ""

    # The data is lost; the app comes back in another namespace (namespace mapping) with fresh volumes.
    shutil.rmtree(pv_dir(kube, data_dir, "shop", pod).resolve())
    restored_pod = make_app(kube, "shop-copy")
    restore = make_restore(kube, "r1", "b1", {"shop": "shop-copy"})
    restorer = PodVolumeRestorer(kube, SERVER_NS, restore, timeout=60, poll=0.2)
    restored = restorer.restore_pod(restored_pod, document)

    assert sorted(r.volume for r in restored) == ["cache", "data"]
    assert all(r.phase == "Completed" for r in restored), [(r.volume, r.message) for r in restored]
    assert read_tree(pv_dir(kube, data_dir, "shop-copy", restored_pod)) == data_files
    assert read_tree(empty_dir(data_dir, restored_pod, "cache")) == cache_files
    marker = pv_dir(kube, data_dir, "shop-copy", restored_pod) / ".veloro" / restore["metadata"]["uid"]
    assert marker.is_file()
    pvr = restored[0].obj
    assert pvr["spec"]["sourceNamespace"] == "shop" and pvr["spec"]["pod"]["namespace"] == "shop-copy"
    assert pvr["metadata"]["labels"]["velero.io/restore-name"] == "r1"

    # Deleting the backup forgets its snapshots (and deleting twice is fine).
    assert forget_snapshots(kube, SERVER_NS, document) == []
    assert _snapshots(repo, tmp_path) == []
    assert forget_snapshots(kube, SERVER_NS, document) == []


def test_default_volumes_to_fs_backup_takes_every_data_volume_except_excluded(
    kube: KubeClient, agent: object, data_dir: Path, tmp_path: Path
) -> None:
    host = tmp_path / "host"
    host.mkdir()
    pod = make_app(kube, "crm", {"backup.velero.io/backup-volumes-excludes": "cache"}, with_host_path=host)
    write_tree(pv_dir(kube, data_dir, "crm", pod), seed=3)
    backup = make_backup(kube, "b-all", "default", default_fs=True)
    backupper = PodVolumeBackupper(kube, SERVER_NS, "default", backup, timeout=60, poll=0.2)

    results = backupper.backup_pod(pod)

    # cfg/sec/info (API data), host (hostPath), unmounted, and the excluded cache are left out
    assert [r.volume for r in results] == ["data"]
    assert results[0].phase == "Completed", results[0].message
    assert backupper.warnings == []
    names = [
        i["metadata"]["name"]
        for i in kube.list_items(PVBS, SERVER_NS, label_selector="veloro.io/backup-name=b-all")
    ]
    assert len(names) == 1


def test_opt_in_of_a_host_path_volume_is_refused_with_a_warning(
    kube: KubeClient, agent: object, tmp_path: Path
) -> None:
    host = tmp_path / "host"
    host.mkdir()
    pod = make_app(kube, "hp", {"backup.veloro.io/backup-volumes": "host,missing"}, with_host_path=host)
    backupper = PodVolumeBackupper(
        kube, SERVER_NS, "default", make_backup(kube, "b-hp", "default"), timeout=30
    )

    assert backupper.backup_pod(pod) == []
    assert len(backupper.warnings) == 2
    assert "hostPath" in backupper.warnings[0] and "no volume of that name" in backupper.warnings[1]


def test_restored_pod_waits_until_it_exists_on_the_node(
    kube: KubeClient, agent: object, data_dir: Path
) -> None:
    """The PodVolumeRestore is created right after the pod; the agent waits for its volume directory."""
    pod = make_app(kube, "late", {"backup.velero.io/backup-volumes": "data"})
    volume = pv_dir(kube, data_dir, "late", pod).resolve()
    files = write_tree(volume, seed=4)
    backup = make_backup(kube, "b-late", "default")
    results = PodVolumeBackupper(kube, SERVER_NS, "default", backup, timeout=60, poll=0.2).backup_pod(pod)
    assert results[0].phase == "Completed", results[0].message
    kube.delete(PODS, "app", "late")
    wait_until(lambda: not [p for p in kube.list_items(PODS, "late")], what="pod deleted")
    shutil.rmtree(volume)  # the PV stays (same claim), its data is lost

    created = kube.create(
        PODS,
        {k: v for k, v in pod.items() if k != "status"}
        | {
            "metadata": {"name": "app", "namespace": "late"},
            "spec": {k: v for k, v in pod["spec"].items() if k != "nodeName"},
        },
    )
    restore = make_restore(kube, "r-late", "b-late", {})
    restored = PodVolumeRestorer(kube, SERVER_NS, restore, timeout=60, poll=0.2).restore_pod(
        created, pod_volume_backups_document(results)
    )

    assert [r.phase for r in restored] == ["Completed"], [r.message for r in restored]
    assert read_tree(pv_dir(kube, data_dir, "late", created)) == files
