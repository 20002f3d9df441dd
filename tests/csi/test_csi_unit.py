"""The CSI actions in-process on sample objects: the pure ones (restore, content backup), the naming rules,
and the PVC action's early outs, which must not touch the cluster at all."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from csi_helpers import as_restored, backup_cr, restore_cr
from veloro_sdk.contracts import (
    BackupItemActionExecuteRequest,
    ResourceIdentifier,
    RestoreItemActionExecuteRequest,
)

from veloro_plugins.csi import (
    PVCBackupAction,
    PVCRestoreAction,
    VolumeSnapshotContentBackupAction,
    VolumeSnapshotContentRestoreAction,
    VolumeSnapshotRestoreAction,
)
from veloro_plugins.csi.backup import csi_snapshot_timeout
from veloro_plugins.csi.cluster import CSIError
from veloro_plugins.csi.objects import restored_content_name, snapshot_name, valid_label_value

GROUP = "snapshot.storage.k8s.io"


def _no_cluster() -> Any:
    raise AssertionError("this path must not call the Kubernetes API")


def _pvc(**annotations: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "shop", "uid": "u1", "resourceVersion": "7",
                     "annotations": {"pv.kubernetes.io/bind-completed": "yes",
                                     "pv.kubernetes.io/bound-by-controller": "yes",
                                     "volume.kubernetes.io/selected-node": "node-1",
                                     "keep": "me", **annotations},
                     "labels": {"app": "shop", "velero.io/volume-snapshot-name": "velero-data-abcde"}},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard", "volumeName": "pvc-u1",
                 "resources": {"requests": {"storage": "1Gi"}}},
        "status": {"phase": "Bound"},
    }


def _content() -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1", "kind": "VolumeSnapshotContent",
        "metadata": {"name": "snapcontent-123", "uid": "c1",
                     "labels": {"velero.io/backup-name": "b1", "veloro.io/backup-name": "b1"}},
        "spec": {"deletionPolicy": "Delete", "driver": "ebs.csi.aws.com",
                 "source": {"volumeHandle": "vol-1"}, "volumeSnapshotClassName": "ebs",
                 "volumeSnapshotRef": {"kind": "VolumeSnapshot", "namespace": "shop",
                                       "name": "velero-data-abcde", "uid": "vs-uid",
                                       "resourceVersion": "12"}},
        "status": {"readyToUse": True, "snapshotHandle": "snap-0abc", "restoreSize": 1024},
    }


def _snapshot() -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1", "kind": "VolumeSnapshot",
        "metadata": {"name": "velero-data-abcde", "namespace": "shop", "uid": "vs-uid",
                     "annotations": {"velero.io/csi-volumesnapshot-handle": "snap-0abc",
                                     "velero.io/csi-driver-name": "ebs.csi.aws.com"}},
        "spec": {"source": {"persistentVolumeClaimName": "data"}, "volumeSnapshotClassName": "ebs"},
        "status": {"boundVolumeSnapshotContentName": "snapcontent-123", "readyToUse": True},
    }


def _restore_request(item: dict[str, Any], restore: dict[str, Any], mapping: dict[str, str] | None = None
                     ) -> RestoreItemActionExecuteRequest:
    return RestoreItemActionExecuteRequest(item=as_restored(item, mapping), restore=restore,
                                           item_from_backup=copy.deepcopy(item))


def test_pvc_restore_provisions_the_claim_from_its_snapshot() -> None:
    backed_up = _pvc(**{"velero.io/volume-snapshot-name": "velero-data-abcde"})
    out = PVCRestoreAction().execute(_restore_request(backed_up, restore_cr("r", "b1"), {"shop": "shop2"}))
    assert out.item is not None
    source = {"apiGroup": GROUP, "kind": "VolumeSnapshot", "name": "velero-data-abcde"}
    assert out.item["spec"]["dataSource"] == source and out.item["spec"]["dataSourceRef"] == source
    assert "volumeName" not in out.item["spec"]
    assert out.item["metadata"]["annotations"] == {"keep": "me"}
    assert out.item["metadata"]["labels"] == {"app": "shop"}
    assert out.item["metadata"]["namespace"] == "shop2"
    assert out.additional_items == [ResourceIdentifier(GROUP, "volumesnapshots", "shop", "velero-data-abcde")]
    assert not out.skip_restore and not out.operation_id


def test_pvc_restore_with_restore_pvs_false_provisions_an_empty_claim() -> None:
    backed_up = _pvc(**{"veloro.io/volume-snapshot-name": "velero-data-abcde"})
    out = PVCRestoreAction().execute(_restore_request(backed_up, restore_cr("r", "b1", restorePVs=False)))
    assert out.item is not None and "dataSource" not in out.item["spec"]
    assert "volumeName" not in out.item["spec"] and out.additional_items == []


def test_pvc_restore_leaves_claims_without_a_snapshot_alone() -> None:
    plain = _pvc()
    plain["metadata"]["labels"] = {}
    out = PVCRestoreAction().execute(_restore_request(plain, restore_cr("r", "b1")))
    assert out.item is None and out.additional_items == []


def test_volumesnapshot_and_content_restore_agree_on_the_restored_content() -> None:
    restore = restore_cr("r1", "b1", namespaceMapping={"shop": "shop2"})
    vs_out = VolumeSnapshotRestoreAction(_no_cluster).execute(
        _restore_request(_snapshot(), restore, {"shop": "shop2"}))
    vsc_out = VolumeSnapshotContentRestoreAction().execute(_restore_request(_content(), restore))
    assert vs_out.item is not None and vsc_out.item is not None
    new_name = vsc_out.item["metadata"]["name"]
    assert new_name.startswith("snapcontent-123-")
    assert new_name == restored_content_name(restore, "snapcontent-123")
    assert vs_out.item["spec"]["source"] == {"volumeSnapshotContentName": new_name}
    assert "status" not in vs_out.item
    assert vs_out.item["metadata"]["annotations"]["velero.io/csi-vsc-deletion-policy"] == "Retain"
    assert vs_out.additional_items == [
        ResourceIdentifier(GROUP, "volumesnapshotcontents", "", "snapcontent-123")]
    spec = vsc_out.item["spec"]
    assert spec["source"] == {"snapshotHandle": "snap-0abc"}
    assert spec["deletionPolicy"] == "Retain"
    assert spec["volumeSnapshotRef"] == {"apiVersion": f"{GROUP}/v1", "kind": "VolumeSnapshot",
                                         "namespace": "shop2", "name": "velero-data-abcde"}
    assert "status" not in vsc_out.item
    # A second restore of the same backup gets its own content (the first one's may still exist).
    again = VolumeSnapshotContentRestoreAction().execute(_restore_request(_content(), restore_cr("r2", "b1")))
    assert again.item is not None and again.item["metadata"]["name"] != new_name


def test_content_and_snapshot_without_handle_are_skipped() -> None:
    content = _content()
    del content["status"]
    out = VolumeSnapshotContentRestoreAction().execute(_restore_request(content, restore_cr("r", "b1")))
    assert out.skip_restore
    snapshot = _snapshot()
    snapshot["metadata"]["annotations"] = {}
    del snapshot["status"]
    out = VolumeSnapshotRestoreAction(_no_cluster).execute(_restore_request(snapshot, restore_cr("r", "b1")))
    assert out.skip_restore


def test_content_backup_sets_retain_and_records_the_handle() -> None:
    out = VolumeSnapshotContentBackupAction().execute(
        BackupItemActionExecuteRequest(item=_content(), backup=backup_cr("b1")))
    assert out.item is not None
    assert out.item["spec"]["deletionPolicy"] == "Retain"
    assert out.item["metadata"]["annotations"]["velero.io/csi-volumesnapshot-handle"] == "snap-0abc"
    assert out.additional_items == [ResourceIdentifier(GROUP, "volumesnapshotclasses", "", "ebs")]


@pytest.mark.parametrize("change", [
    lambda pvc, backup: backup["spec"].update(snapshotVolumes=False),
    lambda pvc, backup: pvc["status"].update(phase="Pending"),
    lambda pvc, backup: pvc["spec"].pop("volumeName"),
])
def test_pvc_backup_early_outs_do_not_touch_the_cluster(change: Any) -> None:
    pvc, backup = _pvc(), backup_cr("b1")
    change(pvc, backup)
    out = PVCBackupAction(_no_cluster).execute(BackupItemActionExecuteRequest(item=pvc, backup=backup))
    assert out.item is None and not out.operation_id and not out.additional_items


def test_names_are_deterministic_legal_and_bounded() -> None:
    pvc = _pvc()
    name = snapshot_name(pvc, backup_cr("b1"))
    assert name == snapshot_name(copy.deepcopy(pvc), backup_cr("b1"))
    assert name != snapshot_name(pvc, backup_cr("b2"))
    assert name.startswith("velero-data-") and len(name) == len("velero-data-") + 5
    pvc["metadata"]["name"] = "a" * 250
    assert len(snapshot_name(pvc, backup_cr("b1"))) <= 63
    assert valid_label_value("x" * 63) == "x" * 63
    long = valid_label_value("y" * 80)
    assert len(long) == 63 and long.startswith("y" * 57) and long != valid_label_value("y" * 81)


def test_csi_snapshot_timeout_parsing() -> None:
    assert csi_snapshot_timeout(backup_cr("b")) == 600.0
    assert csi_snapshot_timeout(backup_cr("b", csiSnapshotTimeout="1m30s")) == 90.0
    with pytest.raises(CSIError, match="invalid csiSnapshotTimeout"):
        csi_snapshot_timeout(backup_cr("b", csiSnapshotTimeout="soon"))
