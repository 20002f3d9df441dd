"""The shared state of one backup run (filters, actions, writer, results, counters, the dedup set).

The dedup set is the only per-item memory: it holds a 16-byte digest of (group-resource, namespace,
name) per item, not the strings, so 100k items cost a few MB.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from veloro_core.backup.actions import ActionSet
from veloro_core.backup.logcapture import CapturedLog
from veloro_core.backup.operations import OperationTracker
from veloro_core.backup.results import Results
from veloro_core.backup.types import BackupSettings
from veloro_core.backup.volumes import VolumeRecorder
from veloro_core.backup.writer import TarballThread
from veloro_core.kube import APIResource, KubeClient
from veloro_core.selection import ResourceFilter, ResourceIndex, SpecSelection


class FatalBackupError(Exception):
    """Ends the backup as Failed (a store, writer or unrecoverable plugin failure); message = reason."""


def item_key(group_resource: str, namespace: str, name: str) -> bytes:
    return hashlib.blake2b(f"{group_resource}\x00{namespace}\x00{name}".encode(), digest_size=16).digest()


@dataclass
class Counters:
    listed: int = 0
    remaining_hint: dict[str, int] = field(default_factory=dict)
    additional: int = 0

    def total(self, backed_up: int) -> int:
        return max(self.listed + self.additional + sum(self.remaining_hint.values()), backed_up)


class BackupContext:
    def __init__(
        self,
        *,
        backup: dict[str, Any],
        kube: KubeClient,
        settings: BackupSettings,
        index: ResourceIndex,
        apis: Mapping[str, APIResource],
        selection: SpecSelection,
        resource_filter: ResourceFilter,
        actions: ActionSet,
        log: CapturedLog,
        warnings: Results,
        errors: Results,
    ) -> None:
        self.backup = backup
        meta = backup.get("metadata") or {}
        self.name = str(meta.get("name") or "")
        self.uid = str(meta.get("uid") or "")
        self.kube = kube
        self.settings = settings
        self.index = index
        self.apis = dict(apis)
        self.selection = selection
        self.filter = resource_filter
        self.actions = actions
        self.log = log
        self.warnings = warnings
        self.errors = errors
        self.operations = OperationTracker()
        self.counters = Counters()
        self.active_namespaces: set[str] = set()
        self.known_namespaces: set[str] = set()
        # resources whose list is still ahead of the coordinator (additional items there can wait)
        self.pending_lists: set[str] = set()
        self.backed_up_resources: set[str] = set()
        self.writer: TarballThread | None = None
        self.volumes: VolumeRecorder | None = None
        self.fatal: BaseException | None = None
        self._seen: set[bytes] = set()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ dedup
    def claim(self, group_resource: str, namespace: str, name: str) -> bool:
        """True the first time an item is claimed for backup; False afterwards (each item once)."""
        key = item_key(group_resource, namespace, name)
        with self._lock:
            if key in self._seen:
                return False
            self._seen.add(key)
            return True

    def seen(self, group_resource: str, namespace: str, name: str) -> bool:
        return item_key(group_resource, namespace, name) in self._seen

    # ------------------------------------------------------------------ filters
    def namespace_ok(self, namespace: str) -> bool:
        if namespace in self.active_namespaces:
            return True
        if namespace in self.known_namespaces:
            return False  # excluded by filter or by its exclude-from-backup label
        return self.selection.namespaces.should_include(namespace)  # created after the backup began

    def api_for(self, group: str, resource: str) -> APIResource | None:
        gr = f"{resource}.{group}" if group else resource
        api = self.apis.get(gr)
        if api is None:
            info = self.index.resolve(gr)
            api = self.apis.get(info.group_resource) if info is not None else None
        return api

    def set_fatal(self, exc: BaseException) -> None:
        with self._lock:
            if self.fatal is None:
                self.fatal = exc

    def note_resource(self, group_resource: str) -> None:
        if group_resource not in self.backed_up_resources:
            with self._lock:
                self.backed_up_resources.add(group_resource)
