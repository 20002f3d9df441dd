"""Garbage collection by ownerReferences: background, foreground and orphan propagation.

The owner index (owner uid -> dependents) is also how the workload controllers find the pods and replica
sets they own without scanning.
"""

from __future__ import annotations

from typing import Any

from kubesim.controllers.base import Context, Controller, WorkKey
from kubesim.objects import clone
from kubesim.store import Entry, Event

GONE = "@gone"  # work key bucket marker: (GONE, "", uid) = an owner with this uid was deleted


def _refs(entry: Entry | None) -> list[dict[str, Any]]:
    if entry is None:
        return []
    refs = entry.obj["metadata"].get("ownerReferences")
    return [r for r in refs if isinstance(r, dict) and r.get("uid")] if isinstance(refs, list) else []


class OwnerIndex:
    def __init__(self) -> None:
        self.deps: dict[str, set[WorkKey]] = {}

    def observe(self, ev: Event) -> None:
        key = (ev.bucket, ev.entry.namespace, ev.entry.name)
        before = {r["uid"] for r in _refs(ev.prev)}
        after = set() if ev.type == "DELETED" else {r["uid"] for r in _refs(ev.entry)}
        for uid in before - after:
            s = self.deps.get(uid)
            if s is not None:
                s.discard(key)
                if not s:
                    del self.deps[uid]
        for uid in after - before:
            self.deps.setdefault(uid, set()).add(key)

    def load(self, bucket: str, entry: Entry) -> None:
        for r in _refs(entry):
            self.deps.setdefault(r["uid"], set()).add((bucket, entry.namespace, entry.name))

    def dependents(self, uid: str, bucket: str | None = None) -> list[WorkKey]:
        keys = self.deps.get(uid, ())
        return [k for k in keys if bucket is None or k[0] == bucket]


class GarbageCollector(Controller):
    name = "gc"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.index = OwnerIndex()

    def start(self) -> None:
        self.store.add_listener(None, self.on_event)
        for bucket, b in list(self.store.buckets.items()):
            for objs in b.by_ns.values():
                for e in objs.values():
                    self.index.load(bucket, e)
                    if _refs(e) or self._deleting_with(e):
                        self.enqueue((bucket, e.namespace, e.name))
        super().start()

    @staticmethod
    def _deleting_with(e: Entry) -> bool:
        meta = e.obj["metadata"]
        fins = meta.get("finalizers") or []
        return bool(meta.get("deletionTimestamp")) and ("foregroundDeletion" in fins or "orphan" in fins)

    def keys_for(self, ev: Event) -> list[WorkKey]:
        self.index.observe(ev)
        keys: list[WorkKey] = []
        if ev.type == "DELETED":
            uid = ev.entry.obj["metadata"].get("uid", "")
            if uid in self.index.deps:
                keys.append((GONE, "", uid))
            keys += self._owner_keys(ev.entry)  # an owner waiting in foreground deletion may be done
        elif self._deleting_with(ev.entry) or (ev.type == "ADDED" and _refs(ev.entry)):
            keys.append((ev.bucket, ev.entry.namespace, ev.entry.name))
        return keys

    def _owner_keys(self, entry: Entry) -> list[WorkKey]:
        out = []
        for r in _refs(entry):
            rt = self.api.registry.by_api_version_kind(str(r.get("apiVersion", "")), str(r.get("kind", "")))
            if rt is not None:
                out.append((rt.key, entry.namespace if rt.namespaced else "", str(r.get("name", ""))))
        return out

    def _owner_alive(self, entry: Entry, ref: dict[str, Any]) -> bool | None:
        """True/False when the owner exists/does not; None when its kind is unknown (left alone)."""
        rt = self.api.registry.by_api_version_kind(str(ref.get("apiVersion", "")), str(ref.get("kind", "")))
        if rt is None:
            return None
        owner = self.store.get(rt.key, entry.namespace if rt.namespaced else "", str(ref.get("name", "")))
        return owner is not None and owner.obj["metadata"].get("uid") == ref["uid"]

    def reconcile(self, key: WorkKey) -> None:
        if key[0] == GONE:
            for dep in self.index.dependents(key[2]):
                self.enqueue(dep)
            return
        entry = self.store.get(*key)
        if entry is None:
            return
        meta = entry.obj["metadata"]
        if meta.get("deletionTimestamp"):
            fins = meta.get("finalizers") or []
            if "orphan" in fins:
                self._orphan(entry)
            elif "foregroundDeletion" in fins:
                self._foreground(entry)
            return
        self._check_owners(key, entry)

    def _check_owners(self, key: WorkKey, entry: Entry) -> None:
        refs = _refs(entry)
        if not refs:
            return
        alive = [(r, self._owner_alive(entry, r)) for r in refs]
        dangling = [r for r, ok in alive if ok is False]
        if not dangling:
            return
        if len(dangling) == len(refs):
            foreground = any(self._owner_in_foreground(entry, r) for r in refs)
            self.api.delete_internal(
                key[0], entry.namespace, entry.name, "Foreground" if foreground else "Background"
            )
            return
        new = clone(entry.obj)
        gone = {r["uid"] for r in dangling}
        new["metadata"]["ownerReferences"] = [r for r in refs if r["uid"] not in gone]
        self.api.replace(key[0], new)

    def _owner_in_foreground(self, entry: Entry, ref: dict[str, Any]) -> bool:
        return bool(ref.get("blockOwnerDeletion"))

    def _foreground(self, owner: Entry) -> None:
        uid = owner.obj["metadata"]["uid"]
        deps = [k for k in self.index.dependents(uid) if self.store.get(*k) is not None]
        for k in deps:
            dep = self.store.get(*k)
            if dep is not None and not dep.obj["metadata"].get("deletionTimestamp"):
                block = any(r.get("uid") == uid and r.get("blockOwnerDeletion") for r in _refs(dep))
                self.api.delete_internal(k[0], k[1], k[2], "Foreground" if block else "Background")
        remaining = [k for k in self.index.dependents(uid) if self.store.get(*k) is not None]
        if remaining:
            self.enqueue((self._bucket_of(owner), owner.namespace, owner.name), delay=0.1)
            return
        self._drop_finalizer(owner, "foregroundDeletion")

    def _orphan(self, owner: Entry) -> None:
        uid = owner.obj["metadata"]["uid"]
        for k in list(self.index.dependents(uid)):
            dep = self.store.get(*k)
            if dep is None:
                continue
            new = clone(dep.obj)
            new["metadata"]["ownerReferences"] = [r for r in _refs(dep) if r["uid"] != uid]
            if not new["metadata"]["ownerReferences"]:
                del new["metadata"]["ownerReferences"]
            self.api.replace(k[0], new)
        self._drop_finalizer(owner, "orphan")

    def _bucket_of(self, entry: Entry) -> str:
        rt = self.api.registry.by_api_version_kind(entry.obj.get("apiVersion", ""), entry.obj.get("kind", ""))
        return rt.key if rt else ""

    def _drop_finalizer(self, entry: Entry, finalizer: str) -> None:
        bucket = self._bucket_of(entry)
        if not bucket:
            return
        new = clone(entry.obj)
        new["metadata"]["finalizers"] = [f for f in new["metadata"].get("finalizers") or [] if f != finalizer]
        self.api.replace(bucket, new)
