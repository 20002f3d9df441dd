"""Just enough OpenAPI v3 for kubectl's create/apply without --validate=false.

kubectl (v1.24+) checks in /openapi/v3 whether the PATCH operation of an object's kind accepts the
`fieldValidation` query parameter; when it does, kubectl leaves validation to the server and skips its
client-side schema check. Each group-version document therefore lists the resource paths with their
x-kubernetes-group-version-kind and that parameter. Schemas are open objects
(x-kubernetes-preserve-unknown-fields): kubesim has no full schemas, so `kubectl explain` is not supported.

The PATCH request bodies deliberately omit the strategic-merge-patch media type: kubectl then computes
strategic merge patches for built-in kinds from its compiled-in Go types (exact patch metadata) and JSON
merge patches for custom resources, exactly as against a real server.
/openapi/v2 (served by kubesim.httpapi) is an empty document, so kubectl's client-side checks find no schema
to apply (it skips them) and its strategic merge patches come from the compiled-in types.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from kubesim.resources import Registry, ResourceType

Obj = dict[str, Any]
_PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml")


def _param(name: str, where: str = "query") -> Obj:
    return {
        "name": name,
        "in": where,
        "schema": {"type": "string", "uniqueItems": True},
        **({"required": True} if where == "path" else {}),
    }


def _gv_path(group: str, version: str) -> str:
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def _schema_name(rt: ResourceType, version: str) -> str:
    group = rt.group or "core"
    return f"io.kubesim.{group}.{version}.{rt.kind}"


def _operations(rt: ResourceType, version: str, item: bool) -> Obj:
    gvk = {"group": rt.group, "version": version, "kind": rt.kind}
    ref = {"$ref": f"#/components/schemas/{_schema_name(rt, version)}"}
    ok = {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}}
    common = [_param("pretty")]
    if rt.namespaced:
        common.append(_param("namespace", "path"))
    ops: Obj = {}
    if item:
        common.append(_param("name", "path"))
        ops["get"] = {
            "operationId": f"read{rt.kind}",
            "responses": ok,
            "x-kubernetes-action": "get",
            "x-kubernetes-group-version-kind": gvk,
        }
        ops["put"] = {
            "operationId": f"replace{rt.kind}",
            "responses": ok,
            "x-kubernetes-action": "put",
            "x-kubernetes-group-version-kind": gvk,
            "parameters": [_param("dryRun"), _param("fieldManager"), _param("fieldValidation")],
            "requestBody": {"content": {"application/json": {"schema": ref}}, "required": True},
        }
        ops["patch"] = {
            "operationId": f"patch{rt.kind}",
            "responses": ok,
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": gvk,
            "parameters": [
                _param("dryRun"),
                _param("fieldManager"),
                _param("fieldValidation"),
                _param("force"),
            ],
            "requestBody": {
                "content": {t: {"schema": {"type": "object"}} for t in _PATCH_TYPES},
                "required": True,
            },
        }
        ops["delete"] = {
            "operationId": f"delete{rt.kind}",
            "responses": ok,
            "x-kubernetes-action": "delete",
            "x-kubernetes-group-version-kind": gvk,
        }
    else:
        ops["get"] = {
            "operationId": f"list{rt.kind}",
            "responses": ok,
            "x-kubernetes-action": "list",
            "x-kubernetes-group-version-kind": gvk,
        }
        ops["post"] = {
            "operationId": f"create{rt.kind}",
            "responses": ok,
            "x-kubernetes-action": "post",
            "x-kubernetes-group-version-kind": gvk,
            "parameters": [_param("dryRun"), _param("fieldManager"), _param("fieldValidation")],
            "requestBody": {"content": {"application/json": {"schema": ref}}, "required": True},
        }
    ops["parameters"] = common
    return ops


def _schema(rt: ResourceType, version: str) -> Obj:
    return {
        "type": "object",
        "description": f"{rt.kind} (kubesim accepts any fields; no schema is enforced)",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
        "x-kubernetes-preserve-unknown-fields": True,
        "x-kubernetes-group-version-kind": [{"group": rt.group, "version": version, "kind": rt.kind}],
    }


class OpenApi:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._generation = -1
        self._docs: dict[str, bytes] = {}
        self._index = b""

    def _rebuild(self) -> None:
        if self._generation == self.registry.generation:
            return
        self._docs.clear()
        paths: Obj = {}
        for group in self.registry.groups():
            for version in self.registry.group_versions(group):
                doc = orjson.dumps(self._gv_doc(group, version))
                gvp = _gv_path(group, version)
                self._docs[gvp] = doc
                digest = hashlib.sha512(doc).hexdigest()[:64].upper()
                paths[gvp] = {"serverRelativeURL": f"/openapi/v3/{gvp}?hash={digest}"}
        self._index = orjson.dumps({"paths": paths})
        self._generation = self.registry.generation

    def _gv_doc(self, group: str, version: str) -> Obj:
        paths: Obj = {}
        schemas: Obj = {}
        prefix = f"/api/{version}" if not group else f"/apis/{group}/{version}"
        for rt in sorted(self.registry.resources(group, version), key=lambda r: r.plural):
            base = (
                f"{prefix}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"{prefix}/{rt.plural}"
            )
            paths[base] = _operations(rt, version, item=False)
            paths[f"{base}/{{name}}"] = _operations(rt, version, item=True)
            schemas[_schema_name(rt, version)] = _schema(rt, version)
        return {
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": "v1.32.0"},
            "paths": paths,
            "components": {"schemas": schemas},
        }

    def index(self) -> bytes:
        self._rebuild()
        return self._index

    def document(self, gv_path: str) -> bytes | None:
        self._rebuild()
        return self._docs.get(gv_path)
