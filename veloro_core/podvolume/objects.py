"""Shared pieces of the engine-facing API: resource ids, labels, results, and the bounded wait."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from veloro_core.api import GROUP, VERSION, PodVolumeBackup, PodVolumeRestore
from veloro_core.kube import GroupVersionResource, KubeClient

Obj = dict[str, Any]
PVBS = GroupVersionResource(GROUP, VERSION, PodVolumeBackup.PLURAL)
PVRS = GroupVersionResource(GROUP, VERSION, PodVolumeRestore.PLURAL)
PODS = GroupVersionResource("", "v1", "pods")
PVCS = GroupVersionResource("", "v1", "persistentvolumeclaims")
PVS = GroupVersionResource("", "v1", "persistentvolumes")
UPLOADER_TYPE = "restic"
DONE_PHASES = frozenset({"Completed", "Failed"})

BACKUP_NAME = ("veloro.io/backup-name", "velero.io/backup-name")
BACKUP_UID = ("veloro.io/backup-uid", "velero.io/backup-uid")
RESTORE_NAME = ("veloro.io/restore-name", "velero.io/restore-name")
RESTORE_UID = ("veloro.io/restore-uid", "velero.io/restore-uid")
PVC_UID = ("veloro.io/pvc-uid", "velero.io/pvc-uid")
POD_UID = ("veloro.io/pod-uid", "velero.io/pod-uid")


def label_value(value: str) -> str:
    """Velero's rule: values over 63 characters become 57 characters plus 6 hex of their sha256."""
    return value if len(value) <= 63 else value[:57] + hashlib.sha256(value.encode()).hexdigest()[:6]


def labels(*pairs: tuple[tuple[str, str], str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for names, value in pairs:
        if value:
            out.update({name: label_value(value) for name in names})
    return out


def owner_reference(kind: str, obj: Mapping[str, Any]) -> list[Obj]:
    meta = obj.get("metadata") or {}
    if not meta.get("uid") or not meta.get("name"):
        return []
    return [
        {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": kind,
            "name": meta["name"],
            "uid": meta["uid"],
            "controller": True,
        }
    ]


@dataclass
class VolumeResult:
    """The outcome of one pod volume backup or restore, with the final custom resource."""

    namespace: str
    pod: str
    volume: str
    name: str = ""  # the PodVolumeBackup/PodVolumeRestore's name ("" when none was created)
    phase: str = ""  # Completed, Failed, or "" for a volume that was not attempted
    snapshot_id: str = ""
    message: str = ""
    pvc: str = ""
    pv: str = ""
    obj: Obj = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.phase == "Completed"


def wait_for(
    kube: KubeClient,
    ref: GroupVersionResource,
    namespace: str,
    names: Iterable[str],
    selector: str,
    timeout: float,
    poll: float = 0.5,
    on_update: Callable[[Obj], None] | None = None,
) -> dict[str, Obj]:
    """Poll until every named object is Completed or Failed, at most `timeout` seconds; the finished ones
    by name (callers report the missing ones as timed out). One list request (by label selector) per poll."""
    pending = set(names)
    done: dict[str, Obj] = {}
    deadline = time.monotonic() + timeout
    while pending:
        for item in kube.list_items(ref, namespace, label_selector=selector):
            name = str(item["metadata"]["name"])
            if name in pending and (item.get("status") or {}).get("phase") in DONE_PHASES:
                done[name] = item
                pending.discard(name)
                if on_update is not None:
                    on_update(item)
        if not pending:
            break
        if time.monotonic() >= deadline:
            break
        time.sleep(poll)
    return done


def timeout_message(kind: str, timeout: float) -> str:
    return (
        f"the {kind} did not finish within {timeout:.0f}s; check that the node agent (veloro node-agent) "
        "runs on the pod's node and read its log"
    )


def owner_selector(uid: tuple[tuple[str, str], str], name: tuple[tuple[str, str], str]) -> str:
    """The label selector of a backup's or restore's objects: by its uid when known (names are reused),
    else by name. Each argument is (label names, value)."""
    (uid_labels, uid_value), (name_labels, name_value) = uid, name
    return f"{uid_labels[0]}={uid_value}" if uid_value else f"{name_labels[0]}={name_value}"


def wait_results(
    kube: KubeClient,
    ref: GroupVersionResource,
    kind: str,
    namespace: str,
    results: Sequence[VolumeResult],
    selector: str,
    timeout: float,
    poll: float,
    *,
    snapshot_ids: bool = False,
) -> list[VolumeResult]:
    """Wait (see wait_for) for the results' custom resources still running; fills phase, message, obj
    (and snapshot_id from the status when `snapshot_ids`: a backup's, not a restore's, which knows it
    already), and fails the ones that did not finish in time."""
    names = [r.name for r in results if r.name and r.phase not in DONE_PHASES]
    done: dict[str, Obj] = {}
    if names:
        done = wait_for(kube, ref, namespace, names, selector, timeout, poll)
    for result in results:
        if result.name in done:
            obj = done[result.name]
            status = obj.get("status") or {}
            result.obj, result.phase = obj, str(status.get("phase"))
            result.message = str(status.get("message") or "")
            if snapshot_ids:
                result.snapshot_id = str(status.get("snapshotID") or "")
        elif result.name and result.phase not in DONE_PHASES:
            result.phase, result.message = "Failed", timeout_message(kind, timeout)
    return list(results)
