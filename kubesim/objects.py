"""Object semantics shared by the HTTP layer and the simulated controllers.

Create, update, patch and delete with the rules clients rely on: resourceVersion preconditions, uid and
creationTimestamp, generation, generateName, finalizers and deletionTimestamp, status and scale
subresources. Everything runs on the event loop thread, so each operation is atomic without locks.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson

from kubesim import errors
from kubesim.admission import Admission
from kubesim.conversion import convert
from kubesim.patch import json_patch, merge_patch, strategic_merge
from kubesim.resources import Registry, ResourceType
from kubesim.store import Entry, Store
from kubesim.validation import require_name, validate

Obj = dict[str, Any]
_GEN_CHARS = "bcdfghjklmnpqrstvwxz2456789"
_IMMUTABLE_META = (
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
)

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"


def rfc3339(ts: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if ts is None else ts))


def clone(obj: Obj) -> Obj:
    """Deep copy through orjson: several times faster than copy.deepcopy for JSON trees."""
    result: Obj = orjson.loads(orjson.dumps(obj))
    return result


def _without(obj: Obj, *keys: str) -> Obj:
    return {k: v for k, v in obj.items() if k not in keys}


@contextmanager
def _shape_guard(rt: ResourceType) -> Iterator[None]:
    """Client data of the wrong shape (a string where a list belongs...) is a 400, not a kubesim crash."""
    try:
        yield
    except (TypeError, AttributeError) as exc:
        raise errors.bad_request(
            f"the object is not a valid {rt.kind}: a field has the wrong type ({exc}); check the manifest"
        ) from exc


@dataclass
class DeleteOptions:
    propagation: str | None = None
    uid: str | None = None
    resource_version: str | None = None
    dry_run: bool = False
    grace_period: int | None = None


class Api:
    def __init__(self, store: Store, registry: Registry) -> None:
        self.store = store
        self.registry = registry
        self.admission = Admission(self)

    # ---- reads -------------------------------------------------------------------------------
    def rt(self, key: str) -> ResourceType:
        rt = self.registry.get(key)
        if rt is None:
            raise errors.ApiError(
                404, "NotFound", f"the server could not find the requested resource ({key})"
            )
        return rt

    def get(self, rt: ResourceType, ns: str, name: str) -> Entry:
        e = self.store.get(rt.key, ns, name)
        if e is None:
            raise errors.not_found(rt.plural, rt.group, name)
        return e

    def check_namespace(self, rt: ResourceType, ns: str, name: str, creating: bool) -> None:
        if not rt.namespaced:
            return
        nse = self.store.get("/namespaces", "", ns)
        if nse is None:
            raise errors.not_found("namespaces", "", ns)
        if creating and nse.obj["metadata"].get("deletionTimestamp"):
            raise errors.ApiError(
                403,
                "Forbidden",
                f'{rt.qualified()} "{name}" is forbidden: unable to create new content in namespace {ns} '
                "because it is being terminated",
                {
                    "name": name,
                    "kind": rt.plural,
                    "group": rt.group,
                    "causes": [
                        {
                            "reason": "NamespaceTerminating",
                            "message": f"namespace {ns} is being terminated",
                            "field": "metadata.namespace",
                        }
                    ],
                },
            )

    # ---- create ------------------------------------------------------------------------------
    def _check_type(self, rt: ResourceType, version: str, obj: Obj) -> None:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        want = rt.api_version(version)
        if kind and kind != rt.kind:
            raise errors.bad_request(
                f'{kind} in version "{version}" cannot be handled as a {rt.kind}: '
                f"the kind in the body ({kind}) does not match the resource in the URL "
                f"({rt.plural})"
            )
        if api_version and api_version != want:
            group = api_version.rpartition("/")[0]
            if group != rt.group or api_version.rpartition("/")[2] not in rt.versions:
                raise errors.bad_request(
                    f"the API version in the data ({api_version}) does not match the "
                    f"expected API version ({want})"
                )
        obj["apiVersion"] = want
        obj["kind"] = rt.kind

    def _metadata(self, obj: Any) -> Obj:
        if not isinstance(obj, dict):
            raise errors.bad_request("the body of the request must be a JSON object")
        meta = obj.get("metadata")
        if meta is None:
            meta = obj["metadata"] = {}
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be a JSON object")
        for field in ("name", "generateName", "namespace", "resourceVersion", "uid"):
            if meta.get(field) is not None and not isinstance(meta[field], str):
                raise errors.bad_request(f"metadata.{field} must be a string, not {meta[field]!r}")
        for field in ("finalizers", "ownerReferences"):
            if meta.get(field) is not None and not isinstance(meta[field], list):
                raise errors.bad_request(f"metadata.{field} must be a list")
        if any(not isinstance(f, str) for f in meta.get("finalizers") or []):
            raise errors.bad_request("metadata.finalizers must be a list of strings")
        for i, ref in enumerate(meta.get("ownerReferences") or []):
            missing = [
                f
                for f in ("apiVersion", "kind", "name", "uid")
                if not isinstance(ref, dict) or not isinstance(ref.get(f), str) or not ref[f]
            ]
            if missing:
                raise errors.invalid(
                    "Object",
                    "",
                    str(meta.get("name", "")),
                    [
                        (f"metadata.ownerReferences[{i}].{f}", "FieldValueRequired", "Required value")
                        for f in missing
                    ],
                )
        return meta

    def create(self, rt: ResourceType, version: str, ns: str, obj: Any, dry_run: bool = False) -> Entry:
        meta = self._metadata(obj)
        self._check_type(rt, version, obj)
        if rt.namespaced:
            if meta.get("namespace") and meta["namespace"] != ns:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
            ns = ""
        require_name(rt, meta)
        if not meta.get("name"):
            meta["name"] = self._generate_name(rt, ns, str(meta["generateName"]))
        name = str(meta["name"])
        self.check_namespace(rt, ns, name, creating=True)
        if self.store.get(rt.key, ns, name) is not None:
            raise errors.already_exists(rt.plural, rt.group, name)
        for k in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            meta.pop(k, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = rfc3339()
        if rt.has_generation or rt.custom:
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        with _shape_guard(rt):
            self.admission.on_create(rt, obj)
            validate(rt, obj)
        if self.store.get(rt.key, ns, name) is not None:
            raise errors.already_exists(rt.plural, rt.group, name)
        obj = convert(rt.key, obj, rt.storage_api_version())
        meta = obj["metadata"]
        if dry_run:
            return Entry(obj, self.store.rv)
        rv = self.store.next_rv()
        meta["resourceVersion"] = str(rv)
        if rt.key == "/services":
            self.admission.observe_service(obj)
        return self.store.put(rt.key, obj, rv)

    def _generate_name(self, rt: ResourceType, ns: str, prefix: str) -> str:
        for _ in range(20):
            name = prefix[:58] + "".join(random.choice(_GEN_CHARS) for _ in range(5))
            if self.store.get(rt.key, ns, name) is None:
                return name
        raise errors.ApiError(409, "AlreadyExists", f"could not generate a unique name for {prefix!r}; retry")

    # ---- update ------------------------------------------------------------------------------
    def update(
        self,
        rt: ResourceType,
        version: str,
        ns: str,
        name: str,
        obj: Any,
        sub: str | None = None,
        dry_run: bool = False,
    ) -> Entry:
        self._metadata(obj)
        if sub is None:
            self._check_type(rt, version, obj)
        else:
            obj.setdefault("apiVersion", rt.api_version(version))
        obj = convert(rt.key, obj, rt.storage_api_version())  # everything below is in the storage version
        meta = obj["metadata"]
        if meta.get("name") and meta["name"] != name:
            raise errors.bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({name})"
            )
        if rt.namespaced and meta.get("namespace") and meta["namespace"] != ns:
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        old = self.get(rt, ns, name)
        rv = meta.get("resourceVersion")
        if rv and str(rv) != str(old.rv):
            raise errors.stale_conflict(rt.plural, rt.group, name)
        if meta.get("uid") and meta["uid"] != old.obj["metadata"]["uid"]:
            raise errors.conflict(
                rt.plural,
                rt.group,
                name,
                f"Precondition failed: UID in precondition: {meta['uid']}, UID in object "
                f"meta: {old.obj['metadata']['uid']}",
            )
        if sub == "status":
            new = clone(old.obj)
            if "status" in obj:
                new["status"] = obj["status"]
            else:
                new.pop("status", None)
        else:
            new = obj
            self._carry_metadata(rt, old.obj, new)
            if "status" in rt.subresources:
                if "status" in old.obj:
                    new["status"] = old.obj["status"]
                else:
                    new.pop("status", None)
            with _shape_guard(rt):
                self.admission.on_update(rt, old.obj, new)
                validate(rt, new)
        return self._commit_update(rt, old, new, dry_run)

    def _carry_metadata(self, rt: ResourceType, old: Obj, new: Obj) -> None:
        ometa, nmeta = old["metadata"], new["metadata"]
        for k in _IMMUTABLE_META:
            if k in ometa:
                nmeta[k] = ometa[k]
            else:
                nmeta.pop(k, None)
        nmeta["name"] = ometa["name"]
        if rt.namespaced:
            nmeta["namespace"] = ometa["namespace"]
        nmeta.pop("selfLink", None)
        new["apiVersion"] = old["apiVersion"] if new.get("apiVersion") is None else new["apiVersion"]

    def _commit_update(self, rt: ResourceType, old: Entry, new: Obj, dry_run: bool) -> Entry:
        meta = new["metadata"]
        meta["resourceVersion"] = old.obj["metadata"]["resourceVersion"]
        if "generation" in meta and _without(new, "metadata", "status", "apiVersion") != _without(
            old.obj, "metadata", "status", "apiVersion"
        ):
            meta["generation"] = int(meta["generation"]) + 1
        if new == old.obj:
            return old  # a no-op update keeps its resourceVersion, like the real server
        if dry_run:
            return Entry(new, old.rv)
        namespace_pending = rt.key == "/namespaces" and (new.get("spec") or {}).get("finalizers")
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and not namespace_pending:
            return self._remove(rt, old.namespace, old.name, new)
        rv = self.store.next_rv()
        meta["resourceVersion"] = str(rv)
        return self.store.put(rt.key, new, rv)

    # ---- patch -------------------------------------------------------------------------------
    def patch(
        self,
        rt: ResourceType,
        version: str,
        ns: str,
        name: str,
        ptype: str,
        body: bytes,
        sub: str | None = None,
        dry_run: bool = False,
        force: bool = False,
        manager: str | None = None,
    ) -> Entry:
        if ptype == APPLY:
            from kubesim.apply import server_side_apply

            return server_side_apply(self, rt, version, ns, name, body, sub, dry_run, force, manager)
        if ptype == STRATEGIC and rt.custom:
            raise errors.unsupported_media(
                f"the body of the request was in an unknown format - accepted "
                f"media types include: {JSON_PATCH}, {MERGE}, {APPLY}"
            )
        try:
            patch = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise errors.bad_request(f"error decoding patch: {exc}") from exc
        old = self.get(rt, ns, name)
        current = convert(
            rt.key, clone(old.obj), rt.api_version(version)
        )  # patches apply to what the client sees
        if ptype == JSON_PATCH:
            new = json_patch(current, patch)
        elif ptype == MERGE:
            new = merge_patch(current, patch)
        elif ptype == STRATEGIC:
            new = strategic_merge(current, patch)
        else:
            raise errors.unsupported_media(
                f"the body of the request was in an unknown format - accepted "
                f"media types include: {JSON_PATCH}, {MERGE}, {STRATEGIC}, {APPLY}"
            )
        if not isinstance(new, dict):
            raise errors.bad_request("the patch produced something that is not an object")
        meta = new.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be a JSON object")
        if meta.get("resourceVersion") == old.obj["metadata"].get("resourceVersion"):
            meta.pop(
                "resourceVersion", None
            )  # only an explicit resourceVersion in the patch is a precondition
        return self.update(rt, version, ns, name, new, sub=sub, dry_run=dry_run)

    # ---- delete ------------------------------------------------------------------------------
    def delete(self, rt: ResourceType, ns: str, name: str, opts: DeleteOptions) -> tuple[Entry, bool]:
        """Delete or mark for deletion; returns the entry and whether it is gone already."""
        old = self.get(rt, ns, name)
        ometa = old.obj["metadata"]
        if opts.uid and opts.uid != ometa["uid"]:
            raise errors.conflict(
                rt.plural,
                rt.group,
                name,
                f"Precondition failed: UID in precondition: {opts.uid}, UID in object meta: {ometa['uid']}",
            )
        if opts.resource_version and opts.resource_version != ometa["resourceVersion"]:
            raise errors.conflict(
                rt.plural,
                rt.group,
                name,
                "Precondition failed: ResourceVersion in "
                f"precondition: {opts.resource_version}, ResourceVersion in object meta: "
                f"{ometa['resourceVersion']}",
            )
        if opts.dry_run:
            return old, False
        finalizers = list(ometa.get("finalizers") or [])
        if opts.propagation == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        elif opts.propagation == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        if rt.key == "/namespaces":
            if name in ("default", "kube-system", "kube-public"):
                raise errors.forbidden(
                    f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                    "namespaces",
                    "",
                    name,
                )
            return self._mark_namespace(rt, old), False
        if not finalizers:
            return self._remove(rt, ns, name, clone(old.obj)), True
        if ometa.get("deletionTimestamp") and finalizers == ometa.get("finalizers"):
            return old, False
        new = clone(old.obj)
        meta = new["metadata"]
        meta["finalizers"] = finalizers
        meta.setdefault("deletionTimestamp", rfc3339())
        meta.setdefault("deletionGracePeriodSeconds", 0)
        if "generation" in meta:
            meta["generation"] = int(meta["generation"]) + 1
        rv = self.store.next_rv()
        meta["resourceVersion"] = str(rv)
        return self.store.put(rt.key, new, rv), False

    def _mark_namespace(self, rt: ResourceType, old: Entry) -> Entry:
        if old.obj["metadata"].get("deletionTimestamp"):
            return old
        new = clone(old.obj)
        new["metadata"]["deletionTimestamp"] = rfc3339()
        new["metadata"]["deletionGracePeriodSeconds"] = 0
        new.setdefault("status", {})["phase"] = "Terminating"
        rv = self.store.next_rv()
        new["metadata"]["resourceVersion"] = str(rv)
        return self.store.put(rt.key, new, rv)

    def _remove(self, rt: ResourceType, ns: str, name: str, final: Obj) -> Entry:
        rv = self.store.next_rv()
        final["metadata"]["resourceVersion"] = str(rv)
        entry = self.store.remove(rt.key, ns, name, final)
        assert entry is not None
        return entry

    def finalize_namespace(self, old: Entry, new: Obj) -> Entry:
        """PUT namespaces/{name}/finalize: only spec.finalizers changes; an emptied terminating one goes."""
        rt = self.rt("/namespaces")
        meta = new["metadata"]
        if meta.get("deletionTimestamp") and not new["spec"].get("finalizers") and not meta.get("finalizers"):
            return self._remove(rt, "", old.name, new)
        return self._commit_update(rt, old, new, False)

    # ---- helpers for controllers --------------------------------------------------------------
    def put_status(self, key: str, obj: Obj, status: Obj) -> Entry | None:
        """Replace an object's status (no precondition); None when the object is gone."""
        rt = self.rt(key)
        ns = obj["metadata"].get("namespace", "")
        cur = self.store.get(key, ns, obj["metadata"]["name"])
        if cur is None or cur.obj["metadata"]["uid"] != obj["metadata"]["uid"]:
            return None
        if cur.obj.get("status") == status:
            return cur
        new = clone(cur.obj)
        new["status"] = status
        return self._commit_update(rt, cur, new, False)

    def replace(self, key: str, new: Obj) -> Entry | None:
        """Write a controller's edited copy of an object (unconditional, metadata rules kept)."""
        rt = self.rt(key)
        meta = new["metadata"]
        cur = self.store.get(key, meta.get("namespace", ""), meta["name"])
        if cur is None or cur.obj["metadata"]["uid"] != meta.get("uid"):
            return None
        return self._commit_update(rt, cur, new, False)

    def create_internal(self, key: str, obj: Obj) -> Entry | None:
        """Create on behalf of a controller; None when it exists already or its namespace is going away."""
        rt = self.rt(key)
        ns = obj["metadata"].get("namespace", "")
        try:
            return self.create(rt, rt.storage_version, ns, obj)
        except errors.ApiError as exc:
            if exc.code in (409, 403, 404):
                return None
            raise

    def delete_internal(self, key: str, ns: str, name: str, propagation: str | None = None) -> None:
        rt = self.registry.get(key)
        if rt is None or self.store.get(key, ns, name) is None:
            return
        self.delete(rt, ns, name, DeleteOptions(propagation=propagation))
