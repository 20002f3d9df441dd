"""Discovery documents: legacy (/api, /apis, per group-version) and aggregated (apidiscovery.k8s.io/v2).

kubectl v1.32 asks for the aggregated form first (two requests instead of one per group-version); the
Python client's DynamicClient reads the legacy form. Both come from the registry and are cached until the
registry changes (a CRD is added or removed).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson

from kubesim.resources import Registry, ResourceType

Obj = dict[str, Any]
AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
SUB_VERBS = {
    "status": ["get", "patch", "update"],
    "scale": ["get", "patch", "update"],
    "finalize": ["update"],
    "log": ["get"],
}
SCALE_KIND = {"group": "autoscaling", "version": "v1", "kind": "Scale"}

VERSION_INFO = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0-kubesim",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2024-12-11T00:00:00Z",
    "goVersion": "go1.23.4",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def _storage_hash(rt: ResourceType) -> str:
    digest = hashlib.sha256(f"{rt.group}/{rt.storage_version}/{rt.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def _sub_kind(rt: ResourceType, sub: str, version: str) -> Obj:
    if sub == "scale":
        return SCALE_KIND
    return {"group": rt.group, "version": version, "kind": rt.kind}


class Discovery:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._cache: dict[str, bytes] = {}
        self._generation = -1

    def _cached(self, key: str, build: Any) -> bytes:
        if self._generation != self.registry.generation:
            self._cache.clear()
            self._generation = self.registry.generation
        if key not in self._cache:
            self._cache[key] = orjson.dumps(build())
        return self._cache[key]

    # ---- legacy -----------------------------------------------------------------------------
    def api_versions(self, server_address: str) -> bytes:
        return orjson.dumps(
            {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
            }
        )

    def _group(self, group: str) -> Obj:
        versions = self.registry.group_versions(group)
        gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"name": group, "versions": gvs, "preferredVersion": gvs[0]}

    def group_list(self) -> bytes:
        return self._cached(
            "groups",
            lambda: {
                "kind": "APIGroupList",
                "apiVersion": "v1",
                "groups": [self._group(g) for g in self.registry.groups() if g],
            },
        )

    def group(self, group: str) -> bytes | None:
        if not group or group not in self.registry.groups():
            return None
        return self._cached(
            f"group:{group}", lambda: {"kind": "APIGroup", "apiVersion": "v1", **self._group(group)}
        )

    def resource_list(self, group: str, version: str) -> bytes | None:
        if version not in self.registry.group_versions(group):
            return None

        def build() -> Obj:
            resources: list[Obj] = []
            for rt in sorted(self.registry.resources(group, version), key=lambda r: r.plural):
                res: Obj = {
                    "name": rt.plural,
                    "singularName": rt.singular,
                    "namespaced": rt.namespaced,
                    "kind": rt.kind,
                    "verbs": list(rt.verbs),
                }
                if rt.short_names:
                    res["shortNames"] = list(rt.short_names)
                if rt.categories:
                    res["categories"] = list(rt.categories)
                res["storageVersionHash"] = _storage_hash(rt)
                resources.append(res)
                for sub in rt.subresources:
                    kind = _sub_kind(rt, sub, version)
                    entry: Obj = {
                        "name": f"{rt.plural}/{sub}",
                        "singularName": "",
                        "namespaced": rt.namespaced,
                        "kind": kind["kind"],
                        "verbs": SUB_VERBS.get(sub, ["get"]),
                    }
                    if sub == "scale":
                        entry["group"], entry["version"] = "autoscaling", "v1"
                    resources.append(entry)
            gv = f"{group}/{version}" if group else version
            return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}

        return self._cached(f"res:{group}/{version}", build)

    # ---- aggregated -------------------------------------------------------------------------
    def _aggregated_resource(self, rt: ResourceType, version: str) -> Obj:
        res: Obj = {
            "resource": rt.plural,
            "responseKind": {"group": rt.group, "version": version, "kind": rt.kind},
            "scope": "Namespaced" if rt.namespaced else "Cluster",
            "singularResource": rt.singular,
            "verbs": list(rt.verbs),
        }
        if rt.short_names:
            res["shortNames"] = list(rt.short_names)
        if rt.categories:
            res["categories"] = list(rt.categories)
        if rt.subresources:
            res["subresources"] = [
                {
                    "subresource": sub,
                    "responseKind": _sub_kind(rt, sub, version),
                    "verbs": SUB_VERBS.get(sub, ["get"]),
                }
                for sub in rt.subresources
            ]
        return res

    def _aggregated_group(self, group: str) -> Obj:
        versions = []
        for v in self.registry.group_versions(group):
            resources = sorted(self.registry.resources(group, v), key=lambda r: r.plural)
            versions.append(
                {
                    "version": v,
                    "resources": [self._aggregated_resource(r, v) for r in resources],
                    "freshness": "Current",
                }
            )
        return {"metadata": {"name": group, "creationTimestamp": None}, "versions": versions}

    def aggregated(self, core: bool, api_version: str) -> bytes:
        def build() -> Obj:
            groups = [""] if core else [g for g in self.registry.groups() if g]
            return {
                "kind": "APIGroupDiscoveryList",
                "apiVersion": api_version,
                "metadata": {},
                "items": [self._aggregated_group(g) for g in groups],
            }

        return self._cached(f"agg:{core}:{api_version}", build)


def wants_aggregated(accept: str) -> str | None:
    """The aggregated discovery media type to answer with, or None for the legacy form."""
    for part in accept.split(","):
        params = {
            p.split("=", 1)[0].strip(): p.split("=", 1)[1].strip() for p in part.split(";")[1:] if "=" in p
        }
        if params.get("as") == "APIGroupDiscoveryList" and params.get("g") == "apidiscovery.k8s.io":
            if params.get("v") == "v2":
                return AGGREGATED_V2
            if params.get("v") == "v2beta1":
                return AGGREGATED_V2BETA1
    return None
