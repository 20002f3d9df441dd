"""Volume data through the whole product: kubesim (with a data dir, so volumes hold real files) over HTTP,
`veloro server` and `veloro node-agent` as real subprocesses, real restic, the real CSI plugin process.

(a) file-level: a pod opts its PVC volume in; backup -> PodVolumeBackup Completed and the
    podvolumebackups file stored; the namespace is deleted (and with it the volume); restore -> the new
    pod's volume holds the same bytes; deleting the backup forgets its restic snapshots.
(b) CSI: a claim on kubesim's CSI class; backup -> VolumeSnapshot and volumeinfo CSISnapshot; the
    namespace is deleted; restore -> a new claim bound to a new volume with the data; deleting the backup
    deletes the snapshot data (the CSI DeleteItemAction on the backed-up VolumeSnapshotContent).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from volumes_helpers import (
    NAMESPACES,
    NS,
    PODS,
    PVCS,
    PVS,
    VS,
    VSC,
    Process,
    get,
    metric,
    node_agent,
    prepare,
    read_store_json,
    server,
    veloro,
    wait_namespace_gone,
    wait_phase,
    wait_until,
)

from kubesim.testing import KubeSimProcess
from veloro_core.kube import KubeClient
from veloro_core.podvolume import DEFAULT_REPO_PASSWORD

Obj = dict[str, object]
FILES = {
    "hello.txt": b"hello volumes\n",
    "nested/deep/blob.bin": os.urandom(200_000),
    "nested/empty": b"",
}


@pytest.fixture(scope="module")
def dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {name: tmp_path_factory.mktemp(name) for name in ("cluster", "store", "logs")}


@pytest.fixture(scope="module")
def sim(dirs: dict[str, Path]) -> Iterator[KubeSimProcess]:
    with KubeSimProcess(data_dir=dirs["cluster"]) as process:
        yield process


@pytest.fixture(scope="module")
def kube(sim: KubeSimProcess, dirs: dict[str, Path]) -> Iterator[KubeClient]:
    with KubeClient.from_kubeconfig(sim.kubeconfig) as client:
        prepare(client, dirs["store"])
        yield client


@pytest.fixture(scope="module")
def processes(sim: KubeSimProcess, kube: KubeClient, dirs: dict[str, Path]) -> Iterator[dict[str, Process]]:
    agent = node_agent(sim, dirs["cluster"], dirs["logs"])
    srv: Process | None = None
    try:
        srv = server(sim, dirs["logs"])
        yield {"server": srv, "agent": agent}
    finally:
        for process in (srv, agent):
            if process is not None:
                process.stop()
                print(f"---- {process.log_path.name}\n{process.log()}")  # shown when a test failed


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and ".veloro" not in p.relative_to(root).parts
    }


def _write(root: Path) -> None:
    for rel, data in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _claim(ns: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": ns},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }


def _pod(ns: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "app",
            "namespace": ns,
            "annotations": {"backup.velero.io/backup-volumes": "data"},
        },
        "spec": {
            "containers": [
                {"name": "main", "image": "busybox", "volumeMounts": [{"name": "data", "mountPath": "/d"}]}
            ],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
        },
    }


def _running_pod(kube: KubeClient, ns: str) -> dict[str, object]:
    def running() -> Obj | None:
        pod = get(kube, PODS, "app", ns)
        return pod if ((pod or {}).get("status") or {}).get("phase") == "Running" else None  # type: ignore[union-attr]

    pod: dict[str, object] = wait_until(running, 20, f"pod {ns}/app running")
    return pod


def _pod_volume_dir(kube: KubeClient, data_dir: Path, ns: str) -> Path:
    """The pod's PVC volume as the kubelet lays it out (named after the PV)."""
    pod = _running_pod(kube, ns)
    pv = kube.get(PVCS, "data", ns)["spec"]["volumeName"]
    uid = pod["metadata"]["uid"]  # type: ignore[index]
    path = data_dir / "kubelet" / "pods" / str(uid) / "volumes" / "kubernetes.io~csi" / pv / "mount"
    found: Path = wait_until(lambda: path if path.is_dir() else None, 20, f"volume dir {path}")
    return found


def _create(kube: KubeClient, plural: str, name: str, spec: Obj) -> None:
    kind = {"backups": "Backup", "restores": "Restore", "deletebackuprequests": "DeleteBackupRequest"}[plural]
    body = {
        "apiVersion": "veloro.io/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": NS},
        "spec": spec,
    }
    kube.create(veloro(plural), body, NS)


def _restic_snapshots(repo: Path, tmp: Path) -> list[Obj]:
    password = tmp / "restic-password"
    password.write_text(DEFAULT_REPO_PASSWORD)
    env = {**os.environ, "RESTIC_REPOSITORY": str(repo), "RESTIC_PASSWORD_FILE": str(password)}
    out = subprocess.run(["restic", "snapshots", "--json"], env=env, capture_output=True, check=True)
    snapshots: list[Obj] = orjson.loads(out.stdout)
    return snapshots


def _delete_backup(kube: KubeClient, name: str) -> Obj:
    _create(kube, "deletebackuprequests", f"delete-{name}", {"backupName": name})
    request = wait_phase(kube, "deletebackuprequests", f"delete-{name}", ("Processed",), timeout=40)
    return request


def test_file_level_backup_and_restore_through_the_server(
    kube: KubeClient, processes: dict[str, Process], dirs: dict[str, Path], tmp_path: Path
) -> None:
    data_dir, store = dirs["cluster"], dirs["store"]
    kube.create(NAMESPACES, {"metadata": {"name": "shop"}})
    kube.create(PVCS, _claim("shop"), "shop")
    kube.create(PODS, _pod("shop"), "shop")
    _write(_pod_volume_dir(kube, data_dir, "shop"))
    old_pv = kube.get(PVCS, "data", "shop")["spec"]["volumeName"]

    _create(kube, "backups", "fs1", {"includedNamespaces": ["shop"]})
    done = wait_phase(kube, "backups", "fs1", ("Completed", "PartiallyFailed", "Failed"))
    assert done["status"]["phase"] == "Completed", (done["status"], processes["server"].log())
    assert "csiVolumeSnapshotsAttempted" not in done["status"]  # opted in to file-level: no CSI snapshot
    pvbs = list(kube.list_items(veloro("podvolumebackups"), NS, label_selector="velero.io/backup-name=fs1"))
    assert [p["status"]["phase"] for p in pvbs] == ["Completed"]
    assert pvbs[0]["metadata"]["ownerReferences"][0]["uid"] == done["metadata"]["uid"]
    folder = store / "bucket" / "backups" / "fs1"
    stored = read_store_json(folder / "fs1-podvolumebackups.json.gz")
    assert [(p["spec"]["volume"], p["status"]["snapshotID"]) for p in stored] == [
        ("data", pvbs[0]["status"]["snapshotID"])
    ]
    infos = read_store_json(folder / "fs1-volumeinfo.json.gz")
    assert [(i["pvName"], i["backupMethod"]) for i in infos] == [(old_pv, "PodVolumeBackup")]
    assert not (folder / "fs1-volumesnapshots.json.gz").exists()
    assert list(kube.list_items(VS, "shop")) == []

    wait_namespace_gone(kube, "shop")
    wait_until(lambda: get(kube, PVS, old_pv) is None, 20, "old PV deleted with its data")

    _create(kube, "restores", "fs1-r", {"backupName": "fs1"})
    restored = wait_phase(kube, "restores", "fs1-r", ("Completed", "PartiallyFailed", "Failed"))
    assert restored["status"]["phase"] == "Completed", (restored["status"], processes["server"].log())
    new_pv = kube.get(PVCS, "data", "shop")["spec"]["volumeName"]
    assert new_pv != old_pv  # re-provisioned, filled by the PodVolumeRestore
    assert _files(_pod_volume_dir(kube, data_dir, "shop")) == FILES
    pvrs = list(kube.list_items(veloro("podvolumerestores"), NS))
    assert [p["status"]["phase"] for p in pvrs] == ["Completed"]
    restore_infos = read_store_json(store / "bucket" / "restores" / "fs1-r" / "fs1-r-volumeinfo.json.gz")
    assert [(i["pvcName"], i["restoreMethod"]) for i in restore_infos] == [("data", "PodVolumeRestore")]

    repo = store / "bucket" / "restic" / "shop"
    assert len(_restic_snapshots(repo, tmp_path)) == 1
    request = _delete_backup(kube, "fs1")
    assert request["status"].get("errors") in (None, []), request["status"]
    assert _restic_snapshots(repo, tmp_path) == []
    wait_until(lambda: get(kube, veloro("backups"), "fs1", NS) is None, 10, "backup fs1 deleted")


def test_csi_snapshot_backup_and_restore_through_the_server(
    kube: KubeClient, processes: dict[str, Process], dirs: dict[str, Path]
) -> None:
    data_dir, store = dirs["cluster"], dirs["store"]
    kube.create(NAMESPACES, {"metadata": {"name": "db"}})
    kube.create(PVCS, _claim("db"), "db")
    old_pv = wait_until(lambda: kube.get(PVCS, "data", "db")["spec"].get("volumeName"), 20, "claim bound")
    _write(data_dir / "volumes" / old_pv)

    _create(kube, "backups", "csi1", {"includedNamespaces": ["db"]})
    done = wait_phase(kube, "backups", "csi1", ("Completed", "PartiallyFailed", "Failed"))
    status = done["status"]
    assert status["phase"] == "Completed", (status, processes["server"].log())
    assert (status["csiVolumeSnapshotsAttempted"], status["csiVolumeSnapshotsCompleted"]) == (1, 1)
    assert "volumeSnapshotsAttempted" not in status  # no native snapshot of the CSI volume
    snapshots = list(kube.list_items(VS, "db"))
    assert len(snapshots) == 1 and snapshots[0]["metadata"]["labels"]["velero.io/backup-name"] == "csi1"
    content_name = snapshots[0]["status"]["boundVolumeSnapshotContentName"]
    handle = kube.get(VSC, content_name)["status"]["snapshotHandle"]
    folder = store / "bucket" / "backups" / "csi1"
    infos = read_store_json(folder / "csi1-volumeinfo.json.gz")
    assert len(infos) == 1, infos
    info = infos[0]
    assert (info["pvcName"], info["pvcNamespace"], info["pvName"], info["backupMethod"]) == (
        "data", "db", old_pv, "CSISnapshot"
    )  # fmt: skip
    csi = info["csiSnapshotInfo"]
    assert csi["snapshotHandle"] == handle and csi["driver"] == "hostpath.csi.kubesim.io"
    assert csi["vscName"] == content_name and csi["operationID"].startswith("db/")
    assert metric(processes["server"], "veloro_csi_snapshot_success_total") == 1.0

    wait_namespace_gone(kube, "db")
    wait_until(lambda: get(kube, PVS, old_pv) is None, 20, "old PV deleted with its data")

    _create(kube, "restores", "csi1-r", {"backupName": "csi1"})
    restored = wait_phase(kube, "restores", "csi1-r", ("Completed", "PartiallyFailed", "Failed"))
    assert restored["status"]["phase"] == "Completed", (restored["status"], processes["server"].log())

    def bound() -> str | None:
        pvc = get(kube, PVCS, "data", "db") or {}
        return (
            (pvc.get("spec") or {}).get("volumeName")
            if (pvc.get("status") or {}).get("phase") == "Bound"
            else None
        )

    new_pv = wait_until(bound, 20, "restored claim bound")
    assert new_pv != old_pv
    assert _files(data_dir / "volumes" / new_pv) == FILES

    # The restored snapshot objects point at the backup's snapshot data: remove them before the backup is
    # deleted (a pre-provisioned content whose data is gone makes kubesim's snapshot controller spin).
    for snap in kube.list_items(VS, "db"):
        restored_content = snap["spec"]["source"]["volumeSnapshotContentName"]
        kube.delete(VS, snap["metadata"]["name"], "db")
        kube.delete(VSC, restored_content)
    snapshot_dirs = [p for p in (data_dir / "snapshots").iterdir()]
    assert snapshot_dirs, "the backup's snapshot data should exist before the deletion"
    request = _delete_backup(kube, "csi1")
    assert request["status"].get("errors") in (None, []), request["status"]
    wait_until(lambda: get(kube, VSC, content_name) is None, 20, "backed-up content deleted")
    wait_until(lambda: not any(p.exists() for p in snapshot_dirs), 20, "snapshot data deleted")


def test_pv_fetched_before_its_pod_is_not_snapshotted_when_the_pod_backs_it_up_file_by_file(
    kube: KubeClient, processes: dict[str, Process], dirs: dict[str, Path]
) -> None:
    """With a label selector the pod's claim and volume are fetched as additional items while the pod is
    being backed up, so the PV is seen before the pod's volume backups start: it must still count as
    backed up file by file (no CSI snapshot, one PodVolumeBackup record)."""
    kube.create(NAMESPACES, {"metadata": {"name": "web"}})
    kube.create(PVCS, _claim("web"), "web")
    pod = _pod("web")
    pod["metadata"]["labels"] = {"app": "web"}  # type: ignore[index]
    kube.create(PODS, pod, "web")
    _write(_pod_volume_dir(kube, dirs["cluster"], "web"))
    pv = kube.get(PVCS, "data", "web")["spec"]["volumeName"]

    _create(
        kube,
        "backups",
        "sel1",
        {"includedNamespaces": ["web"], "labelSelector": {"matchLabels": {"app": "web"}}},
    )
    done = wait_phase(kube, "backups", "sel1", ("Completed", "PartiallyFailed", "Failed"))
    assert done["status"]["phase"] == "Completed", (done["status"], processes["server"].log())
    infos = read_store_json(dirs["store"] / "bucket" / "backups" / "sel1" / "sel1-volumeinfo.json.gz")
    assert [(i["pvName"], i["backupMethod"], i["skipped"]) for i in infos] == [(pv, "PodVolumeBackup", False)]
    assert list(kube.list_items(VS, "web")) == []


def test_a_pod_that_is_not_running_fails_its_volume_backup_and_the_backup_partially_fails(
    kube: KubeClient, processes: dict[str, Process], dirs: dict[str, Path]
) -> None:
    kube.create(NAMESPACES, {"metadata": {"name": "stuck"}})
    claim = _claim("stuck")
    claim["spec"]["storageClassName"] = "no-such-class"  # type: ignore[index]
    kube.create(PVCS, claim, "stuck")
    kube.create(PODS, _pod("stuck"), "stuck")  # never scheduled: its claim cannot bind

    _create(kube, "backups", "stuck1", {"includedNamespaces": ["stuck"]})
    done = wait_phase(kube, "backups", "stuck1", ("Completed", "PartiallyFailed", "Failed"))
    assert done["status"]["phase"] == "PartiallyFailed", (done["status"], processes["server"].log())
    assert done["status"]["errors"] == 1
    folder = dirs["store"] / "bucket" / "backups" / "stuck1"
    results = read_store_json(folder / "stuck1-results.gz")
    [message] = results["errors"]["namespaces"]["stuck"]
    assert message.startswith("pod volume backup of volume data of pod stuck/app failed")
    assert "not scheduled" in message
    assert not (folder / "stuck1-podvolumebackups.json.gz").exists()  # no PodVolumeBackup was created
