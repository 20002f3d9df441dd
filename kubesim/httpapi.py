"""HTTP routing and request handling for the Kubernetes REST API surface.

One catch-all route parses the path itself: resource types appear and disappear with CRDs, so a static
route table would have to be rebuilt; parsing a path is cheaper than aiohttp's dynamic resources anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import structlog
import yaml
from aiohttp import web

from kubesim import errors, protobuf
from kubesim.discovery import VERSION_INFO, Discovery, wants_aggregated
from kubesim.listing import ListQuery, list_objects, matcher_for, render_entry, select, single_table
from kubesim.objects import Api, DeleteOptions
from kubesim.openapi import OpenApi
from kubesim.resources import ResourceType
from kubesim.reviews import REVIEWS, review
from kubesim.scale import patch_scale, to_scale, update_scale
from kubesim.watch import WatchQuery, serve_watch

log = structlog.get_logger("kubesim.http")
MAX_BODY = 3 * 1024 * 1024
# Kinds whose DELETE answers with the deleted object rather than a Status (as their real registries do).
RETURN_DELETED = {"/pods", "/services", "/persistentvolumes", "/persistentvolumeclaims"}
JSON = "application/json"
OPENAPI_V2_PB = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"


@dataclass
class Target:
    rt: ResourceType
    version: str
    ns: str | None
    name: str | None
    sub: str | None


def _json(body: bytes, status: int = 200, content_type: str = JSON) -> web.Response:
    return web.Response(body=body, status=status, headers={"Content-Type": content_type})


def _status_response(err: errors.ApiError) -> web.Response:
    return _json(orjson.dumps(err.status()), err.code)


def _success(rt: ResourceType, name: str, uid: str) -> bytes:
    details: dict[str, Any] = {"name": name, "kind": rt.plural, "uid": uid}
    if rt.group:
        details["group"] = rt.group
    return orjson.dumps(
        {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}
    )


def _table_include(request: web.Request) -> str | None:
    accept = request.headers.get("Accept", "")
    if "as=Table" not in accept:
        return None
    return request.query.get("includeObject", "Metadata")


def _not_found_path() -> errors.ApiError:
    return errors.ApiError(404, "NotFound", "the server could not find the requested resource")


class HttpApi:
    def __init__(
        self, api: Api, discovery: Discovery, openapi: OpenApi, stopping: Callable[[], bool]
    ) -> None:
        self.api = api
        self.discovery = discovery
        self.openapi = openapi
        self.stopping = stopping

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._dispatch(request)
        except errors.ApiError as exc:
            return _status_response(exc)
        except web.HTTPRequestEntityTooLarge:
            return _status_response(errors.too_large(MAX_BODY))
        except (ConnectionResetError, asyncio.CancelledError):
            raise
        except Exception as exc:  # a bug in kubesim: answer 500 with the reason, keep serving
            log.exception("internal error", path=request.path, method=request.method)
            return _status_response(errors.ApiError(500, "InternalError", f"kubesim internal error: {exc!r}"))

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.path.split("/") if p]
        if not parts:
            return _json(
                orjson.dumps(
                    {
                        "paths": [
                            "/api",
                            "/api/v1",
                            "/apis",
                            "/healthz",
                            "/livez",
                            "/openapi/v2",
                            "/openapi/v3",
                            "/readyz",
                            "/version",
                        ]
                    }
                )
            )
        head = parts[0]
        if head == "version":
            return _json(orjson.dumps(VERSION_INFO))
        if head in ("healthz", "livez", "readyz"):
            return web.Response(text="ok", content_type="text/plain")
        if head == "openapi":
            return self._openapi(request, parts)
        if head == "api":
            if len(parts) == 1:
                return self._discovery_root(request, core=True)
            if len(parts) == 2:
                return self._resource_list("", parts[1])
            return await self._resource(request, "", parts[1], parts[2:])
        if head == "apis":
            if len(parts) == 1:
                return self._discovery_root(request, core=False)
            if len(parts) == 2:
                body = self.discovery.group(parts[1])
                if body is None:
                    raise _not_found_path()
                return _json(body)
            if len(parts) == 3:
                return self._resource_list(parts[1], parts[2])
            return await self._resource(request, parts[1], parts[2], parts[3:])
        raise _not_found_path()

    # ---- discovery and OpenAPI ------------------------------------------------------------------
    def _discovery_root(self, request: web.Request, core: bool) -> web.Response:
        agg = wants_aggregated(request.headers.get("Accept", ""))
        if agg is not None:
            version = "apidiscovery.k8s.io/v2" if ";v=v2;" in agg else "apidiscovery.k8s.io/v2beta1"
            return _json(self.discovery.aggregated(core, version), content_type=agg)
        if core:
            return _json(self.discovery.api_versions(request.host))
        return _json(self.discovery.group_list())

    def _resource_list(self, group: str, version: str) -> web.Response:
        body = self.discovery.resource_list(group, version)
        if body is None:
            raise _not_found_path()
        return _json(body)

    def _openapi(self, request: web.Request, parts: list[str]) -> web.Response:
        if parts[1:] == ["v2"]:
            return self._openapi_v2(request)
        if len(parts) >= 2 and parts[1] == "v3":
            if len(parts) == 2:
                return _json(self.openapi.index())
            doc = self.openapi.document("/".join(parts[2:]))
            if doc is not None:
                return _json(doc)
        raise _not_found_path()

    def _openapi_v2(self, request: web.Request) -> web.Response:
        """An empty OpenAPI v2 document: kubectl then skips client-side schema checks (e.g. of `kind: List`
        items) and computes strategic merge patches from its compiled-in types. An empty protobuf message is
        a valid empty openapi_v2.Document."""
        if "protobuf" in request.headers.get("Accept", ""):
            return web.Response(body=b"", headers={"Content-Type": OPENAPI_V2_PB})
        doc = {
            "swagger": "2.0",
            "info": {"title": "Kubernetes", "version": "v1.32.0"},
            "paths": {},
            "definitions": {},
        }
        return _json(orjson.dumps(doc))

    # ---- resources -----------------------------------------------------------------------------
    def _target(self, group: str, version: str, rest: list[str]) -> Target:
        ns: str | None = None
        if (
            rest[0] == "namespaces"
            and len(rest) >= 3
            and not (len(rest) == 3 and rest[2] in ("status", "finalize"))
        ):
            ns, rest = rest[1], rest[2:]
        if len(rest) > 3:
            raise _not_found_path()
        rt = self.api.registry.lookup(group, version, rest[0])
        if rt is None:
            raise _not_found_path()
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if ns is not None and not rt.namespaced:
            raise _not_found_path()
        if rt.namespaced and ns is None and name is not None:
            raise _not_found_path()
        if sub is not None and sub not in rt.subresources:
            raise _not_found_path()
        return Target(rt, version, ns, name, sub)

    async def _resource(
        self, request: web.Request, group: str, version: str, rest: list[str]
    ) -> web.StreamResponse:
        t = self._target(group, version, rest)
        method = request.method
        verb = _verb(method, t, request)
        if verb is not None and t.sub is None and verb not in t.rt.verbs:
            raise errors.method_not_allowed(
                f"the server does not allow this method on the requested resource ({verb} {t.rt.plural})"
            )
        if t.name is None:
            if method == "GET":
                return await self._list_or_watch(request, t)
            if method == "POST":
                return await self._create(request, t)
            if method == "DELETE":
                return await self._delete_collection(request, t)
            raise errors.method_not_allowed(
                f"the server does not allow this method on the requested resource ({method} {t.rt.plural})"
            )
        if t.sub == "scale":
            return await self._scale(request, t)
        if t.sub == "log":
            self.api.get(t.rt, t.ns or "", t.name)
            return web.Response(text="", content_type="text/plain")
        if t.sub == "finalize" and method == "PUT":
            return await self._update(request, t)
        if method == "GET" and t.sub in (None, "status"):
            return self._get(request, t)
        if method == "PUT" and t.sub in (None, "status"):
            return await self._update(request, t)
        if method == "PATCH" and t.sub in (None, "status"):
            return await self._patch(request, t)
        if method == "DELETE" and t.sub is None:
            return await self._delete(request, t)
        raise errors.method_not_allowed(
            f"the server does not allow this method on the requested resource "
            f"({method} {t.rt.plural}{'/' + t.sub if t.sub else ''})"
        )

    async def _body(self, request: web.Request) -> Any:
        raw = await self._raw_body(request)
        ctype = request.headers.get("Content-Type", JSON)
        if "protobuf" in ctype:
            return protobuf.decode(raw)
        try:
            if "yaml" in ctype:
                return yaml.safe_load(raw)
            return orjson.loads(raw)
        except (orjson.JSONDecodeError, yaml.YAMLError) as exc:
            raise errors.bad_request(f"the body of the request could not be decoded: {exc}") from exc

    async def _raw_body(self, request: web.Request) -> bytes:
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise errors.too_large(MAX_BODY)
        return await request.read()

    def _render(self, t: Target, entry: Any, status: int = 200) -> web.Response:
        return _json(render_entry(entry, t.rt, t.rt.api_version(t.version)), status)

    def _get(self, request: web.Request, t: Target) -> web.Response:
        assert t.name is not None
        entry = self.api.get(t.rt, t.ns or "", t.name)
        include = _table_include(request)
        if include is not None:
            return _json(single_table(t.rt, entry, t.rt.api_version(t.version), include))
        return self._render(t, entry)

    async def _list_or_watch(self, request: web.Request, t: Target) -> web.StreamResponse:
        q = request.query
        if q.get("watch") in ("true", "1", "True"):
            wq = WatchQuery(
                resource_version=q.get("resourceVersion"),
                label_selector=q.get("labelSelector"),
                field_selector=q.get("fieldSelector"),
                bookmarks=q.get("allowWatchBookmarks") in ("true", "1"),
                timeout=_seconds(q.get("timeoutSeconds")),
                send_initial=(q.get("sendInitialEvents") == "true") if "sendInitialEvents" in q else None,
                table_include=_table_include(request),
            )
            return await serve_watch(request, self.api.store, t.rt, t.version, t.ns, wq, self.stopping)
        limit_text = q.get("limit", "0") or "0"
        if not limit_text.isdigit():
            raise errors.bad_request(f"invalid limit: {limit_text!r}")
        lq = ListQuery(
            label_selector=q.get("labelSelector"),
            field_selector=q.get("fieldSelector"),
            limit=int(limit_text),
            continue_token=q.get("continue"),
            table_include=_table_include(request),
        )
        return _json(list_objects(self.api.store, t.rt, t.version, t.ns, lq))

    async def _create(self, request: web.Request, t: Target) -> web.Response:
        if t.rt.namespaced and t.ns is None:
            raise errors.method_not_allowed(f"{t.rt.plural} must be created in a namespace")
        body = await self._body(request)
        if t.rt.key in REVIEWS:
            return _json(orjson.dumps(review(t.rt, t.version, body)), 201)
        entry = self.api.create(t.rt, t.version, t.ns or "", body, dry_run=_dry_run(request))
        return self._render(t, entry, 201)

    async def _update(self, request: web.Request, t: Target) -> web.Response:
        assert t.name is not None
        body = await self._body(request)
        if t.sub == "finalize":
            entry = self._finalize_namespace(t, body)
        else:
            entry = self.api.update(
                t.rt, t.version, t.ns or "", t.name, body, sub=t.sub, dry_run=_dry_run(request)
            )
        return self._render(t, entry)

    def _finalize_namespace(self, t: Target, body: Any) -> Any:
        assert t.name is not None
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request must be a Namespace object")
        old = self.api.get(t.rt, "", t.name)
        new = orjson.loads(old.raw)
        new.setdefault("spec", {})["finalizers"] = (body.get("spec") or {}).get("finalizers") or []
        return self.api.finalize_namespace(old, new)

    async def _patch(self, request: web.Request, t: Target) -> web.Response:
        assert t.name is not None
        raw = await self._raw_body(request)
        ptype = request.headers.get("Content-Type", "").split(";")[0].strip()
        q = request.query
        entry = self.api.patch(
            t.rt,
            t.version,
            t.ns or "",
            t.name,
            ptype,
            raw,
            sub=t.sub,
            dry_run=_dry_run(request),
            force=q.get("force") == "true",
            manager=q.get("fieldManager"),
        )
        return self._render(t, entry)

    async def _delete(self, request: web.Request, t: Target) -> web.Response:
        assert t.name is not None
        opts = await self._delete_options(request)
        entry, gone = self.api.delete(t.rt, t.ns or "", t.name, opts)
        if gone and t.rt.key not in RETURN_DELETED and not t.rt.custom:
            return _json(_success(t.rt, t.name, entry.obj["metadata"].get("uid", "")))
        return self._render(t, entry)

    async def _delete_options(self, request: web.Request) -> DeleteOptions:
        q = request.query
        opts = DeleteOptions(propagation=q.get("propagationPolicy"), dry_run=_dry_run(request))
        if q.get("gracePeriodSeconds", "").isdigit():
            opts.grace_period = int(q["gracePeriodSeconds"])
        raw = await self._raw_body(request)
        if raw.strip():
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise errors.bad_request(f"the body of the request could not be decoded: {exc}") from exc
            if isinstance(body, dict):
                opts.propagation = body.get("propagationPolicy") or opts.propagation
                if body.get("orphanDependents") is True and not opts.propagation:
                    opts.propagation = "Orphan"
                pre = body.get("preconditions") or {}
                opts.uid, opts.resource_version = pre.get("uid"), pre.get("resourceVersion")
                opts.dry_run = opts.dry_run or bool(body.get("dryRun"))
        if opts.propagation not in (None, "Background", "Foreground", "Orphan"):
            raise errors.bad_request(
                f"unsupported propagationPolicy {opts.propagation!r}: use Background, Foreground or Orphan"
            )
        return opts

    async def _delete_collection(self, request: web.Request, t: Target) -> web.Response:
        opts = await self._delete_options(request)
        q = request.query
        lq = ListQuery(label_selector=q.get("labelSelector"), field_selector=q.get("fieldSelector"))
        for entry in select(
            self.api.store, t.rt, t.ns, matcher_for(t.rt, lq.label_selector, lq.field_selector)
        ):
            if self.api.store.get(t.rt.key, entry.namespace, entry.name) is not None:
                self.api.delete(t.rt, entry.namespace, entry.name, opts)
        return _json(
            orjson.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"})
        )

    async def _scale(self, request: web.Request, t: Target) -> web.Response:
        assert t.name is not None
        ns = t.ns or ""
        if request.method == "GET":
            return _json(orjson.dumps(to_scale(t.rt, self.api.get(t.rt, ns, t.name))))
        if request.method == "PUT":
            scale = update_scale(
                self.api, t.rt, t.version, ns, t.name, await self._body(request), _dry_run(request)
            )
            return _json(orjson.dumps(scale))
        if request.method == "PATCH":
            ptype = request.headers.get("Content-Type", "").split(";")[0].strip()
            scale = patch_scale(
                self.api, t.rt, t.version, ns, t.name, ptype, await self._raw_body(request), _dry_run(request)
            )
            return _json(orjson.dumps(scale))
        raise errors.method_not_allowed(f"the server does not allow this method on {t.rt.plural}/scale")


def _verb(method: str, t: Target, request: web.Request) -> str | None:
    """The Kubernetes verb of a request (None for methods that have none)."""
    if method == "GET":
        if t.name is not None:
            return "get"
        return "watch" if request.query.get("watch") in ("true", "1", "True") else "list"
    collection = t.name is None
    return {
        "POST": "create" if collection else None,
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "deletecollection" if collection else "delete",
    }.get(method)


def _seconds(text: str | None) -> float | None:
    if text is None or text == "":
        return None
    if not text.isdigit():
        raise errors.bad_request(f"invalid timeoutSeconds: {text!r}: must be a non-negative integer")
    return float(text)


def _dry_run(request: web.Request) -> bool:
    return "All" in request.query.getall("dryRun", [])
