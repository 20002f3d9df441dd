"""The shared state of one running restore (read by every worker thread; mutable parts are locked)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from veloro_core.archive import BackupContents
from veloro_core.kube import KubeClient
from veloro_core.restore.actions import BoundAction, Operation
from veloro_core.restore.cluster import ClusterView
from veloro_core.restore.logcapture import RestoreLog
from veloro_core.restore.model import RestoreSettings
from veloro_core.restore.podvolumes import PodVolumeRestores
from veloro_core.restore.results import Progress, ResourceList, Results
from veloro_core.restore.validation import ValidatedRestore
from veloro_core.restore.volumes import VolumePlan

Obj = dict[str, Any]
ItemKey = tuple[str, str, str]  # (group-resource, namespace in the backup ("" = cluster), name)


@dataclass
class RestoreContext:
    restore: Obj  # the Restore CR, passed to the actions
    spec: ValidatedRestore
    kube: KubeClient
    cluster: ClusterView
    contents: BackupContents
    settings: RestoreSettings
    log: RestoreLog
    progress: Progress
    labels: dict[str, str]
    actions: list[BoundAction] = field(default_factory=list)
    plan: VolumePlan = field(default_factory=VolumePlan)
    warnings: Results = field(default_factory=Results)
    errors: Results = field(default_factory=Results)
    resources: ResourceList = field(default_factory=ResourceList)
    operations: list[Operation] = field(default_factory=list)
    established_crds: list[str] = field(default_factory=list)
    pod_volumes: PodVolumeRestores | None = None  # set when the backup has pod volume backups
    _claimed: set[ItemKey] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def claim(self, key: ItemKey) -> bool:
        """True the first time an item is claimed: each backed-up item is restored at most once, whether
        it comes in its own resource group or earlier as an action's additional item."""
        with self._lock:
            if key in self._claimed:
                return False
            self._claimed.add(key)
            return True

    def add_operation(self, op: Operation) -> None:
        with self._lock:
            self.operations.append(op)

    def add_crd(self, name: str) -> None:
        with self._lock:
            self.established_crds.append(name)
