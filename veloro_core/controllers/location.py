"""The backup storage location controller: validates each location about every validationFrequency
(Init of its object store plugin with config + bucket/prefix (+ credentials), then BackupStore.validate)
and writes phase Available/Unavailable, message and lastValidationTime; keeps exactly one default. Each
tick also releases the plugin instances of deleted locations (backup and snapshot locations)."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from veloro_core.api import (
    DEFAULT_BACKUP_LOCATION,
    ApiValidationError,
    BackupStorageLocation,
    VolumeSnapshotLocation,
    format_time,
)
from veloro_core.controllers.base import Controller, Obj, one_line
from veloro_core.persistence import BackupStoreError
from veloro_core.server.stores import LocationError, StoreBusy


class LocationController(Controller):
    NAME = "backup-storage-location"
    RESOURCE = BackupStorageLocation

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._validated: dict[str, tuple[float, int]] = {}  # name -> (monotonic time, generation)

    def tick_interval(self) -> float | None:
        return self.ctx.settings.tick_period

    def tick(self) -> None:
        items = self.ctx.list(BackupStorageLocation)
        self._ensure_default(items)
        for item in items:
            self.queue.add(str(item["metadata"]["name"]))
        locations = self.ctx.locations
        locations.forget_missing("bsl", (str(i["metadata"]["name"]) for i in items))
        if locations.has_instances("vsl"):  # listed only when some snapshot location is in use
            vsls = self.ctx.list(VolumeSnapshotLocation)
            locations.forget_missing("vsl", (str(i["metadata"]["name"]) for i in vsls))

    def _ensure_default(self, items: list[Obj]) -> None:
        marked = sorted(str(i["metadata"]["name"]) for i in items if (i.get("spec") or {}).get("default"))
        names = {str(i["metadata"]["name"]) for i in items}
        if not marked and DEFAULT_BACKUP_LOCATION in names:
            self.ctx.patch(BackupStorageLocation, DEFAULT_BACKUP_LOCATION, {"spec": {"default": True}})
            self.log.info("no default backup storage location: using the one named default")

    def _due(self, bsl: BackupStorageLocation, generation: int) -> bool:
        last = self._validated.get(bsl.name)
        if last is None or last[1] != generation or bsl.status.phase is None:
            return True
        frequency = (
            bsl.spec.validation_frequency.seconds
            if bsl.spec.validation_frequency is not None
            else self.ctx.settings.store_validation_frequency.total_seconds()
        )
        return frequency > 0 and time.monotonic() - last[0] >= frequency

    def reconcile(self, name: str) -> None:
        obj = self.ctx.get(BackupStorageLocation, name)
        if obj is None:
            self._validated.pop(name, None)
            with contextlib.suppress(KeyError):  # never gauged
                self.ctx.metrics.location_status.remove(name)
            return
        generation = int(obj["metadata"].get("generation") or 0)
        try:
            bsl = BackupStorageLocation.from_dict(obj)
        except ApiValidationError as exc:
            self._write(name, obj, False, f"invalid spec: {exc}")
            return
        if not self._due(bsl, generation):
            return
        self._validated[name] = (time.monotonic(), generation)
        try:
            with self.ctx.locations.backup_store(bsl, timeout=5.0, reinit=True) as store:
                store.validate()
        except StoreBusy:
            self._validated.pop(name, None)  # try again at the next tick
            return
        except (LocationError, BackupStoreError) as exc:
            self._write(name, obj, False, one_line(str(exc)))
            return
        self._write(name, obj, True, "")

    def _write(self, name: str, obj: Obj, available: bool, message: str) -> None:
        others = [
            str(i["metadata"]["name"])
            for i in self.ctx.list(BackupStorageLocation)
            if (i.get("spec") or {}).get("default")
        ]
        if (obj.get("spec") or {}).get("default") and len(others) > 1:
            warning = (
                f"more than one backup storage location is marked default ({', '.join(sorted(others))});"
                " set spec.default=false on all but one"
            )
            message = f"{message}; {warning}" if message else warning
        phase = "Available" if available else "Unavailable"
        old = obj.get("status") or {}
        self.ctx.patch_status(
            BackupStorageLocation,
            name,
            {"phase": phase, "message": message or None, "lastValidationTime": format_time(self.ctx.clock())},
        )
        self.ctx.metrics.location_status.labels(name).set(1 if available else 0)
        if old.get("phase") != phase:
            self.log.info("backup storage location validated", location=name, phase=phase, message=message)
            self.ctx.events.record(
                obj, f"Location{phase}", message or f"location {name} is {phase}", warning=not available
            )
