"""The restore actions in-process: each is a pure function of (item, restore, item from backup), apart
from the ConfigMap lookup, replaced here by fixed data (the real lookup is tested over HTTP)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from veloro_sdk.contracts import ResourceIdentifier, RestoreItemActionExecuteRequest

from veloro_plugins.actions.restore_cluster import (
    AdmissionWebhookConfigurationAction,
    APIServiceRestoreAction,
    ChangeImageNameAction,
    parse_image_rules,
)
from veloro_plugins.actions.restore_identity import (
    ClusterRoleBindingRestoreAction,
    RoleBindingRestoreAction,
    SecretRestoreAction,
    ServiceAccountRestoreAction,
)
from veloro_plugins.actions.restore_storage import ChangeStorageClassAction, PVCRestoreAction, PVRestoreAction
from veloro_plugins.actions.restore_workloads import JobRestoreAction, PodRestoreAction, ServiceRestoreAction


def restore(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "veloro.io/v1",
        "kind": "Restore",
        "metadata": {"name": "r", "uid": "r1"},
        "spec": {"backupName": "b", **spec},
    }


def run(
    action: Any,
    item: dict[str, Any],
    cr: dict[str, Any] | None = None,
    from_backup: dict[str, Any] | None = None,
) -> Any:
    return action.execute(
        RestoreItemActionExecuteRequest(
            item=item, restore=cr or restore(), item_from_backup=from_backup or copy.deepcopy(item)
        )
    )


def obj(kind: str, name: str, namespace: str = "", api_version: str = "v1", **body: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, **body}


# ---- pods ---------------------------------------------------------------------------------------------
def test_pod_loses_node_priority_and_token_volumes_but_keeps_its_own() -> None:
    mount = {"name": "kube-api-access-x1", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}
    legacy = {"name": "web-token-abcde", "mountPath": "/legacy"}
    data = {"name": "data", "mountPath": "/data"}
    pod = obj(
        "Pod",
        "p",
        "ns",
        spec={
            "nodeName": "node-1",
            "priorityClassName": "high",
            "priority": 1000,
            "serviceAccountName": "web",
            "volumes": [
                {"name": "kube-api-access-x1", "projected": {}},
                {"name": "web-token-abcde", "secret": {}},
                {"name": "data", "persistentVolumeClaim": {"claimName": "d"}},
            ],
            "containers": [{"name": "c", "image": "i", "volumeMounts": [mount, data, legacy]}],
            "initContainers": [{"name": "init", "image": "i", "volumeMounts": [mount]}],
        },
    )
    spec = run(PodRestoreAction(), pod).item["spec"]
    assert "nodeName" not in spec and "priority" not in spec and spec["priorityClassName"] == "high"
    assert [v["name"] for v in spec["volumes"]] == ["data"]
    assert spec["containers"][0]["volumeMounts"] == [data]
    assert spec["initContainers"][0]["volumeMounts"] == []


def test_pod_keeps_priority_without_a_class_and_default_account_tokens_are_dropped() -> None:
    pod = obj(
        "Pod",
        "p",
        "ns",
        spec={
            "priority": 5,
            "volumes": [{"name": "default-token-zz", "secret": {}}, {"name": "other-token-zz", "secret": {}}],
            "containers": [{"name": "c", "image": "i"}],
        },
    )
    spec = run(PodRestoreAction(), pod).item["spec"]
    assert spec["priority"] == 5
    assert [v["name"] for v in spec["volumes"]] == ["other-token-zz"]


# ---- services -----------------------------------------------------------------------------------------
def _service(**spec: Any) -> dict[str, Any]:
    return obj("Service", "s", "ns", spec=spec)


def test_service_cluster_ip_cleared_unless_headless() -> None:
    item = run(ServiceRestoreAction(), _service(clusterIP="10.0.0.1", clusterIPs=["10.0.0.1"])).item
    assert "clusterIP" not in item["spec"] and "clusterIPs" not in item["spec"]
    headless = run(ServiceRestoreAction(), _service(clusterIP="None", clusterIPs=["None"])).item
    assert headless["spec"]["clusterIP"] == "None" and headless["spec"]["clusterIPs"] == ["None"]


def test_service_auto_node_ports_dropped_explicit_ones_kept() -> None:
    applied = {
        "spec": {
            "ports": [{"name": "http", "port": 80, "nodePort": 30080}, {"port": 9000, "nodePort": 30900}]
        }
    }
    svc = _service(
        type="NodePort",
        ports=[
            {"name": "http", "port": 80, "nodePort": 30080},
            {"name": "https", "port": 443, "nodePort": 31443},
            {"port": 9000, "nodePort": 30900},
        ],
    )
    svc["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": json.dumps(applied)}
    ports = run(ServiceRestoreAction(), svc).item["spec"]["ports"]
    assert [p.get("nodePort") for p in ports] == [30080, None, 30900]


def test_service_node_ports_kept_from_managed_fields_or_with_preserve_node_ports() -> None:
    svc = _service(
        type="LoadBalancer",
        externalTrafficPolicy="Local",
        healthCheckNodePort=32000,
        ports=[
            {"port": 80, "protocol": "TCP", "nodePort": 30080},
            {"port": 81, "protocol": "TCP", "nodePort": 30081},
        ],
    )
    svc["metadata"]["managedFields"] = [
        {
            "manager": "kubectl",
            "fieldsV1": {"f:spec": {"f:ports": {'k:{"port":80,"protocol":"TCP"}': {"f:nodePort": {}}}}},
        }
    ]
    spec = run(ServiceRestoreAction(), copy.deepcopy(svc)).item["spec"]
    assert [p.get("nodePort") for p in spec["ports"]] == [30080, None]
    assert "healthCheckNodePort" not in spec
    kept = run(ServiceRestoreAction(), copy.deepcopy(svc), restore(preserveNodePorts=True)).item["spec"]
    assert [p["nodePort"] for p in kept["ports"]] == [30080, 30081] and kept["healthCheckNodePort"] == 32000


def test_service_explicit_health_check_port_kept_and_external_name_untouched() -> None:
    svc = _service(type="LoadBalancer", healthCheckNodePort=32000, ports=[{"port": 80, "nodePort": 30080}])
    svc["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps(
            {"spec": {"healthCheckNodePort": 32000}}
        )
    }
    spec = run(ServiceRestoreAction(), svc).item["spec"]
    assert spec["healthCheckNodePort"] == 32000 and "nodePort" not in spec["ports"][0]
    ext = _service(type="ExternalName", externalName="x.example.com", ports=[{"port": 80, "nodePort": 1}])
    assert run(ServiceRestoreAction(), ext).item["spec"]["ports"][0]["nodePort"] == 1


# ---- jobs, service accounts, secrets --------------------------------------------------------------------
def test_job_loses_controller_uid_in_selector_and_template() -> None:
    labels = {"controller-uid": "u", "batch.kubernetes.io/controller-uid": "u", "job-name": "j"}
    job = obj(
        "Job",
        "j",
        "ns",
        api_version="batch/v1",
        spec={"selector": {"matchLabels": dict(labels)}, "template": {"metadata": {"labels": dict(labels)}}},
    )
    spec = run(JobRestoreAction(), job).item["spec"]
    assert spec["selector"]["matchLabels"] == {"job-name": "j"}
    assert spec["template"]["metadata"]["labels"] == {"job-name": "j"}
    assert JobRestoreAction().applies_to().included_resources == ["jobs.batch"]


def test_service_account_drops_only_its_auto_token_secrets() -> None:
    sa = obj("ServiceAccount", "web", "ns", secrets=[{"name": "web-token-abc"}, {"name": "web-dockercfg"}])
    assert run(ServiceAccountRestoreAction(), sa).item["secrets"] == [{"name": "web-dockercfg"}]
    only = obj("ServiceAccount", "web", "ns", secrets=[{"name": "web-token-abc"}])
    assert "secrets" not in run(ServiceAccountRestoreAction(), only).item
    untouched = obj("ServiceAccount", "web", "ns", secrets=[{"name": "other-token-abc"}])
    assert run(ServiceAccountRestoreAction(), untouched).item is None


def test_secret_auto_token_skipped_user_token_reset_others_untouched() -> None:
    auto = obj(
        "Secret", "web-token-abcde", "ns", type="kubernetes.io/service-account-token", data={"token": "dA=="}
    )
    auto["metadata"]["annotations"] = {"kubernetes.io/service-account.name": "web"}
    assert run(SecretRestoreAction(), auto).skip_restore is True
    manual = obj(
        "Secret",
        "web-long-lived",
        "ns",
        type="kubernetes.io/service-account-token",
        data={"token": "dA==", "ca.crt": "Yw==", "namespace": "bnM="},
    )
    manual["metadata"]["annotations"] = {
        "kubernetes.io/service-account.name": "web",
        "kubernetes.io/service-account.uid": "old",
    }
    response = run(SecretRestoreAction(), manual)
    assert not response.skip_restore
    assert response.item["data"] == {"namespace": "bnM="}
    assert response.item["metadata"]["annotations"] == {"kubernetes.io/service-account.name": "web"}
    opaque = obj("Secret", "web-token-abcde", "ns", type="Opaque", data={"k": "dg=="})
    response = run(SecretRestoreAction(), opaque)
    assert response.item is None and not response.skip_restore


# ---- storage -----------------------------------------------------------------------------------------
ANNOTATIONS = {
    "pv.kubernetes.io/bind-completed": "yes",
    "pv.kubernetes.io/bound-by-controller": "yes",
    "volume.beta.kubernetes.io/storage-provisioner": "p",
    "volume.kubernetes.io/storage-provisioner": "p",
    "volume.kubernetes.io/selected-node": "node-1",
    "team": "a",
}


def _pvc(**meta: Any) -> dict[str, Any]:
    pvc = obj(
        "PersistentVolumeClaim",
        "data",
        "ns",
        spec={"volumeName": "pv-1", "storageClassName": "fast"},
        status={"phase": "Bound"},
    )
    pvc["metadata"].update(meta)
    return pvc


def test_pvc_drops_binding_annotations_keeps_volume_and_adds_it() -> None:
    response = run(PVCRestoreAction(), _pvc(annotations=dict(ANNOTATIONS)))
    assert response.item["metadata"]["annotations"] == {"team": "a"}
    assert response.item["spec"]["volumeName"] == "pv-1"
    assert response.additional_items == [ResourceIdentifier("", "persistentvolumes", "", "pv-1")]


@pytest.mark.parametrize(
    ("meta", "spec"),
    [
        ({"annotations": {"veloro.io/dynamic-pv-restore": "true"}}, {}),
        ({"labels": {"velero.io/dynamic-pv-restore": "pv-1"}}, {}),
        ({}, {"restorePVs": False}),
    ],
    ids=["veloro-annotation", "velero-label", "restorePVs-false"],
)
def test_pvc_volume_name_cleared_when_reprovisioned(meta: dict[str, Any], spec: dict[str, Any]) -> None:
    response = run(PVCRestoreAction(), _pvc(**meta), restore(**spec))
    assert "volumeName" not in response.item["spec"] and response.additional_items == []
    assert "veloro.io/dynamic-pv-restore" not in response.item["metadata"].get("annotations", {})


def test_pv_claim_ref_follows_namespace_mapping_and_loses_uid() -> None:
    pv = obj(
        "PersistentVolume",
        "pv-1",
        spec={
            "claimRef": {
                "kind": "PersistentVolumeClaim",
                "namespace": "shop",
                "name": "data",
                "uid": "u",
                "resourceVersion": "9",
            }
        },
    )
    pv["metadata"]["annotations"] = {"pv.kubernetes.io/bound-by-controller": "yes", "keep": "1"}
    item = run(PVRestoreAction(), pv, restore(namespaceMapping={"shop": "shop-copy"})).item
    assert item["spec"]["claimRef"] == {
        "kind": "PersistentVolumeClaim",
        "namespace": "shop-copy",
        "name": "data",
    }
    assert item["metadata"]["annotations"] == {"keep": "1"}


def test_change_storage_class_in_claims_volumes_and_claim_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    action = ChangeStorageClassAction()
    monkeypatch.setattr(action.config, "for_run", lambda cr: {"fast": "gold"})
    assert run(action, _pvc()).item["spec"]["storageClassName"] == "gold"
    sts = obj(
        "StatefulSet",
        "db",
        "ns",
        api_version="apps/v1",
        spec={
            "volumeClaimTemplates": [
                {"metadata": {"name": "a"}, "spec": {"storageClassName": "fast"}},
                {"metadata": {"name": "b"}, "spec": {"storageClassName": "slow"}},
            ]
        },
    )
    templates = run(action, sts).item["spec"]["volumeClaimTemplates"]
    assert [t["spec"]["storageClassName"] for t in templates] == ["gold", "slow"]
    other = _pvc()
    other["spec"]["storageClassName"] = "slow"
    assert run(action, other).item is None


# ---- RBAC, cluster objects ------------------------------------------------------------------------------
@pytest.mark.parametrize("action", [RoleBindingRestoreAction(), ClusterRoleBindingRestoreAction()])
def test_bindings_remap_subject_namespaces(action: Any) -> None:
    binding = obj(
        "RoleBinding",
        "rb",
        "shop",
        api_version="rbac.authorization.k8s.io/v1",
        subjects=[
            {"kind": "ServiceAccount", "name": "web", "namespace": "shop"},
            {"kind": "ServiceAccount", "name": "x", "namespace": "other"},
            {"kind": "User", "name": "alice"},
        ],
    )
    subjects = run(action, binding, restore(namespaceMapping={"shop": "shop2"})).item["subjects"]
    assert [s.get("namespace") for s in subjects] == ["shop2", "other", None]
    assert run(action, binding, restore()).item is None


def test_change_image_name_rules_and_workload_kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_image_rules(
        {"case2": "b,c", "case1": "1.1.1.1:5000, 2.2.2.2:3000", "bad": "nocomma", "empty": "x,"}
    ) == [("1.1.1.1:5000", "2.2.2.2:3000"), ("b", "c")]
    action = ChangeImageNameAction()
    monkeypatch.setattr(action.config, "for_run", lambda cr: {"case1": "registry.old,registry.new"})
    pod = obj(
        "Pod",
        "p",
        "ns",
        spec={
            "containers": [{"name": "a", "image": "registry.old/app:1"}],
            "initContainers": [{"name": "i", "image": "busybox"}],
        },
    )
    spec = run(action, pod).item["spec"]
    assert (
        spec["containers"][0]["image"] == "registry.new/app:1"
        and spec["initContainers"][0]["image"] == "busybox"
    )
    cron = obj(
        "CronJob",
        "c",
        "ns",
        api_version="batch/v1",
        spec={
            "jobTemplate": {
                "spec": {
                    "template": {"spec": {"initContainers": [{"name": "i", "image": "registry.old/init"}]}}
                }
            }
        },
    )
    job_spec = run(action, cron).item["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert job_spec["initContainers"][0]["image"] == "registry.new/init"
    deploy = obj(
        "Deployment",
        "d",
        "ns",
        api_version="apps/v1",
        spec={"template": {"spec": {"containers": [{"name": "a", "image": "nginx"}]}}},
    )
    assert run(action, deploy).item is None


def test_apiservice_automanaged_skipped_others_restored() -> None:
    action = APIServiceRestoreAction()
    assert action.applies_to().selector == "kube-aggregator.kubernetes.io/automanaged"
    managed = obj("APIService", "v1.apps", api_version="apiregistration.k8s.io/v1")
    managed["metadata"]["labels"] = {"kube-aggregator.kubernetes.io/automanaged": "onstart"}
    assert run(action, managed).skip_restore is True
    assert run(action, obj("APIService", "v1beta1.metrics.k8s.io")).skip_restore is False


def test_admission_webhooks_get_valid_side_effects_and_review_versions() -> None:
    config = obj(
        "ValidatingWebhookConfiguration",
        "w",
        api_version="admissionregistration.k8s.io/v1",
        webhooks=[
            {"name": "a", "sideEffects": "Unknown"},
            {"name": "b", "sideEffects": "NoneOnDryRun", "admissionReviewVersions": ["v1beta1"]},
            {"name": "c"},
        ],
    )
    hooks = run(AdmissionWebhookConfigurationAction(), config).item["webhooks"]
    assert [(h["sideEffects"], h["admissionReviewVersions"]) for h in hooks] == [
        ("None", ["v1"]),
        ("NoneOnDryRun", ["v1beta1"]),
        ("None", ["v1"]),
    ]
    old = obj(
        "MutatingWebhookConfiguration",
        "m",
        api_version="admissionregistration.k8s.io/v1beta1",
        webhooks=[{"name": "a", "sideEffects": "Unknown"}],
    )
    assert run(AdmissionWebhookConfigurationAction(), old).item is None
