"""KubeClient: CRUD, paged lists, status subresource and watch for any resource, as plain dicts.

Thread-safe: one client (one urllib3 pool, one token bucket) is meant to be shared by every thread of
an engine. Objects go in and come out as ``dict`` parsed/serialized with orjson.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import orjson

from veloro_core.kube import config as kube_config
from veloro_core.kube.errors import Gone, KubeError, Unreachable
from veloro_core.kube.paging import ListPage, OnExpired, iter_pages
from veloro_core.kube.resource import ResourceRef, as_gvr, resource_path
from veloro_core.kube.settings import KubeSettings
from veloro_core.kube.transport import JSON, Query, QueryValue, Transport

if TYPE_CHECKING:
    from veloro_core.kube.discovery import Discovery

Obj = dict[str, Any]


class PatchType(StrEnum):
    """Patch flavours by their Content-Type. STRATEGIC works on built-in types only (not CRs)."""

    MERGE = "application/merge-patch+json"
    JSON = "application/json-patch+json"
    STRATEGIC = "application/strategic-merge-patch+json"
    APPLY = "application/apply-patch+yaml"


class PropagationPolicy(StrEnum):
    ORPHAN = "Orphan"
    BACKGROUND = "Background"
    FOREGROUND = "Foreground"


@dataclass(frozen=True)
class WatchEvent:
    type: str  # ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
    object: Obj


def _meta(obj: Obj) -> Obj:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        raise ValueError("the object has no metadata: it needs at least metadata.name")
    return meta


def _dump(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return orjson.dumps(body)


class KubeClient:
    """The single entry point to the Kubernetes API for veloro (see the package docstring)."""

    def __init__(self, transport: Transport, settings: KubeSettings | None = None) -> None:
        self.transport = transport
        self.settings = settings or transport.settings
        self._discovery: Discovery | None = None
        self._discovery_lock = threading.Lock()

    # ---- construction ---------------------------------------------------------------------------
    @classmethod
    def from_kubeconfig(cls, path: str | Path | None = None, context: str | None = None,
                        settings: KubeSettings | None = None) -> KubeClient:
        settings = settings or KubeSettings()
        cfg = kube_config.load_kubeconfig(path, context)
        return cls(kube_config.build_transport(cfg, settings), settings)

    @classmethod
    def in_cluster(cls, settings: KubeSettings | None = None) -> KubeClient:
        settings = settings or KubeSettings()
        return cls(kube_config.build_transport(kube_config.load_in_cluster(), settings), settings)

    @classmethod
    def auto(cls, path: str | Path | None = None, context: str | None = None,
             settings: KubeSettings | None = None) -> KubeClient:
        """kubeconfig if given or present, else in-cluster."""
        settings = settings or KubeSettings()
        return cls(kube_config.build_transport(kube_config.load_auto(path, context), settings), settings)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @property
    def discovery(self) -> Discovery:
        """The client's discovery cache (built on first use; call .refresh() after creating CRDs)."""
        with self._discovery_lock:
            if self._discovery is None:
                from veloro_core.kube.discovery import Discovery

                self._discovery = Discovery(self)
            return self._discovery

    # ---- raw ------------------------------------------------------------------------------------
    def get_json(self, path: str, query: Query | None = None) -> Any:
        """GET any API path (discovery documents, /version) parsed as JSON."""
        return self.transport.request("GET", path, query=query).json()

    def _call(self, method: str, path: str, *, query: Query | None = None, body: Any = None,
              content_type: str | None = None) -> Obj:
        data = None if body is None else _dump(body)
        if data is not None and content_type is None:
            content_type = JSON
        result: Obj = self.transport.request(method, path, query=query, body=data,
                                             content_type=content_type).json()
        return result

    # ---- read -----------------------------------------------------------------------------------
    def get(self, ref: ResourceRef, name: str, namespace: str | None = None) -> Obj:
        return self._call("GET", resource_path(ref, namespace, name))

    def list_pages(self, ref: ResourceRef, namespace: str | None = None, *, label_selector: str | None = None,
                   field_selector: str | None = None, page_size: int | None = None,
                   on_expired: OnExpired = "restart") -> Iterator[ListPage]:
        """Pages of a list (limit/continue); namespace None lists a namespaced resource in all namespaces.

        page_size None uses settings.page_size; 0 asks for everything in one response.
        """
        limit = self.settings.page_size if page_size is None else page_size
        path = resource_path(ref, namespace)

        def fetch(token: str | None) -> bytes:
            query: Query = {"labelSelector": label_selector, "fieldSelector": field_selector,
                            "limit": limit or None, "continue": token}
            return self.transport.request("GET", path, query=query).data

        return iter_pages(fetch, as_gvr(ref).group_resource, on_expired)

    def list_items(self, ref: ResourceRef, namespace: str | None = None, *, label_selector: str | None = None,
                   field_selector: str | None = None, page_size: int | None = None,
                   on_expired: OnExpired = "restart") -> Iterator[Obj]:
        """Every object of the list, fetched page by page (memory stays at one page)."""
        pages = self.list_pages(ref, namespace, label_selector=label_selector, field_selector=field_selector,
                                page_size=page_size, on_expired=on_expired)
        for page in pages:
            yield from page.items

    # ---- write ----------------------------------------------------------------------------------
    @staticmethod
    def _write_query(dry_run: bool, field_manager: str | None) -> dict[str, QueryValue]:
        return {"dryRun": "All" if dry_run else None, "fieldManager": field_manager}

    def create(self, ref: ResourceRef, obj: Obj, namespace: str | None = None, *, dry_run: bool = False,
               field_manager: str | None = None) -> Obj:
        """POST; namespace defaults to obj.metadata.namespace."""
        ns = namespace if namespace is not None else _meta(obj).get("namespace")
        return self._call("POST", resource_path(ref, ns), body=obj,
                          query=self._write_query(dry_run, field_manager))

    def update(self, ref: ResourceRef, obj: Obj, namespace: str | None = None, *, dry_run: bool = False,
               field_manager: str | None = None) -> Obj:
        """PUT the whole object; a stale metadata.resourceVersion raises Conflict."""
        meta = _meta(obj)
        ns = namespace if namespace is not None else meta.get("namespace")
        return self._call("PUT", resource_path(ref, ns, str(meta.get("name") or "")), body=obj,
                          query=self._write_query(dry_run, field_manager))

    def patch(self, ref: ResourceRef, name: str, patch: Any, namespace: str | None = None, *,
              patch_type: PatchType = PatchType.MERGE, dry_run: bool = False,
              field_manager: str | None = None, force: bool | None = None) -> Obj:
        """PATCH with a dict/list (serialized) or bytes/str (sent as is). APPLY needs field_manager."""
        return self._patch(ref, name, patch, namespace, None, patch_type, dry_run, field_manager, force)

    def _patch(self, ref: ResourceRef, name: str, patch: Any, namespace: str | None, sub: str | None,
               patch_type: PatchType, dry_run: bool, field_manager: str | None, force: bool | None) -> Obj:
        if patch_type is PatchType.APPLY and not field_manager:
            raise ValueError("server-side apply (PatchType.APPLY) needs a field_manager")
        query = {**self._write_query(dry_run, field_manager), "force": force}
        return self._call("PATCH", resource_path(ref, namespace, name, sub), body=patch,
                          content_type=str(patch_type), query=query)

    def delete(self, ref: ResourceRef, name: str, namespace: str | None = None, *,
               propagation_policy: PropagationPolicy | str | None = None,
               grace_period_seconds: int | None = None, precondition_uid: str | None = None,
               precondition_resource_version: str | None = None, dry_run: bool = False) -> Obj:
        """DELETE; returns the object (when finalizers keep it) or a Status."""
        options: Obj = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation_policy is not None:
            options["propagationPolicy"] = str(propagation_policy)
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        pre = {k: v for k, v in (("uid", precondition_uid),
                                 ("resourceVersion", precondition_resource_version)) if v}
        if pre:
            options["preconditions"] = pre
        if dry_run:
            options["dryRun"] = ["All"]
        return self._call("DELETE", resource_path(ref, namespace, name), body=options,
                          query={"dryRun": "All" if dry_run else None})

    # ---- status subresource ---------------------------------------------------------------------
    def get_status(self, ref: ResourceRef, name: str, namespace: str | None = None) -> Obj:
        return self._call("GET", resource_path(ref, namespace, name, "status"))

    def update_status(self, ref: ResourceRef, obj: Obj, namespace: str | None = None) -> Obj:
        """PUT obj to the status subresource (only .status changes; resourceVersion is checked)."""
        meta = _meta(obj)
        ns = namespace if namespace is not None else meta.get("namespace")
        return self._call("PUT", resource_path(ref, ns, str(meta.get("name") or ""), "status"), body=obj)

    def patch_status(self, ref: ResourceRef, name: str, patch: Any, namespace: str | None = None, *,
                     patch_type: PatchType = PatchType.MERGE) -> Obj:
        return self._patch(ref, name, patch, namespace, "status", patch_type, False, None, None)

    # ---- watch ----------------------------------------------------------------------------------
    def watch(self, ref: ResourceRef, namespace: str | None = None, *, resource_version: str | None = None,
              label_selector: str | None = None, field_selector: str | None = None,
              timeout_seconds: int | None = None,
              allow_bookmarks: bool = False) -> Generator[WatchEvent, None, None]:
        """Events until the server ends the stream (timeout_seconds) or the caller stops iterating.

        An ERROR event with a 410 Status (resourceVersion too old) is raised as Gone: list again and
        watch from the list's resourceVersion.
        """
        query: Query = {"watch": "true", "resourceVersion": resource_version, "labelSelector": label_selector,
                        "fieldSelector": field_selector, "timeoutSeconds": timeout_seconds,
                        "allowWatchBookmarks": True if allow_bookmarks else None}
        read_timeout = (timeout_seconds + 30.0) if timeout_seconds else None
        resp = self.transport.stream("GET", resource_path(ref, namespace), query=query,
                                     read_timeout=read_timeout)
        buf = b""
        try:
            for chunk in resp.stream(64 * 1024, decode_content=True):
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield _watch_event(line)
            if buf.strip():
                yield _watch_event(buf)
        except KubeError:
            raise
        except Exception as exc:  # urllib3 read errors while streaming
            if type(exc).__module__.startswith(("urllib3", "http.client")):
                raise Unreachable(f"watch of {as_gvr(ref).group_resource} broke: {exc}") from exc
            raise
        finally:
            # The stream may be cut short by the caller: never return a half-read connection to the pool.
            resp.close()
            resp.release_conn()


def _watch_event(line: bytes) -> WatchEvent:
    event = orjson.loads(line)
    obj = event.get("object") or {}
    if event.get("type") == "ERROR" and obj.get("code") == 410:
        raise Gone(str(obj.get("message") or "watch resourceVersion too old"), code=410,
                   reason=str(obj.get("reason") or "Expired"), status=obj)
    return WatchEvent(str(event.get("type") or ""), obj)
