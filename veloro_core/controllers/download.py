"""Download requests: the URL of one file of a backup or restore, valid 10 minutes.

Object stores sign URLs (S3 presigned GETs). A store that answers with a file:// URL (the filesystem
store) would hand a remote CLI a path on the server's disk, so the server serves that file itself over
HTTP on --download-address behind a random token that expires with the request. Processed requests are
deleted once expired. A target that does not exist is answered with an empty downloadURL (the CLI reports
"not found").
"""

from __future__ import annotations

from datetime import datetime

from veloro_core.api import Backup, DownloadRequest, DownloadTargetKind, Restore, format_time, parse_time
from veloro_core.controllers.base import Controller, Obj
from veloro_core.controllers.lookup import MissingReference, backup_location_name, get_bsl
from veloro_core.persistence import BackupStoreError
from veloro_core.server.stores import LocationError

RESTORE_KINDS = frozenset(k.value for k in DownloadTargetKind if k.value.startswith("Restore"))


class DownloadController(Controller):
    NAME = "download-request"
    RESOURCE = DownloadRequest

    def tick_interval(self) -> float | None:
        return 60.0

    def tick(self) -> None:  # expired requests go away even without a watch event
        for item in self.ctx.list(DownloadRequest):
            self.queue.add(str(item["metadata"]["name"]))

    def reconcile(self, name: str) -> None:
        obj = self.ctx.get(DownloadRequest, name)
        if obj is None:
            return
        status = obj.get("status") or {}
        now = self.ctx.clock()
        if status.get("phase") == "Processed":
            expiration = status.get("expiration")
            if not expiration or parse_time(str(expiration)) <= now:
                self.ctx.delete(DownloadRequest, name)
            else:
                self.queue.add_after(name, (parse_time(str(expiration)) - now).total_seconds() + 1)
            return
        target = (obj.get("spec") or {}).get("target") or {}
        expires = now + self.ctx.settings.download_url_ttl
        url = self._url(str(target.get("kind") or ""), str(target.get("name") or ""), expires, now)
        self.ctx.patch_status(
            DownloadRequest,
            name,
            {"phase": "Processed", "downloadURL": url, "expiration": format_time(expires)},
        )
        self.queue.add_after(name, self.ctx.settings.download_url_ttl.total_seconds() + 1)

    def _backup_of(self, kind: str, name: str) -> Obj | None:
        if kind in RESTORE_KINDS:
            restore = self.ctx.get(Restore, name)
            if restore is None:
                return None
            name = str((restore.get("spec") or {}).get("backupName") or "")
            if not name:
                return None
        return self.ctx.get(Backup, name)

    def _url(self, kind: str, name: str, expires: datetime, now: datetime) -> str:
        log = self.log.bind(kind=kind, target=name)
        backup = self._backup_of(kind, name)
        if backup is None:
            log.info("download request for something that does not exist")
            return ""
        try:
            bsl = get_bsl(self.ctx, backup_location_name(backup))
            with self.ctx.locations.backup_store(bsl) as store:
                ttl = expires - now
                url = store.signed_url(kind, name, ttl)
                if not url.startswith("file:"):
                    return url
                key = store.download_key(kind, name)
                if not store.store.object_exists(store.bucket, key):
                    return ""
            token = self.ctx.tokens.grant(bsl.name, key, ttl.total_seconds())
            return f"{self.ctx.download_base}/download/{token}"
        except (MissingReference, LocationError, BackupStoreError, ValueError) as exc:
            log.warning("download request failed", error=str(exc))
            return ""
