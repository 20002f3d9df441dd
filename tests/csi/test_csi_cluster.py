"""The CSI actions in-process against a kubesim over HTTP: snapshots really taken by kubesim's CSI
snapshotter, data really copied, claims really provisioned from snapshots, snapshots really deleted."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from csi_helpers import (
    DRIVER,
    PODS,
    PVCS,
    PVS,
    VS,
    VSC,
    VSCLASS,
    as_restored,
    backup_cr,
    bound_pvc,
    create_restored,
    get_or_none,
    namespace,
    pvc_object,
    read_volume,
    restore_cr,
    unique,
    wait_for,
    write_volume,
)
from veloro_sdk.contracts import (
    BackupItemActionExecuteRequest,
    BackupItemActionExecuteResponse,
    DeleteItemActionExecuteRequest,
    OperationProgress,
    ResourceIdentifier,
    RestoreItemActionExecuteRequest,
)

from kubesim.testing import KubeSimProcess
from veloro_core.kube import KubeClient
from veloro_plugins.csi import (
    PVCBackupAction,
    PVCRestoreAction,
    VolumeSnapshotBackupAction,
    VolumeSnapshotContentBackupAction,
    VolumeSnapshotContentDeleteAction,
    VolumeSnapshotContentRestoreAction,
    VolumeSnapshotRestoreAction,
)
from veloro_plugins.csi.cluster import CSIError

Obj = dict[str, Any]


def _backup_chain(kube: KubeClient, pvc: Obj, backup: Obj) -> dict[str, Any]:
    """What the engine does: the PVC action, its additional VolumeSnapshot through the VolumeSnapshot
    action, that one's content through the content action; Progress polled until done."""
    pvc_action = PVCBackupAction(lambda: kube)
    out = pvc_action.execute(BackupItemActionExecuteRequest(item=copy.deepcopy(pvc), backup=backup))
    assert out.operation_id and out.item is not None
    (vs_ref,) = out.additional_items
    vs_live = kube.get(VS, vs_ref.name, vs_ref.namespace)
    vs_out = VolumeSnapshotBackupAction(lambda: kube).execute(
        BackupItemActionExecuteRequest(item=vs_live, backup=backup))
    content_ref = next(r for r in vs_out.additional_items if r.resource == "volumesnapshotcontents")
    content_live = kube.get(VSC, content_ref.name)
    vsc_out = VolumeSnapshotContentBackupAction().execute(
        BackupItemActionExecuteRequest(item=content_live, backup=backup))
    progress = wait_for(lambda: _done(pvc_action, out.operation_id, backup), what="operation to finish")
    return {"pvc": out.item, "vs": vs_out.item, "vsc": vsc_out.item or content_live,
            "op": out.operation_id, "progress": progress, "pvc_response": out, "vs_response": vs_out}


def _done(action: PVCBackupAction, op: str, backup: Obj) -> OperationProgress | None:
    progress = action.progress(op, backup)
    return progress if progress.completed or progress.err else None


def test_backup_snapshots_a_csi_claim_and_restore_provisions_a_new_claim_from_it(
    sim: KubeSimProcess, kube: KubeClient
) -> None:
    assert sim.data_dir is not None
    ns = namespace(kube, unique("app"))
    pvc = bound_pvc(kube, ns, "data")
    pv_name = pvc["spec"]["volumeName"]
    write_volume(sim.data_dir, pv_name, {"db/table.txt": "row 1\nrow 2\n", "hello.txt": "hi"})
    backup = backup_cr(unique("b"))

    chain = _backup_chain(kube, pvc, backup)
    assert chain["progress"].err == "" and chain["progress"].n_completed == 1
    vs_name = chain["pvc"]["metadata"]["annotations"]["velero.io/volume-snapshot-name"]
    assert chain["pvc"]["metadata"]["annotations"]["veloro.io/volume-snapshot-name"] == vs_name
    assert chain["pvc_response"].post_operation_items == [
        ResourceIdentifier("snapshot.storage.k8s.io", "volumesnapshots", ns, vs_name)]
    vs_live = kube.get(VS, vs_name, ns)
    assert vs_live["metadata"]["labels"]["velero.io/backup-name"] == backup["metadata"]["name"]
    assert vs_live["spec"] == {"source": {"persistentVolumeClaimName": "data"},
                               "volumeSnapshotClassName": "kubesim-snapclass"}
    # The backed-up VolumeSnapshot records the chain; the live content now belongs to the backup.
    annotations = chain["vs"]["metadata"]["annotations"]
    content_name = annotations["veloro.io/csi-volumesnapshotcontent-name"]
    handle = annotations["velero.io/csi-volumesnapshot-handle"]
    assert annotations["velero.io/csi-driver-name"] == DRIVER
    assert annotations["velero.io/csi-vsc-deletion-policy"] == "Delete"  # the class's policy
    assert chain["vs"]["status"]["readyToUse"] is True
    assert {r.resource: r.name for r in chain["vs_response"].additional_items} == {
        "volumesnapshotclasses": "kubesim-snapclass", "volumesnapshotcontents": content_name}
    content_live = kube.get(VSC, content_name)
    assert content_live["spec"]["deletionPolicy"] == "Retain"
    assert content_live["metadata"]["labels"]["veloro.io/backup-name"] == backup["metadata"]["name"]
    assert chain["vsc"]["spec"]["deletionPolicy"] == "Retain"
    snapshot_dir = sim.data_dir / "snapshots" / handle
    assert (snapshot_dir / "db" / "table.txt").read_text() == "row 1\nrow 2\n"

    # Disaster: the namespace goes (with the snapshot object); the Retain content keeps the data.
    kube.delete(PVCS, "data", ns)
    kube.delete(VS, vs_name, ns)
    wait_for(lambda: get_or_none(kube, VS, vs_name, ns) is None, what="VolumeSnapshot deletion")
    assert snapshot_dir.is_dir()

    # Restore into another namespace, in the engine's order: content, snapshot, claim.
    target = namespace(kube, unique("restored"))
    restore = restore_cr(unique("r"), backup["metadata"]["name"], namespaceMapping={ns: target})
    mapping = {ns: target}
    vsc_in = as_restored(chain["vsc"])
    vsc_out = VolumeSnapshotContentRestoreAction().execute(
        RestoreItemActionExecuteRequest(item=vsc_in, restore=restore, item_from_backup=chain["vsc"]))
    assert vsc_out.item is not None
    created_vsc = create_restored(kube, VSC, vsc_out.item)
    vs_out = VolumeSnapshotRestoreAction(lambda: kube).execute(RestoreItemActionExecuteRequest(
        item=as_restored(chain["vs"], mapping), restore=restore, item_from_backup=chain["vs"]))
    assert vs_out.item is not None
    assert vs_out.item["spec"]["source"] == {
        "volumeSnapshotContentName": created_vsc["metadata"]["name"]}
    create_restored(kube, VS, vs_out.item)
    pvc_out = PVCRestoreAction().execute(RestoreItemActionExecuteRequest(
        item=as_restored(chain["pvc"], mapping), restore=restore, item_from_backup=chain["pvc"]))
    assert pvc_out.additional_items == [ResourceIdentifier("snapshot.storage.k8s.io", "volumesnapshots",
                                                           ns, vs_name)]
    assert pvc_out.item is not None
    create_restored(kube, PVCS, pvc_out.item)

    restored = wait_for(lambda: (kube.get(PVCS, "data", target).get("status") or {}).get("phase") == "Bound"
                        and kube.get(PVCS, "data", target), what="restored claim to bind")
    new_pv = restored["spec"]["volumeName"]
    assert new_pv != pv_name
    assert read_volume(sim.data_dir, new_pv) == {"db/table.txt": "row 1\nrow 2\n", "hello.txt": "hi"}
    restored_vs = kube.get(VS, vs_name, target)
    assert restored_vs["status"]["boundVolumeSnapshotContentName"] == created_vsc["metadata"]["name"]
    assert kube.get(VSC, created_vsc["metadata"]["name"])["spec"]["deletionPolicy"] == "Retain"

    # Deleting the backup deletes the snapshot data (through a temporary Delete content: the live
    # content is gone by now only if someone cleaned it up; here it still exists and is deleted).
    VolumeSnapshotContentDeleteAction(lambda: kube, reconcile_wait=5.0).execute(
        DeleteItemActionExecuteRequest(item=chain["vsc"], backup=backup))
    wait_for(lambda: not snapshot_dir.exists(), what="snapshot data to be deleted")
    assert get_or_none(kube, VSC, content_name) is None
    # The restored claim's data is its own copy.
    assert read_volume(sim.data_dir, new_pv)["hello.txt"] == "hi"


def _static_pv(kube: KubeClient, name: str, ns: str, claim: str, driver: str = "", host: str = "") -> None:
    """A pre-created PV bound to a claim: CSI of `driver`, or a hostPath volume."""
    source = ({"csi": {"driver": driver, "volumeHandle": name}} if driver
              else {"hostPath": {"path": host or f"/tmp/{name}"}})
    kube.create(PVS, {
        "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name},
        "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                 "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "",
                 "claimRef": {"namespace": ns, "name": claim}, **source},
    })


def _execute_pvc(kube: KubeClient, pvc: Obj, backup: Obj) -> BackupItemActionExecuteResponse:
    return PVCBackupAction(lambda: kube).execute(
        BackupItemActionExecuteRequest(item=copy.deepcopy(pvc), backup=backup))


def test_claims_the_plugin_does_not_snapshot_are_returned_unchanged(kube: KubeClient) -> None:
    ns = namespace(kube, unique("skip"))
    csi_claim = bound_pvc(kube, ns, "csi")
    # snapshotVolumes=false
    out = _execute_pvc(kube, csi_claim, backup_cr(unique("b"), snapshotVolumes=False))
    assert out.item is None and not out.operation_id and not out.additional_items
    # unbound: a class without provisioner leaves the claim Pending
    kube.create(PVCS, pvc_object(ns, "pending", storage_class="nothing"), ns)
    out = _execute_pvc(kube, kube.get(PVCS, "pending", ns), backup_cr(unique("b")))
    assert out.item is None and not out.operation_id
    # a hostPath volume
    _static_pv(kube, f"host-{ns}", ns, "host")
    kube.create(PVCS, pvc_object(ns, "host", storage_class="", volumeName=f"host-{ns}"), ns)
    host_claim = wait_for(lambda: (kube.get(PVCS, "host", ns).get("status") or {}).get("phase") == "Bound"
                          and kube.get(PVCS, "host", ns), what="hostPath claim to bind")
    out = _execute_pvc(kube, host_claim, backup_cr(unique("b")))
    assert out.item is None and not out.operation_id
    # a CSI driver without any VolumeSnapshotClass
    _static_pv(kube, f"nocls-{ns}", ns, "nocls", driver="noclass.csi.example.com")
    kube.create(PVCS, pvc_object(ns, "nocls", storage_class="", volumeName=f"nocls-{ns}"), ns)
    claim = wait_for(lambda: (kube.get(PVCS, "nocls", ns).get("status") or {}).get("phase") == "Bound"
                     and kube.get(PVCS, "nocls", ns), what="claim to bind")
    out = _execute_pvc(kube, claim, backup_cr(unique("b")))
    assert out.item is None and not out.operation_id
    assert list(kube.list_items(VS, ns)) == []


def _pod(ns: str, name: str, claim: str, annotations: dict[str, str]) -> Obj:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "annotations": annotations},
        "spec": {"containers": [{"name": "c", "image": "busybox"}],
                 "volumes": [{"name": "vol", "persistentVolumeClaim": {"claimName": claim}}]},
    }


def test_volumes_backed_up_file_by_file_are_not_snapshotted(kube: KubeClient) -> None:
    ns = namespace(kube, unique("fs"))
    opted = bound_pvc(kube, ns, "opted")
    excluded = bound_pvc(kube, ns, "excluded")
    kube.create(PODS, _pod(ns, "a", "opted", {"backup.velero.io/backup-volumes": "other, vol"}), ns)
    kube.create(PODS, _pod(ns, "b", "excluded", {"backup.velero.io/backup-volumes-excludes": "vol"}), ns)
    out = _execute_pvc(kube, opted, backup_cr(unique("b")))
    assert out.item is None and not out.operation_id
    # defaultVolumesToFsBackup takes every volume except the excluded one, which is snapshotted.
    backup = backup_cr(unique("b"), defaultVolumesToFsBackup=True)
    assert _execute_pvc(kube, opted, backup).item is None
    out = _execute_pvc(kube, excluded, backup)
    assert out.operation_id.startswith(f"{ns}/velero-excluded-")


def test_a_retried_execute_reuses_its_snapshot_and_a_foreign_one_is_an_error(kube: KubeClient) -> None:
    ns = namespace(kube, unique("retry"))
    pvc = bound_pvc(kube, ns, "data")
    backup = backup_cr(unique("b"))
    first = _execute_pvc(kube, pvc, backup)
    second = _execute_pvc(kube, pvc, backup)
    assert first.additional_items == second.additional_items
    assert len(list(kube.list_items(VS, ns))) == 1
    # Same name, but the object is not this backup's: refuse rather than adopt it.
    vs_name = first.additional_items[0].name
    kube.patch(VS, vs_name, {"metadata": {"labels": {"velero.io/backup-name": "someone-else",
                                                      "veloro.io/backup-name": "someone-else"}}}, ns)
    with pytest.raises(CSIError, match="was not created by backup"):
        _execute_pvc(kube, pvc, backup)


def test_snapshot_class_choice_label_then_default_and_errors(kube: KubeClient) -> None:
    driver = f"pick-{unique('d')}.csi.example.com"
    ns = namespace(kube, unique("cls"))
    _static_pv(kube, f"pick-{ns}", ns, "data", driver=driver)
    kube.create(PVCS, pvc_object(ns, "data", storage_class="", volumeName=f"pick-{ns}"), ns)
    pvc = wait_for(lambda: (kube.get(PVCS, "data", ns).get("status") or {}).get("phase") == "Bound"
                   and kube.get(PVCS, "data", ns), what="claim to bind")

    def vs_class(backup: Obj, claim: Obj = pvc) -> str:
        out = _execute_pvc(kube, claim, backup)
        return str(kube.get(VS, out.additional_items[0].name, ns)["spec"]["volumeSnapshotClassName"])

    def snapclass(name: str, labels: dict[str, str] | None = None, default: bool = False) -> None:
        annotations = {"snapshot.storage.kubernetes.io/is-default-class": "true"} if default else {}
        kube.create(VSCLASS, {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass",
                              "metadata": {"name": name, "labels": labels or {}, "annotations": annotations},
                              "driver": driver, "deletionPolicy": "Delete"})

    snapclass(f"{driver}-default", default=True)
    assert vs_class(backup_cr(unique("b"))) == f"{driver}-default"
    snapclass(f"{driver}-labelled", labels={"velero.io/csi-volumesnapshot-class": "true"})
    assert vs_class(backup_cr(unique("b"))) == f"{driver}-labelled"
    snapclass(f"{driver}-other")
    named = backup_cr(unique("b"))
    named["metadata"]["annotations"] = {f"velero.io/csi-volumesnapshot-class_{driver}": f"{driver}-other"}
    assert vs_class(named) == f"{driver}-other"
    claim = copy.deepcopy(pvc)
    annotations = claim["metadata"].setdefault("annotations", {})
    annotations["veloro.io/csi-volumesnapshot-class"] = "kubesim-snapclass"
    with pytest.raises(CSIError, match=r"is for driver 'hostpath\.csi\.kubesim\.io'"):
        _execute_pvc(kube, claim, backup_cr(unique("b")))
    claim["metadata"]["annotations"]["veloro.io/csi-volumesnapshot-class"] = "missing"
    with pytest.raises(CSIError, match="'missing' named by the annotation of PVC 'data' does not exist"):
        _execute_pvc(kube, claim, backup_cr(unique("b")))
    snapclass(f"{driver}-labelled-2", labels={"veloro.io/csi-volumesnapshot-class": "true"})
    with pytest.raises(CSIError, match="several VolumeSnapshotClasses"):
        _execute_pvc(kube, pvc, backup_cr(unique("b")))


def test_progress_reports_a_failed_snapshot_and_the_csi_snapshot_timeout(kube: KubeClient) -> None:
    ns = namespace(kube, unique("fail"))
    action = PVCBackupAction(lambda: kube)
    # A snapshot of a claim that never binds never becomes ready: csiSnapshotTimeout ends the wait.
    kube.create(PVCS, pvc_object(ns, "pending", storage_class="nothing"), ns)
    for name in ("slow", "broken"):
        kube.create(VS, {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
                         "metadata": {"name": name, "namespace": ns},
                         "spec": {"source": {"persistentVolumeClaimName": "pending"},
                                  "volumeSnapshotClassName": "kubesim-snapclass"}}, ns)
    recent = (datetime.now(UTC) - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    progress = action.progress(f"{ns}/slow/{recent}", backup_cr("b", csiSnapshotTimeout="1m"))
    assert not progress.completed and not progress.err and "waiting" in progress.description
    progress = action.progress(f"{ns}/slow/{recent}", backup_cr("b", csiSnapshotTimeout="10s"))
    assert "not ready within csiSnapshotTimeout (10s)" in progress.err
    # The driver reports an error on the snapshot (the test plays the snapshot controller).
    kube.patch_status(VS, "broken", {"status": {"readyToUse": False,
                                                "error": {"message": "disk is on fire"}}}, ns)
    progress = action.progress(f"{ns}/broken/{recent}", backup_cr("b"))
    assert not progress.completed and progress.err == f"CSI snapshot {ns}/broken failed: disk is on fire"
    owner = _owned(kube, ns, "broken")
    with pytest.raises(CSIError, match="failed: disk is on fire"):
        VolumeSnapshotBackupAction(lambda: kube).execute(
            BackupItemActionExecuteRequest(item=kube.get(VS, "broken", ns), backup=owner))
    # Gone entirely.
    progress = action.progress(f"{ns}/vanished/{recent}", backup_cr("b"))
    assert "was deleted before it became ready" in progress.err
    with pytest.raises(CSIError, match="is not one of this plugin's"):
        action.progress("garbage", backup_cr("b"))


def _owned(kube: KubeClient, ns: str, name: str) -> Obj:
    """Label the snapshot as taken by a backup and return that backup."""
    backup = backup_cr(unique("owner"))
    kube.patch(VS, name, {"metadata": {"labels": {"veloro.io/backup-name": backup["metadata"]["name"]}}}, ns)
    return backup


def test_snapshot_handle_wait_fails_clearly_within_the_timeout(kube: KubeClient) -> None:
    ns = namespace(kube, unique("wait"))
    backup = backup_cr(unique("b"), csiSnapshotTimeout="1s")
    kube.create(PVCS, pvc_object(ns, "pending", storage_class="nothing"), ns)
    vs = kube.create(VS, {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
                          "metadata": {"name": "ours", "namespace": ns,
                                       "labels": {"veloro.io/backup-name": backup["metadata"]["name"]}},
                          "spec": {"source": {"persistentVolumeClaimName": "pending"},
                                   "volumeSnapshotClassName": "kubesim-snapclass"}}, ns)
    with pytest.raises(CSIError, match="got no snapshot handle within 1s"):
        VolumeSnapshotBackupAction(lambda: kube).execute(
            BackupItemActionExecuteRequest(item=vs, backup=backup))
    # Somebody else's snapshot is recorded as it is, without waiting.
    foreign = copy.deepcopy(vs)
    foreign["metadata"]["labels"] = {}
    out = VolumeSnapshotBackupAction(lambda: kube).execute(
        BackupItemActionExecuteRequest(item=foreign, backup=backup))
    assert [r.resource for r in out.additional_items] == ["volumesnapshotclasses"]


def test_deleting_a_backup_whose_content_is_gone_deletes_the_snapshot_by_handle(
    sim: KubeSimProcess, kube: KubeClient
) -> None:
    assert sim.data_dir is not None
    ns = namespace(kube, unique("gone"))
    pvc = bound_pvc(kube, ns, "data")
    write_volume(sim.data_dir, pvc["spec"]["volumeName"], {"f": "x"})
    backup = backup_cr(unique("b"))
    chain = _backup_chain(kube, pvc, backup)
    handle = chain["vs"]["metadata"]["annotations"]["velero.io/csi-volumesnapshot-handle"]
    content = chain["vsc"]["metadata"]["name"]
    # Clean-up after the backup (what Velero does): the objects go, the Retain content keeps the data.
    kube.delete(VS, chain["vs"]["metadata"]["name"], ns)
    kube.delete(VSC, content)
    wait_for(lambda: get_or_none(kube, VSC, content) is None, what="content deletion")
    snapshot_dir = sim.data_dir / "snapshots" / handle
    assert snapshot_dir.is_dir()
    delete = VolumeSnapshotContentDeleteAction(lambda: kube, reconcile_wait=5.0)
    # Another backup's delete leaves it alone.
    delete.execute(DeleteItemActionExecuteRequest(item=chain["vsc"], backup=backup_cr("another")))
    assert snapshot_dir.is_dir()
    delete.execute(DeleteItemActionExecuteRequest(item=chain["vsc"], backup=backup))
    wait_for(lambda: not snapshot_dir.exists(), what="snapshot data to be deleted")
    assert get_or_none(kube, VSC, content) is None


def test_a_snapshot_backed_up_with_only_handle_annotations_gets_its_content_created(
    kube: KubeClient,
) -> None:
    """Backups that hold the snapshot's handle and driver but not its content (Velero's newer layout):
    the snapshot restore action creates a pre-provisioned content itself."""
    ns = namespace(kube, unique("velero"))
    chain = _backup_chain(kube, bound_pvc(kube, ns, "data"), backup_cr(unique("b")))
    backed_up = copy.deepcopy(chain["vs"])
    backed_up["metadata"]["annotations"].pop("veloro.io/csi-volumesnapshotcontent-name")
    backed_up.pop("status")
    target = namespace(kube, unique("target"))
    restore = restore_cr(unique("r"), "b", namespaceMapping={ns: target})
    action = VolumeSnapshotRestoreAction(lambda: kube)
    request = RestoreItemActionExecuteRequest(item=as_restored(backed_up, {ns: target}), restore=restore,
                                              item_from_backup=backed_up)
    out = action.execute(request)
    assert out.item is not None and out.additional_items == []
    content = out.item["spec"]["source"]["volumeSnapshotContentName"]
    assert action.execute(request).item == out.item  # a retried Execute: same content, no error
    created = kube.get(VSC, content)
    assert created["spec"]["source"] == {
        "snapshotHandle": backed_up["metadata"]["annotations"]["velero.io/csi-volumesnapshot-handle"]}
    assert created["spec"]["deletionPolicy"] == "Retain"
    create_restored(kube, VS, out.item)
    wait_for(lambda: (kube.get(VS, backed_up["metadata"]["name"], target).get("status") or {}).get(
        "readyToUse"), what="the restored snapshot to bind")
