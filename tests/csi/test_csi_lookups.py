"""The CSI PVC action's cost per claim, against a kubesim over HTTP: cluster reads made once per backup
(PVs, VolumeSnapshotClasses, pods per namespace), none at all for claims it cannot snapshot, a batch done in
parallel with per-item errors; and the plugin clients' rate limit from the environment."""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

import pytest
from csi_helpers import PVCS, VS, VSCLASS, Obj, backup_cr, bound_pvc, namespace, pvc_object, unique
from veloro_sdk.contracts import BackupItemActionExecuteRequest, BackupItemActionExecuteResponse

from veloro_core.kube import GroupVersionResource, KubeClient
from veloro_plugins.actions.cluster import ClusterUnavailable, client_settings
from veloro_plugins.csi import PVCBackupAction
from veloro_plugins.csi.cluster import CSIError
from veloro_plugins.csi.selection import SINGLE_PV_LOOKUPS


class CountingClient:
    """The real client, with every request counted as (verb, resource)."""

    def __init__(self, kube: KubeClient) -> None:
        self.kube = kube
        self.calls: Counter[tuple[str, str]] = Counter()

    def get(self, gvr: GroupVersionResource, name: str, namespace: str | None = None) -> Obj:
        self.calls["get", gvr.resource] += 1
        return self.kube.get(gvr, name, namespace)

    def list_items(self, gvr: GroupVersionResource, namespace: str | None = None, **kw: Any) -> Any:
        self.calls["list", gvr.resource] += 1
        return self.kube.list_items(gvr, namespace, **kw)

    def create(self, gvr: GroupVersionResource, obj: Obj, namespace: str | None = None) -> Obj:
        self.calls["create", gvr.resource] += 1
        return self.kube.create(gvr, obj, namespace)


def _batch(action: PVCBackupAction, claims: list[Obj], backup: Obj
           ) -> list[BackupItemActionExecuteResponse | Exception]:
    return action.execute_batch(
        [BackupItemActionExecuteRequest(item=copy.deepcopy(c), backup=backup) for c in claims])


def test_a_batch_lists_what_every_claim_needs_once(kube: KubeClient) -> None:
    ns = namespace(kube, unique("many"))
    claims = [bound_pvc(kube, ns, f"data-{i}") for i in range(SINGLE_PV_LOOKUPS + 4)]
    counting = CountingClient(kube)
    action = PVCBackupAction(lambda: counting)  # type: ignore[arg-type,return-value]
    outcomes = _batch(action, claims, backup_cr(unique("b")))
    assert all(isinstance(o, BackupItemActionExecuteResponse) for o in outcomes)
    names = [o.additional_items[0].name for o in outcomes if isinstance(o, BackupItemActionExecuteResponse)]
    assert [n[: -len("-xxxxx")] for n in names] == [f"velero-data-{i}" for i in range(len(claims))]  # order
    assert len({vs["metadata"]["name"] for vs in kube.list_items(VS, ns)}) == len(claims)
    # The first claims GET their PV; then every PV is listed once, instead of one GET per claim.
    assert counting.calls["get", "persistentvolumes"] <= SINGLE_PV_LOOKUPS
    assert counting.calls["list", "persistentvolumes"] == 1
    assert counting.calls["list", "volumesnapshotclasses"] == 1
    assert counting.calls["list", "pods"] == 1
    assert counting.calls["create", "volumesnapshots"] == len(claims)

    # A small backup does not list the cluster's PVs: one GET for its one claim.
    counting.calls.clear()
    (one,) = _batch(action, claims[:1], backup_cr(unique("b")))
    assert isinstance(one, BackupItemActionExecuteResponse) and one.operation_id
    assert counting.calls["get", "persistentvolumes"] == 1
    assert counting.calls["list", "persistentvolumes"] == 0

    # Claims the plugin cannot snapshot cost no API call at all.
    counting.calls.clear()
    outcomes = _batch(action, claims, backup_cr(unique("b"), snapshotVolumes=False))
    assert all(isinstance(o, BackupItemActionExecuteResponse) and o.item is None for o in outcomes)
    assert sum(counting.calls.values()) == 0


def test_one_bad_claim_fails_alone_and_results_keep_their_order(kube: KubeClient) -> None:
    ns = namespace(kube, unique("mixed"))
    good = [bound_pvc(kube, ns, "first"), bound_pvc(kube, ns, "last")]
    kube.create(PVCS, pvc_object(ns, "pending", storage_class="nothing"), ns)
    pending = kube.get(PVCS, "pending", ns)
    wrong = copy.deepcopy(good[0])
    wrong["metadata"]["name"] = "wrong"
    wrong["metadata"].setdefault("annotations", {})["velero.io/csi-volumesnapshot-class"] = "missing"
    first, unbound, failed, last = _batch(PVCBackupAction(lambda: kube), [good[0], pending, wrong, good[1]],
                                          backup_cr(unique("b")))
    assert isinstance(first, BackupItemActionExecuteResponse) and "/velero-first-" in first.operation_id
    assert isinstance(unbound, BackupItemActionExecuteResponse) and not unbound.operation_id
    assert isinstance(failed, CSIError) and "'missing' named by the annotation of PVC 'wrong'" in str(failed)
    assert isinstance(last, BackupItemActionExecuteResponse) and "/velero-last-" in last.operation_id


def test_without_any_snapshot_class_no_claim_reads_the_cluster_further(kube: KubeClient) -> None:
    ns = namespace(kube, unique("nocls"))
    claims = [bound_pvc(kube, ns, f"data-{i}") for i in range(3)]
    saved = list(kube.list_items(VSCLASS))
    for cls in saved:
        kube.delete(VSCLASS, cls["metadata"]["name"])
    try:
        counting = CountingClient(kube)
        outcomes = _batch(PVCBackupAction(lambda: counting), claims,  # type: ignore[arg-type,return-value]
                          backup_cr(unique("b")))
        assert all(isinstance(o, BackupItemActionExecuteResponse) and not o.operation_id for o in outcomes)
        assert dict(counting.calls) == {("list", "volumesnapshotclasses"): 1}
        # A claim naming a class is still checked, and a missing class is still an error.
        named = copy.deepcopy(claims[0])
        named["metadata"].setdefault("annotations", {})["veloro.io/csi-volumesnapshot-class"] = "gone"
        with pytest.raises(CSIError, match="'gone' named by the annotation of PVC"):
            PVCBackupAction(lambda: kube).execute(
                BackupItemActionExecuteRequest(item=named, backup=backup_cr(unique("b"))))
    finally:
        for obj in saved:
            obj["metadata"] = {k: obj["metadata"][k] for k in ("name", "labels", "annotations")
                               if k in obj["metadata"]}
            kube.create(VSCLASS, obj)


def test_plugin_clients_take_their_rate_limit_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VELORO_CLIENT_QPS", raising=False)
    monkeypatch.delenv("VELORO_CLIENT_BURST", raising=False)
    assert (client_settings().qps, client_settings().burst) == (1000.0, 2000)  # the server's defaults
    monkeypatch.setenv("VELORO_CLIENT_QPS", "250")
    monkeypatch.setenv("VELORO_CLIENT_BURST", "500")
    assert (client_settings().qps, client_settings().burst) == (250.0, 500)
    monkeypatch.setenv("VELORO_CLIENT_QPS", "0")  # 0 = no limit, as --client-qps 0
    assert client_settings().qps == 0
    monkeypatch.setenv("VELORO_CLIENT_QPS", "fast")
    with pytest.raises(ClusterUnavailable, match=r"\$VELORO_CLIENT_QPS='fast' is not a number"):
        client_settings()
