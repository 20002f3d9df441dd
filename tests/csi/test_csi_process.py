"""The CSI plugin through the real path: `python -m veloro_plugins.csi` started by PluginManager, every
call over gRPC, the plugin process talking to a kubesim over HTTP through the KUBECONFIG the host passes.

Backup: PVC bound to a CSI PV -> VolumeSnapshot created -> Progress completes once kubesim's snapshotter
has copied the volume. Restore into another namespace: content, snapshot and claim rewritten by the
restore actions and created -> kubesim provisions a new PV holding the snapshot's data. Deleting the
backup deletes the snapshot data."""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from csi_helpers import (
    PVCS,
    VS,
    VSC,
    as_restored,
    backup_cr,
    bound_pvc,
    create_restored,
    get_or_none,
    namespace,
    read_volume,
    restore_cr,
    unique,
    wait_for,
    write_volume,
)
from veloro_sdk.client import RemotePluginError
from veloro_sdk.contracts import (
    BackupItemActionExecuteRequest,
    DeleteItemActionExecuteRequest,
    RestoreItemActionExecuteRequest,
)

from kubesim.testing import KubeSimProcess
from veloro_core.kube import KubeClient
from veloro_core.plugins import PluginManager, PluginSettings
from veloro_plugins.csi import CSI_ACTIONS, PVC_BACKUPPER

CSI_PLUGIN = [sys.executable, "-m", "veloro_plugins.csi"]


@pytest.fixture(scope="module")
def manager(sim: KubeSimProcess) -> Iterator[PluginManager]:
    with PluginManager.discover(_settings(sim)) as plugins:
        yield plugins


def _settings(sim: KubeSimProcess, **env: str) -> PluginSettings:
    return PluginSettings(builtin_commands=[CSI_PLUGIN], plugin_dirs=[], entry_point_group=None,
                          start_timeout=30.0, call_timeout=60.0,
                          extra_env={"KUBECONFIG": str(sim.kubeconfig), **env})


def test_the_plugin_process_lists_every_csi_action(manager: PluginManager) -> None:
    listed = {(info.kind, info.name) for info in manager.list_plugins()}
    assert listed == {(kind, name) for kind, name, _ in CSI_ACTIONS}
    selector = manager.backup_item_action("veloro.io/csi-pvc-backupper").applies_to()
    assert selector.included_resources == ["persistentvolumeclaims"]
    selector = manager.delete_item_action("veloro.io/csi-volumesnapshotcontent-delete").applies_to()
    assert selector.included_resources == ["volumesnapshotcontents.snapshot.storage.k8s.io"]


def test_backup_restore_and_delete_of_a_csi_volume_through_the_plugin_process(
    manager: PluginManager, sim: KubeSimProcess, kube: KubeClient
) -> None:
    data_dir = sim.data_dir
    assert data_dir is not None
    ns = namespace(kube, unique("proc"))
    pvc = bound_pvc(kube, ns, "data")
    files = {"orders.csv": "1,apple\n2,pear\n", "nested/dir/blob.bin": "\x00\x01" * 500}
    write_volume(data_dir, pvc["spec"]["volumeName"], files)
    backup = backup_cr(unique("b"))

    # --- backup, as the engine drives it
    pvc_action = manager.backup_item_action("veloro.io/csi-pvc-backupper")
    out = pvc_action.execute(BackupItemActionExecuteRequest(item=copy.deepcopy(pvc), backup=backup))
    assert out.operation_id.startswith(f"{ns}/velero-data-")
    (vs_ref,) = out.additional_items
    assert out.post_operation_items == [vs_ref]
    backed_pvc = out.item
    assert backed_pvc is not None
    assert backed_pvc["metadata"]["annotations"]["velero.io/volume-snapshot-name"] == vs_ref.name
    vs_out = manager.backup_item_action("veloro.io/csi-volumesnapshot-backupper").execute(
        BackupItemActionExecuteRequest(item=kube.get(VS, vs_ref.name, ns), backup=backup))
    backed_vs = vs_out.item
    assert backed_vs is not None
    content_name = backed_vs["metadata"]["annotations"]["veloro.io/csi-volumesnapshotcontent-name"]
    vsc_out = manager.backup_item_action("veloro.io/csi-volumesnapshotcontent-backupper").execute(
        BackupItemActionExecuteRequest(item=kube.get(VSC, content_name), backup=backup))
    backed_vsc = vsc_out.item
    assert backed_vsc is not None and backed_vsc["spec"]["deletionPolicy"] == "Retain"

    def finished() -> object:
        progress = pvc_action.progress(out.operation_id, backup)
        return progress if progress.completed or progress.err else None

    progress = wait_for(finished, what="the snapshot operation to finish")
    assert progress.completed and progress.err == "" and progress.n_completed == progress.n_total == 1
    handle = backed_vs["metadata"]["annotations"]["velero.io/csi-volumesnapshot-handle"]
    assert (data_dir / "snapshots" / handle / "orders.csv").read_text() == "1,apple\n2,pear\n"

    # --- the source namespace is lost; restore into a new one
    kube.delete(PVCS, "data", ns)
    kube.delete(VS, vs_ref.name, ns)
    target = namespace(kube, unique("dest"))
    mapping = {ns: target}
    restore = restore_cr(unique("r"), backup["metadata"]["name"], namespaceMapping=mapping)

    def restore_item(action: str, obj: dict[str, Any]) -> dict[str, Any]:
        response = manager.restore_item_action(action).execute(RestoreItemActionExecuteRequest(
            item=as_restored(obj, mapping), restore=restore, item_from_backup=obj))
        assert not response.skip_restore and response.item is not None
        return response.item

    created_vsc = create_restored(kube, VSC, restore_item("veloro.io/csi-volumesnapshotcontent-restorer",
                                                         backed_vsc))
    create_restored(kube, VS, restore_item("veloro.io/csi-volumesnapshot-restorer", backed_vs))
    restored_pvc = restore_item("veloro.io/csi-pvc-restorer", backed_pvc)
    assert restored_pvc["spec"]["dataSource"]["name"] == vs_ref.name
    create_restored(kube, PVCS, restored_pvc)
    bound = wait_for(lambda: (kube.get(PVCS, "data", target).get("status") or {}).get("phase") == "Bound"
                     and kube.get(PVCS, "data", target), what="the restored claim to bind")
    assert read_volume(data_dir, bound["spec"]["volumeName"]) == files
    assert kube.get(VS, vs_ref.name, target)["status"]["boundVolumeSnapshotContentName"] == (
        created_vsc["metadata"]["name"])

    # --- deleting the backup deletes the snapshot it took
    manager.delete_item_action("veloro.io/csi-volumesnapshotcontent-delete").execute(
        DeleteItemActionExecuteRequest(item=backed_vsc, backup=backup))
    wait_for(lambda: not (data_dir / "snapshots" / handle).exists(), what="the snapshot data to go")
    assert get_or_none(kube, VSC, content_name) is None
    assert read_volume(data_dir, bound["spec"]["volumeName"]) == files


def test_plugin_errors_reach_the_host_with_their_message(manager: PluginManager) -> None:
    action = manager.backup_item_action("veloro.io/csi-pvc-backupper")
    with pytest.raises(RemotePluginError, match="is not one of this plugin's"):
        action.progress("not-an-operation", backup_cr("b"))


def test_a_batch_of_claims_in_one_call_per_claim_results(manager: PluginManager, kube: KubeClient) -> None:
    ns = namespace(kube, unique("batch"))
    claims = [bound_pvc(kube, ns, name) for name in ("one", "two")]
    wrong = copy.deepcopy(claims[0])
    wrong["metadata"]["annotations"] = {"velero.io/csi-volumesnapshot-class": "absent"}
    backup = backup_cr(unique("b"))
    requests = [BackupItemActionExecuteRequest(item=copy.deepcopy(c), backup=backup)
                for c in (claims[0], wrong, claims[1])]
    one, failed, two = manager.backup_item_action(PVC_BACKUPPER).execute_batch(requests)
    assert not isinstance(one, Exception) and one.operation_id.startswith(f"{ns}/velero-one-")
    assert isinstance(failed, RemotePluginError) and "'absent' named by the annotation" in str(failed)
    assert not isinstance(two, Exception) and two.operation_id.startswith(f"{ns}/velero-two-")
    assert sorted(vs["spec"]["source"]["persistentVolumeClaimName"] for vs in kube.list_items(VS, ns)) == [
        "one", "two"]


def test_the_plugin_client_reads_its_rate_limit_from_the_host(sim: KubeSimProcess, kube: KubeClient) -> None:
    """VELORO_CLIENT_QPS reaches the plugin process (the server sets it from --client-qps)."""
    ns = namespace(kube, unique("qps"))
    claim = bound_pvc(kube, ns, "data")
    with PluginManager.discover(_settings(sim, VELORO_CLIENT_QPS="lots")) as plugins:
        action = plugins.backup_item_action(PVC_BACKUPPER)
        with pytest.raises(RemotePluginError, match=r"VELORO_CLIENT_QPS='lots' is not a number"):
            action.execute(BackupItemActionExecuteRequest(item=claim, backup=backup_cr(unique("b"))))
