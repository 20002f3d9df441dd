"""The built-in resource types of a Kubernetes v1.32 cluster that kubesim serves.

Columns whose path starts with "@" are computed by kubesim.table (READY counts, pod status, ...);
the others are simple JSON paths. NAME and AGE are added to every table.
"""

from __future__ import annotations

from kubesim.resources import ALL_VERBS, Column, Registry, ResourceType

_ST = ("status",)
_SC = ("status", "scale")
_ALL = ("all",)

# (group, versions, plural, kind, namespaced, short names, categories, subresources)
_TABLE: list[tuple[str, list[str], str, str, bool, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = [
    ("", ["v1"], "configmaps", "ConfigMap", True, ("cm",), (), ()),
    ("", ["v1"], "endpoints", "Endpoints", True, ("ep",), (), ()),
    ("", ["v1"], "events", "Event", True, ("ev",), (), ()),
    ("", ["v1"], "limitranges", "LimitRange", True, ("limits",), (), ()),
    ("", ["v1"], "namespaces", "Namespace", False, ("ns",), (), ("status", "finalize")),
    ("", ["v1"], "nodes", "Node", False, ("no",), (), _ST),
    ("", ["v1"], "persistentvolumeclaims", "PersistentVolumeClaim", True, ("pvc",), (), _ST),
    ("", ["v1"], "persistentvolumes", "PersistentVolume", False, ("pv",), (), _ST),
    ("", ["v1"], "pods", "Pod", True, ("po",), _ALL, ("status", "log")),
    ("", ["v1"], "podtemplates", "PodTemplate", True, (), (), ()),
    ("", ["v1"], "replicationcontrollers", "ReplicationController", True, ("rc",), _ALL, _SC),
    ("", ["v1"], "resourcequotas", "ResourceQuota", True, ("quota",), (), _ST),
    ("", ["v1"], "secrets", "Secret", True, (), (), ()),
    ("", ["v1"], "serviceaccounts", "ServiceAccount", True, ("sa",), (), ()),
    ("", ["v1"], "services", "Service", True, ("svc",), _ALL, _ST),
    ("apps", ["v1"], "controllerrevisions", "ControllerRevision", True, (), (), ()),
    ("apps", ["v1"], "daemonsets", "DaemonSet", True, ("ds",), _ALL, _ST),
    ("apps", ["v1"], "deployments", "Deployment", True, ("deploy",), _ALL, _SC),
    ("apps", ["v1"], "replicasets", "ReplicaSet", True, ("rs",), _ALL, _SC),
    ("apps", ["v1"], "statefulsets", "StatefulSet", True, ("sts",), _ALL, _SC),
    ("batch", ["v1"], "cronjobs", "CronJob", True, ("cj",), _ALL, _ST),
    ("batch", ["v1"], "jobs", "Job", True, (), _ALL, _ST),
    (
        "autoscaling",
        ["v2", "v1"],
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        True,
        ("hpa",),
        _ALL,
        _ST,
    ),
    ("policy", ["v1"], "poddisruptionbudgets", "PodDisruptionBudget", True, ("pdb",), (), _ST),
    ("rbac.authorization.k8s.io", ["v1"], "clusterrolebindings", "ClusterRoleBinding", False, (), (), ()),
    ("rbac.authorization.k8s.io", ["v1"], "clusterroles", "ClusterRole", False, (), (), ()),
    ("rbac.authorization.k8s.io", ["v1"], "rolebindings", "RoleBinding", True, (), (), ()),
    ("rbac.authorization.k8s.io", ["v1"], "roles", "Role", True, (), (), ()),
    ("networking.k8s.io", ["v1"], "ingressclasses", "IngressClass", False, (), (), ()),
    ("networking.k8s.io", ["v1"], "ingresses", "Ingress", True, ("ing",), (), _ST),
    ("networking.k8s.io", ["v1"], "networkpolicies", "NetworkPolicy", True, ("netpol",), (), ()),
    ("storage.k8s.io", ["v1"], "csidrivers", "CSIDriver", False, (), (), ()),
    ("storage.k8s.io", ["v1"], "csinodes", "CSINode", False, (), (), ()),
    ("storage.k8s.io", ["v1"], "csistoragecapacities", "CSIStorageCapacity", True, (), (), ()),
    ("storage.k8s.io", ["v1"], "storageclasses", "StorageClass", False, ("sc",), (), ()),
    ("storage.k8s.io", ["v1"], "volumeattachments", "VolumeAttachment", False, (), (), _ST),
    ("scheduling.k8s.io", ["v1"], "priorityclasses", "PriorityClass", False, ("pc",), (), ()),
    ("coordination.k8s.io", ["v1"], "leases", "Lease", True, (), (), ()),
    ("discovery.k8s.io", ["v1"], "endpointslices", "EndpointSlice", True, (), (), ()),
    ("events.k8s.io", ["v1"], "events", "Event", True, ("ev",), (), ()),
    (
        "admissionregistration.k8s.io",
        ["v1"],
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
        False,
        (),
        ("api-extensions",),
        (),
    ),
    (
        "admissionregistration.k8s.io",
        ["v1"],
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        False,
        (),
        ("api-extensions",),
        (),
    ),
    (
        "admissionregistration.k8s.io",
        ["v1"],
        "validatingadmissionpolicies",
        "ValidatingAdmissionPolicy",
        False,
        (),
        ("api-extensions",),
        _ST,
    ),
    (
        "admissionregistration.k8s.io",
        ["v1"],
        "validatingadmissionpolicybindings",
        "ValidatingAdmissionPolicyBinding",
        False,
        (),
        ("api-extensions",),
        (),
    ),
    (
        "apiextensions.k8s.io",
        ["v1"],
        "customresourcedefinitions",
        "CustomResourceDefinition",
        False,
        ("crd", "crds"),
        ("api-extensions",),
        _ST,
    ),
    ("node.k8s.io", ["v1"], "runtimeclasses", "RuntimeClass", False, (), (), ()),
    ("apiregistration.k8s.io", ["v1"], "apiservices", "APIService", False, (), ("api-extensions",), _ST),
    (
        "certificates.k8s.io",
        ["v1"],
        "certificatesigningrequests",
        "CertificateSigningRequest",
        False,
        ("csr",),
        (),
        _ST,
    ),
    ("flowcontrol.apiserver.k8s.io", ["v1"], "flowschemas", "FlowSchema", False, (), (), _ST),
    (
        "flowcontrol.apiserver.k8s.io",
        ["v1"],
        "prioritylevelconfigurations",
        "PriorityLevelConfiguration",
        False,
        (),
        (),
        _ST,
    ),
]

# Types without a spec: the real server never sets metadata.generation on them.
_NO_GENERATION = {
    "/configmaps",
    "/endpoints",
    "/events",
    "/secrets",
    "/serviceaccounts",
    "/namespaces",
    "/podtemplates",
    "events.k8s.io/events",
    "rbac.authorization.k8s.io/clusterroles",
    "rbac.authorization.k8s.io/roles",
    "rbac.authorization.k8s.io/rolebindings",
    "rbac.authorization.k8s.io/clusterrolebindings",
    "discovery.k8s.io/endpointslices",
    "storage.k8s.io/storageclasses",
    "scheduling.k8s.io/priorityclasses",
    "/persistentvolumes",
    "/persistentvolumeclaims",
    "/nodes",
    "/pods",
    "/services",
}


def _c(name: str, type_: str, path: str, priority: int = 0) -> Column:
    return Column(name=name, type=type_, path=path, priority=priority)


COLUMNS: dict[str, list[Column]] = {
    "/pods": [
        _c("Ready", "string", "@pod_ready"),
        _c("Status", "string", "@pod_status"),
        _c("Restarts", "string", "@pod_restarts"),
        _c("IP", "string", ".status.podIP", 1),
        _c("Node", "string", ".spec.nodeName", 1),
    ],
    "apps/deployments": [
        _c("Ready", "string", "@ready_replicas"),
        _c("Up-to-date", "integer", ".status.updatedReplicas"),
        _c("Available", "integer", ".status.availableReplicas"),
    ],
    "apps/replicasets": [
        _c("Desired", "integer", ".spec.replicas"),
        _c("Current", "integer", ".status.replicas"),
        _c("Ready", "integer", ".status.readyReplicas"),
    ],
    "apps/statefulsets": [_c("Ready", "string", "@ready_replicas")],
    "batch/jobs": [_c("Status", "string", "@job_status"), _c("Completions", "string", "@job_completions")],
    "/services": [
        _c("Type", "string", ".spec.type"),
        _c("Cluster-IP", "string", ".spec.clusterIP"),
        _c("External-IP", "string", "@svc_external"),
        _c("Port(s)", "string", "@svc_ports"),
    ],
    "/configmaps": [_c("Data", "integer", "@data_count")],
    "/secrets": [_c("Type", "string", ".type"), _c("Data", "integer", "@data_count")],
    "/namespaces": [_c("Status", "string", ".status.phase")],
    "/nodes": [
        _c("Status", "string", "@node_status"),
        _c("Version", "string", ".status.nodeInfo.kubeletVersion"),
    ],
    "/persistentvolumeclaims": [
        _c("Status", "string", ".status.phase"),
        _c("Volume", "string", ".spec.volumeName"),
        _c("Capacity", "string", ".status.capacity.storage"),
        _c("Access Modes", "string", "@access_modes"),
        _c("StorageClass", "string", ".spec.storageClassName"),
    ],
    "/persistentvolumes": [
        _c("Capacity", "string", ".spec.capacity.storage"),
        _c("Access Modes", "string", "@access_modes"),
        _c("Reclaim Policy", "string", ".spec.persistentVolumeReclaimPolicy"),
        _c("Status", "string", ".status.phase"),
        _c("Claim", "string", "@pv_claim"),
        _c("StorageClass", "string", ".spec.storageClassName"),
    ],
    "storage.k8s.io/storageclasses": [
        _c("Provisioner", "string", ".provisioner"),
        _c("ReclaimPolicy", "string", ".reclaimPolicy"),
        _c("VolumeBindingMode", "string", ".volumeBindingMode"),
    ],
    "/endpoints": [_c("Endpoints", "string", "@endpoints")],
    "discovery.k8s.io/endpointslices": [
        _c("AddressType", "string", ".addressType"),
        _c("Ports", "string", "@slice_ports"),
        _c("Endpoints", "string", "@slice_endpoints"),
    ],
    "apiregistration.k8s.io/apiservices": [
        _c("Service", "string", "@apiservice_service"),
        _c("Available", "string", "@apiservice_available"),
    ],
    "apiextensions.k8s.io/customresourcedefinitions": [
        _c("Created At", "date", ".metadata.creationTimestamp")
    ],
}


def install_builtins(registry: Registry) -> None:
    for group, versions, plural, kind, namespaced, short, cats, subs in _TABLE:
        rt = ResourceType(
            group=group,
            versions=list(versions),
            plural=plural,
            kind=kind,
            namespaced=namespaced,
            short_names=short,
            categories=cats,
            subresources=subs,
            verbs=ALL_VERBS,
        )
        rt.columns = COLUMNS.get(rt.key, [])
        rt.has_generation = rt.key not in _NO_GENERATION
        registry.add(rt)
    registry.set_group_versions("autoscaling", ["v2", "v1"])
