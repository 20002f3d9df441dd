"""Every object `veloro install` creates, as plain dicts in the order they must be applied.

Kept free of any cluster access, so `veloro install --dry-run -o yaml` works without a cluster and the
same list is what `apply` sends.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from veloro_core.api import API_VERSION
from veloro_core.api.crdgen import all_crds
from veloro_core.install import rbac
from veloro_core.install.options import (
    COMPONENT_LABELS,
    CREDENTIALS_KEY,
    CREDENTIALS_SECRET,
    DEFAULT_LOCATION,
    DEPLOYMENT,
    METRICS_PORT,
    NODE_AGENT,
    PLUGIN_DIR,
    SERVICE_ACCOUNT,
    InstallOptions,
)

Obj = dict[str, Any]
CREDENTIALS_DIR = "/credentials"
SCRATCH_DIR = "/scratch"
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"


def _meta(name: str, namespace: str | None = None, labels: dict[str, str] | None = None) -> Obj:
    meta: Obj = {"name": name, "labels": {**COMPONENT_LABELS, **(labels or {})}}
    if namespace is not None:
        meta["namespace"] = namespace
    return meta


def plugin_container_name(image: str) -> str:
    """An init-container name from an image: `example.com/team/my_plugin:v1` -> `team-my-plugin`
    (repository path without registry and tag, as Velero names them)."""
    repo = image.split("@", 1)[0]
    last = repo.rsplit("/", 1)[-1]
    if ":" in last:
        repo = repo[: repo.rfind(":")]
    parts = repo.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]  # drop the registry host
    name = re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")
    return name[:63].rstrip("-") or "plugin"


def plugin_init_container(image: str, pull_policy: str = "IfNotPresent") -> Obj:
    """The init container that copies a plugin image's binaries into the shared `plugins` emptyDir
    (mounted at /target in the init container, at /plugins in the server), as Velero does."""
    return {
        "name": plugin_container_name(image),
        "image": image,
        "imagePullPolicy": pull_policy,
        "volumeMounts": [{"name": "plugins", "mountPath": "/target"}],
    }


def _credential_env() -> list[Obj]:
    # Velero's variables, so the cloud SDKs inside the plugins find the file by themselves.
    path = f"{CREDENTIALS_DIR}/{CREDENTIALS_KEY}"
    return [
        {"name": "AWS_SHARED_CREDENTIALS_FILE", "value": path},
        {"name": "GOOGLE_APPLICATION_CREDENTIALS", "value": path},
        {"name": "AZURE_CREDENTIALS_FILE", "value": path},
    ]


def _common_env(opts: InstallOptions) -> list[Obj]:
    env: list[Obj] = [
        {"name": "VELORO_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "VELORO_SCRATCH_DIR", "value": SCRATCH_DIR},
    ]
    return env + (_credential_env() if opts.secret_data is not None else [])


def _credential_volume(opts: InstallOptions) -> tuple[list[Obj], list[Obj]]:
    if opts.secret_data is None:
        return [], []
    volume = {"name": "cloud-credentials", "secret": {"secretName": CREDENTIALS_SECRET}}
    mount = {"name": "cloud-credentials", "mountPath": CREDENTIALS_DIR, "readOnly": True}
    return [volume], [mount]


def server_args(opts: InstallOptions) -> list[str]:
    args = [
        "server",
        "--namespace",
        opts.namespace,
        "--plugin-dir",
        PLUGIN_DIR,
        "--metrics-address",
        f":{METRICS_PORT}",
    ]
    if opts.default_volumes_to_fs_backup:
        args.append("--default-volumes-to-fs-backup")
    return args + list(opts.server_args)


def deployment(opts: InstallOptions) -> Obj:
    cred_volumes, cred_mounts = _credential_volume(opts)
    pod_labels = {**COMPONENT_LABELS, "deploy": DEPLOYMENT, **opts.pod_labels}
    annotations = {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(METRICS_PORT),
        "prometheus.io/path": "/metrics",
        **opts.pod_annotations,
    }
    container: Obj = {
        "name": DEPLOYMENT,
        "image": opts.image,
        "imagePullPolicy": opts.image_pull_policy,
        "command": ["veloro"],
        "args": server_args(opts),
        "ports": [{"name": "metrics", "containerPort": METRICS_PORT}],
        "env": _common_env(opts),
        "volumeMounts": [
            {"name": "plugins", "mountPath": PLUGIN_DIR},
            {"name": "scratch", "mountPath": SCRATCH_DIR},
            *cred_mounts,
        ],
        "resources": {
            "requests": {"cpu": "500m", "memory": "128Mi"},
            "limits": {"cpu": "1", "memory": "512Mi"},
        },
        "livenessProbe": {"httpGet": {"path": HEALTH_PATH, "port": "metrics"}, "periodSeconds": 30},
        "readinessProbe": {"httpGet": {"path": READY_PATH, "port": "metrics"}, "periodSeconds": 10},
    }
    spec: Obj = {
        "serviceAccountName": SERVICE_ACCOUNT,
        "restartPolicy": "Always",
        "containers": [container],
        "volumes": [{"name": "plugins", "emptyDir": {}}, {"name": "scratch", "emptyDir": {}}, *cred_volumes],
    }
    if opts.plugin_images:
        spec["initContainers"] = [
            plugin_init_container(i, opts.image_pull_policy) for i in opts.plugin_images
        ]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(DEPLOYMENT, opts.namespace),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"deploy": DEPLOYMENT}},
            "template": {"metadata": {"labels": pod_labels, "annotations": annotations}, "spec": spec},
        },
    }


def node_agent(opts: InstallOptions) -> Obj:
    """One pod per node reading pod volumes from the kubelet's directory (file-system backups)."""
    cred_volumes, cred_mounts = _credential_volume(opts)
    security: Obj = {"runAsUser": 0}
    if opts.privileged_node_agent:
        security["privileged"] = True
    env = [
        *_common_env(opts),
        {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
    ]
    container = {
        "name": NODE_AGENT,
        "image": opts.image,
        "imagePullPolicy": opts.image_pull_policy,
        "command": ["veloro"],
        "args": ["node-agent", "server", "--namespace", opts.namespace],
        "env": env,
        "securityContext": security,
        "volumeMounts": [
            {"name": "host-pods", "mountPath": "/host_pods", "mountPropagation": "HostToContainer"},
            {"name": "scratch", "mountPath": SCRATCH_DIR},
            *cred_mounts,
        ],
    }
    labels = {**COMPONENT_LABELS, "name": NODE_AGENT, **opts.pod_labels}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": _meta(NODE_AGENT, opts.namespace),
        "spec": {
            "selector": {"matchLabels": {"name": NODE_AGENT}},
            "template": {
                "metadata": {"labels": labels, "annotations": dict(opts.pod_annotations)},
                "spec": {
                    "serviceAccountName": SERVICE_ACCOUNT,
                    "containers": [container],
                    "volumes": [
                        {"name": "host-pods", "hostPath": {"path": "/var/lib/kubelet/pods"}},
                        {"name": "scratch", "emptyDir": {}},
                        *cred_volumes,
                    ],
                },
            },
        },
    }


def locations(opts: InstallOptions) -> list[Obj]:
    objects: list[Obj] = []
    if opts.create_backup_location:
        storage: Obj = {"bucket": opts.bucket}
        if opts.prefix:
            storage["prefix"] = opts.prefix
        spec: Obj = {"provider": opts.provider, "objectStorage": storage, "default": True}
        if opts.backup_location_config:
            spec["config"] = dict(opts.backup_location_config)
        objects.append(
            {
                "apiVersion": API_VERSION,
                "kind": "BackupStorageLocation",
                "metadata": _meta(DEFAULT_LOCATION, opts.namespace),
                "spec": spec,
            }
        )
    if opts.create_snapshot_location:
        vsl_spec: Obj = {"provider": opts.provider}
        if opts.snapshot_location_config:
            vsl_spec["config"] = dict(opts.snapshot_location_config)
        objects.append(
            {
                "apiVersion": API_VERSION,
                "kind": "VolumeSnapshotLocation",
                "metadata": _meta(DEFAULT_LOCATION, opts.namespace),
                "spec": vsl_spec,
            }
        )
    return objects


def build_manifests(opts: InstallOptions) -> list[Obj]:
    """Every object, in apply order: namespace and CRDs first, custom resources last."""
    objects: list[Obj] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(opts.namespace)}]
    objects += all_crds()
    if opts.crds_only:
        return objects
    objects.append(
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(SERVICE_ACCOUNT, opts.namespace)}
    )
    cluster_name = rbac.cluster_role_name(SERVICE_ACCOUNT, opts.namespace)
    objects.append(rbac.cluster_role(cluster_name, COMPONENT_LABELS))
    objects.append(rbac.role(SERVICE_ACCOUNT, opts.namespace, COMPONENT_LABELS))
    objects += rbac.bindings(SERVICE_ACCOUNT, opts.namespace, SERVICE_ACCOUNT, COMPONENT_LABELS)
    if opts.secret_data is not None:
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": _meta(CREDENTIALS_SECRET, opts.namespace),
                "type": "Opaque",
                "data": {CREDENTIALS_KEY: base64.b64encode(opts.secret_data).decode()},
            }
        )
    objects.append(deployment(opts))
    if opts.use_node_agent:
        objects.append(node_agent(opts))
    return objects + locations(opts)
