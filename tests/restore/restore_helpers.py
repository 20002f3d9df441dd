"""Helpers of the restore tests: a minimal backup of live objects (TarballWriter + put_backup), running
a restore, comparing objects apart from server-set fields."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime
from typing import Any

import orjson

from veloro_core.archive import TarballWriter
from veloro_core.kube import GroupVersionResource, KubeClient, NotFound
from veloro_core.persistence import BackupStore
from veloro_core.plugins import PluginManager
from veloro_core.restore import RestoreResult, RestoreRunInput, RestoreSettings, run_restore

Obj = dict[str, Any]
NAMESPACES = GroupVersionResource("", "v1", "namespaces")
CONFIGMAPS = GroupVersionResource("", "v1", "configmaps")
SECRETS = GroupVersionResource("", "v1", "secrets")
SERVICES = GroupVersionResource("", "v1", "services")
PODS = GroupVersionResource("", "v1", "pods")
DEPLOYMENTS = GroupVersionResource("apps", "v1", "deployments")
JOBS = GroupVersionResource("batch", "v1", "jobs")
CRDS = GroupVersionResource("apiextensions.k8s.io", "v1", "customresourcedefinitions")
NAMESPACED = (CONFIGMAPS, SECRETS, SERVICES, DEPLOYMENTS, PODS, JOBS)
SERVER_META = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink")
RESTORE_LABELS = ("veloro.io/backup-name", "veloro.io/restore-name")


def backup_cr(name: str, phase: str = "Completed") -> Obj:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": "veloro.io/v1",
        "kind": "Backup",
        "metadata": {"name": name, "namespace": "veloro"},
        "spec": {"includedNamespaces": ["*"], "ttl": "720h0m0s", "storageLocation": "default"},
        "status": {
            "phase": phase,
            "formatVersion": "1.1.0",
            "startTimestamp": now,
            "completionTimestamp": now,
        },
    }


def restore_cr(name: str, backup: str, **spec: Any) -> Obj:
    return {
        "apiVersion": "veloro.io/v1",
        "kind": "Restore",
        "metadata": {"name": name, "namespace": "veloro", "uid": f"uid-{name}"},
        "spec": {"backupName": backup, **spec},
    }


def write_backup(
    store: BackupStore, name: str, items: list[tuple[str, str, Obj]], files: dict[Any, bytes] | None = None
) -> Obj:
    """Store a backup of `items` = [(group_resource, version, object)] written with TarballWriter."""
    buf = io.BytesIO()
    with TarballWriter(buf) as writer:
        for gr, version, obj in items:
            meta = obj["metadata"]
            writer.add_item(gr, meta.get("namespace"), meta["name"], version, orjson.dumps(obj))
    metadata = backup_cr(name)
    store.put_backup(name, metadata, buf.getvalue(), files=files)
    return metadata


def gr_of(ref: GroupVersionResource) -> str:
    return ref.group_resource


def snapshot(
    kube: KubeClient,
    namespaces: list[str],
    refs: tuple[GroupVersionResource, ...] = NAMESPACED,
    cluster: tuple[tuple[GroupVersionResource, str], ...] = (),
) -> list[tuple[str, str, Obj]]:
    """The live objects of `namespaces` (plus the namespaces and the given cluster objects), as a backup
    engine would write them (JSON as read from the API, with status and server-set metadata)."""
    items: list[tuple[str, str, Obj]] = []
    for ns in namespaces:
        items.append(("namespaces", "v1", kube.get(NAMESPACES, ns)))
        for ref in refs:
            for obj in kube.list_items(ref, ns):
                obj.setdefault("apiVersion", ref.api_version)
                items.append((ref.group_resource, ref.version, obj))
    for ref, name in cluster:
        items.append((ref.group_resource, ref.version, kube.get(ref, name)))
    return items


def run(
    kube: KubeClient,
    plugins: PluginManager | None,
    store: BackupStore,
    restore: Obj,
    backup: Obj,
    settings: RestoreSettings | None = None,
    progress: list[tuple[int, int]] | None = None,
) -> RestoreResult:
    on_progress = (lambda total, done: progress.append((total, done))) if progress is not None else None
    return run_restore(
        RestoreRunInput(
            restore=restore,
            backup=backup,
            kube=kube,
            plugins=plugins,
            store=store,
            settings=settings or RestoreSettings(poll_interval=0.05),
            on_progress=on_progress,
        )
    )


def delete_namespace(kube: KubeClient, ns: str, timeout: float = 30.0) -> None:
    kube.delete(NAMESPACES, ns)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            kube.get(NAMESPACES, ns)
        except NotFound:
            return
        time.sleep(0.05)
    raise AssertionError(f"namespace {ns} was not deleted within {timeout}s")


def comparable(obj: Obj) -> Obj:
    """The object without server-set metadata, status and the restore labels."""
    out = {k: v for k, v in obj.items() if k != "status"}
    meta = {k: v for k, v in obj["metadata"].items() if k not in SERVER_META}
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k not in RESTORE_LABELS}
    meta.pop("labels", None)
    if labels:
        meta["labels"] = labels
    out["metadata"] = meta
    return out
