"""Built-in RestoreItemActions for workloads: pods, services, jobs.

Each removes what the source cluster assigned and the target cluster must assign again (node, cluster IP,
node ports, controller uid); anything the user chose is kept.
"""

from __future__ import annotations

import json
from typing import Any

from veloro_sdk.contracts import (
    JSONDict,
    ResourceSelector,
    RestoreItemAction,
    RestoreItemActionExecuteRequest,
    RestoreItemActionExecuteResponse,
)
from veloro_sdk.serve import get_logger

from veloro_plugins.actions.fields import (
    annotations_of,
    child,
    dict_list,
    is_true,
    labels_of,
    metadata,
    name_of,
)

log = get_logger("veloro.actions.restore")

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
CONTROLLER_UID_LABELS = ("controller-uid", "batch.kubernetes.io/controller-uid")
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def _token_volume(volume_name: str, account: str) -> bool:
    """A volume the target cluster's admission adds again: the projected service-account token
    (`kube-api-access-*`, Kubernetes >= 1.22) or the legacy token secret (`<account>-token-*`)."""
    return volume_name.startswith("kube-api-access-") or volume_name.startswith(f"{account}-token-")


def drop_token_volumes(pod_spec: JSONDict) -> None:
    account = pod_spec.get("serviceAccountName") or pod_spec.get("serviceAccount") or "default"
    volumes = pod_spec.get("volumes")
    if not isinstance(volumes, list):
        return
    names = {str(v.get("name")) for v in dict_list(pod_spec, "volumes")}
    dropped = {name for name in names if _token_volume(name, str(account))}
    if not dropped:
        return
    pod_spec["volumes"] = [v for v in volumes if not (isinstance(v, dict) and v.get("name") in dropped)]
    for key in CONTAINER_LISTS:
        for container in dict_list(pod_spec, key):
            mounts = container.get("volumeMounts")
            if isinstance(mounts, list):
                container["volumeMounts"] = [
                    m for m in mounts if not (isinstance(m, dict) and m.get("name") in dropped)
                ]


class PodRestoreAction(RestoreItemAction):
    """Clear spec.nodeName (let the scheduler place the pod), spec.priority when a priorityClassName will
    set it again, and the service-account token volumes and mounts the target cluster injects itself."""

    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=["pods"])

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        pod = request.item
        spec = pod.get("spec")
        if not isinstance(spec, dict):
            return RestoreItemActionExecuteResponse()
        spec.pop("nodeName", None)
        if spec.get("priorityClassName"):
            spec.pop("priority", None)
        drop_token_volumes(spec)
        return RestoreItemActionExecuteResponse(item=pod)


def _last_applied_spec(service: JSONDict) -> JSONDict | None:
    """spec of the kubectl last-applied-configuration annotation; None when absent or unreadable."""
    text = annotations_of(service).get(LAST_APPLIED)
    if not isinstance(text, str):
        return None
    try:
        applied = json.loads(text)
    except ValueError:
        log.warning("ignoring an unreadable last-applied-configuration", service=name_of(service))
        return None
    return child(applied, "spec") if isinstance(applied, dict) else None


def _as_port(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _managed_spec_fields(service: JSONDict) -> list[JSONDict]:
    """The f:spec trees of every managedFields entry (server-side apply records what each manager set)."""
    out = []
    for entry in dict_list(metadata(service), "managedFields"):
        spec = child(child(entry, "fieldsV1"), "f:spec")
        if spec:
            out.append(spec)
    return out


def _port_key(port: JSONDict) -> str:
    return f'k:{{"port":{_as_port(port.get("port"))},"protocol":"{port.get("protocol") or "TCP"}"}}'


def _explicit_node_ports(service: JSONDict, ports: list[JSONDict]) -> set[int]:
    """Indexes of ports whose nodePort the user set (kubectl apply or server-side apply), not the server."""
    applied = _last_applied_spec(service)
    explicit: set[int] = set()
    if applied is not None:
        applied_ports = [p for p in dict_list(applied, "ports") if _as_port(p.get("nodePort")) > 0]
        names = {str(p["name"]) for p in applied_ports if p.get("name")}
        numbers = {_as_port(p.get("nodePort")) for p in applied_ports if not p.get("name")}
        for i, port in enumerate(ports):
            name = port.get("name")
            if (name and name in names) or (not name and _as_port(port.get("nodePort")) in numbers):
                explicit.add(i)
        return explicit
    managed = _managed_spec_fields(service)
    for i, port in enumerate(ports):
        key = _port_key(port)
        if any("f:nodePort" in child(child(spec, "f:ports"), key) for spec in managed):
            explicit.add(i)
    return explicit


def _explicit_health_check_port(service: JSONDict) -> bool:
    applied = _last_applied_spec(service)
    if applied is not None and _as_port(applied.get("healthCheckNodePort")) > 0:
        return True
    return any("f:healthCheckNodePort" in spec for spec in _managed_spec_fields(service))


class ServiceRestoreAction(RestoreItemAction):
    """Clear the cluster IPs (unless headless) and the node ports the source cluster picked: the same
    numbers may be taken in the target. Ports the user chose explicitly, or every port when the Restore
    sets preserveNodePorts, are kept."""

    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=["services"])

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        service = request.item
        spec = service.get("spec")
        if not isinstance(spec, dict):
            return RestoreItemActionExecuteResponse()
        if spec.get("clusterIP") != "None":
            spec.pop("clusterIP", None)
            spec.pop("clusterIPs", None)
        if is_true(child(request.restore, "spec").get("preserveNodePorts")):
            return RestoreItemActionExecuteResponse(item=service)
        if spec.get("type") != "ExternalName":
            ports = dict_list(spec, "ports")
            keep = _explicit_node_ports(service, ports)
            for i, port in enumerate(ports):
                if i not in keep:
                    port.pop("nodePort", None)
        if "healthCheckNodePort" in spec and not _explicit_health_check_port(service):
            del spec["healthCheckNodePort"]
        return RestoreItemActionExecuteResponse(item=service)


class JobRestoreAction(RestoreItemAction):
    """Drop the source Job's controller-uid from its selector and pod template labels: the API server
    sets the new Job's own uid there, and a stale one would select nothing."""

    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=["jobs.batch"])

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        job = request.item
        spec = child(job, "spec")
        match_labels = child(child(spec, "selector"), "matchLabels")
        template_labels = labels_of(child(spec, "template"))
        for mapping in (match_labels, template_labels):
            for key in CONTROLLER_UID_LABELS:
                mapping.pop(key, None)
        return RestoreItemActionExecuteResponse(item=job)
