"""Type-specific create/update rules: status reset, IP allocation, default storage class, job selectors.

These are the admission plugins and registry strategies of the real API server that clients notice.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from kubesim.defaults import apply_defaults
from kubesim.errors import invalid
from kubesim.resources import ResourceType

if TYPE_CHECKING:
    from kubesim.objects import Api

Obj = dict[str, Any]

_STATUS_ON_CREATE: dict[str, Obj] = {
    "/pods": {"phase": "Pending", "qosClass": "BestEffort"},
    "/persistentvolumeclaims": {"phase": "Pending"},
    "/persistentvolumes": {"phase": "Pending"},
    "/namespaces": {"phase": "Active"},
}
# Status the creator may set (a node registers with its status, a restore writes CR status it owns).
_KEEP_STATUS = {"/nodes", "apiextensions.k8s.io/customresourcedefinitions"}
DEFAULT_SC_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


class IpAllocator:
    """Cluster IPs for services from 10.96.0.0/16, and node ports from 30000-32767."""

    def __init__(self) -> None:
        self.ips: set[str] = set()
        self.ports: set[int] = set()

    def allocate_ip(self) -> str:
        while True:
            ip = f"10.96.{random.randint(0, 255)}.{random.randint(1, 254)}"
            if ip not in self.ips:
                self.ips.add(ip)
                return ip

    def allocate_port(self) -> int:
        while True:
            port = random.randint(30000, 32767)
            if port not in self.ports:
                self.ports.add(port)
                return port


class Admission:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.ips = IpAllocator()

    def observe_service(self, obj: Obj) -> None:
        """Remember IPs and ports of services loaded from disk or created."""
        spec = obj.get("spec") or {}
        for ip in spec.get("clusterIPs") or [spec.get("clusterIP")]:
            if ip and ip != "None":
                self.ips.ips.add(ip)
        for p in spec.get("ports") or []:
            if isinstance(p, dict) and p.get("nodePort"):
                self.ips.ports.add(int(p["nodePort"]))

    def on_create(self, rt: ResourceType, obj: Obj) -> None:
        key = rt.key
        apply_defaults(key, obj)
        if "status" in rt.subresources and key not in _KEEP_STATUS:
            if key in _STATUS_ON_CREATE:
                obj["status"] = dict(_STATUS_ON_CREATE[key])
            else:
                obj.pop("status", None)
        if key == "/namespaces":
            obj.setdefault("spec", {})["finalizers"] = ["kubernetes"]
        elif key == "/services":
            self._service_create(rt, obj)
        elif key == "/persistentvolumeclaims":
            self._default_storage_class(obj)
        elif key == "batch/jobs":
            self._job_selector(obj)

    def on_update(self, rt: ResourceType, old: Obj, new: Obj) -> None:
        key = rt.key
        apply_defaults(key, new)
        if key == "/services":
            ospec, nspec = old.get("spec") or {}, new.setdefault("spec", {})
            for f in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
                if f in ospec and not nspec.get(f):
                    nspec[f] = ospec[f]
            if ospec.get("clusterIP") and nspec.get("clusterIP") != ospec.get("clusterIP"):
                raise invalid(
                    rt.kind,
                    rt.group,
                    new["metadata"]["name"],
                    [
                        (
                            "spec.clusterIPs[0]",
                            "FieldValueInvalid",
                            f'Invalid value: []string{{"{nspec.get("clusterIP")}"}}: may not change once set',
                        )
                    ],
                )
            self._node_ports(nspec, ospec)
        elif key == "batch/jobs":
            ospec, nspec = old.get("spec") or {}, new.setdefault("spec", {})
            if "selector" in ospec and not nspec.get("selector"):
                nspec["selector"] = ospec["selector"]
        elif key == "/namespaces":
            new.setdefault("spec", {})["finalizers"] = (old.get("spec") or {}).get("finalizers", [])
        elif key == "/persistentvolumeclaims":
            ospec, nspec = old.get("spec") or {}, new.setdefault("spec", {})
            for f in ("volumeName", "storageClassName"):
                if ospec.get(f) and not nspec.get(f):
                    nspec[f] = ospec[f]

    def _service_create(self, rt: ResourceType, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if spec.get("type") == "ExternalName":
            return
        ip = spec.get("clusterIP")
        if ip and ip != "None":
            if ip in self.ips.ips:
                raise invalid(
                    rt.kind,
                    rt.group,
                    obj["metadata"].get("name", ""),
                    [
                        (
                            "spec.clusterIPs",
                            "FieldValueInvalid",
                            f'Invalid value: []string{{"{ip}"}}: failed to allocate IP {ip}: provided IP is '
                            "already allocated",
                        )
                    ],
                )
            self.ips.ips.add(ip)
        elif not ip:
            ip = self.ips.allocate_ip()
            spec["clusterIP"] = ip
        spec["clusterIPs"] = [ip]
        if ip != "None":
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
        self._node_ports(spec, {})
        obj["status"] = {"loadBalancer": {}}

    def _node_ports(self, spec: Obj, old_spec: Obj) -> None:
        if spec.get("type") not in ("NodePort", "LoadBalancer"):
            return
        old_ports = {
            (p.get("port"), p.get("protocol")): p.get("nodePort")
            for p in old_spec.get("ports") or []
            if isinstance(p, dict)
        }
        for p in spec.get("ports") or []:
            if isinstance(p, dict) and not p.get("nodePort"):
                p["nodePort"] = old_ports.get((p.get("port"), p.get("protocol"))) or self.ips.allocate_port()

    def _default_storage_class(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if "storageClassName" in spec:
            return
        for e in self.api.store.entries("storage.k8s.io/storageclasses"):
            ann = e.obj["metadata"].get("annotations") or {}
            if ann.get(DEFAULT_SC_ANNOTATION) == "true":
                spec["storageClassName"] = e.name
                return

    def _job_selector(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if spec.get("manualSelector"):
            return
        meta = obj["metadata"]
        uid = meta["uid"]
        extra = {
            "batch.kubernetes.io/controller-uid": uid,
            "batch.kubernetes.io/job-name": meta["name"],
            "controller-uid": uid,
            "job-name": meta["name"],
        }
        if not spec.get("selector"):
            spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
        tpl = spec.setdefault("template", {})
        labels = tpl.setdefault("metadata", {}).setdefault("labels", {})
        for k, v in extra.items():
            labels.setdefault(k, v)
