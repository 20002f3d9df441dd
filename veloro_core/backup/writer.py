"""The one thread that writes the tarball: items are queued (bounded) by the listing and action threads,
so serialization of the archive never blocks on plugin calls and memory stays at the queue's bound."""

from __future__ import annotations

import queue
import threading
from typing import BinaryIO, NamedTuple

from veloro_core.archive import TarballWriter
from veloro_core.backup.spill import ResourceList


class ItemRecord(NamedTuple):
    group_resource: str
    namespace: str | None  # None = cluster-scoped
    name: str
    version: str
    gvk: str  # "<group/version>/<Kind>" for the resource list
    data: bytes


class WriterFailed(Exception):
    """The tarball could not be written (disk full, a name the archive refuses...)."""


_STOP = object()
_BATCH = 256


class TarballThread:
    def __init__(self, out: BinaryIO, resources: ResourceList, *, maxsize: int, compresslevel: int) -> None:
        self._writer = TarballWriter(out, compresslevel=compresslevel)
        self._resources = resources
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(2, maxsize // _BATCH))
        self._local = threading.local()
        self._thread = threading.Thread(target=self._run, name="veloro-backup-writer", daemon=True)
        self.error: BaseException | None = None
        self.items_written = 0
        self._thread.start()

    def put(self, record: ItemRecord) -> None:
        """Queue one item. Records are handed over in batches per thread (one queue operation and one
        thread switch per batch, not per item); call flush() when a thread's unit of work ends."""
        if self.error is not None:
            raise WriterFailed(f"writing the backup tarball failed: {self.error}") from self.error
        batch: list[ItemRecord] | None = getattr(self._local, "batch", None)
        if batch is None:
            batch = self._local.batch = []
        batch.append(record)
        if len(batch) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        batch: list[ItemRecord] | None = getattr(self._local, "batch", None)
        if batch:
            self._local.batch = []
            self._queue.put(batch)

    def _run(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is _STOP:
                return
            if self.error is not None:
                continue  # keep draining so producers never block on a dead writer
            assert isinstance(batch, list)
            try:
                self._write(batch)
            except BaseException as exc:  # reported to the engine through put()/finish()
                self.error = exc

    def _write(self, batch: list[ItemRecord]) -> None:
        add_item, add_resource = self._writer.add_item, self._resources.add
        for record in batch:
            add_item(record.group_resource, record.namespace, record.name, record.version, record.data)
            add_resource(record.gvk, record.namespace, record.name)
            self.items_written += 1

    def finish(self, *, ok: bool) -> int:
        """Stop the thread; close the archive when ok (else leave it truncated). Returns bytes written.
        Every producing thread must have flushed; the calling thread's batch is flushed here."""
        self.flush()
        self._queue.put(_STOP)
        self._thread.join()
        if self.error is not None:
            self._writer.abort()
            raise WriterFailed(f"writing the backup tarball failed: {self.error}") from self.error
        if ok:
            self._writer.close()
        else:
            self._writer.abort()
        return self._writer.bytes_written
