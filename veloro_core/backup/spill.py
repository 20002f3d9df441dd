"""Per-item side data kept on disk, not in memory: the resource list and volume records.

The only per-item memory of a backup is its de-duplication set; everything that grows with the number of
items (the resource list, one volume record per PVC/PV) is appended to temp files here and streamed back
out (the resource list through an external merge sort) when the side files are uploaded.
"""

from __future__ import annotations

import heapq
import tempfile
import threading
import zlib
from collections.abc import Iterator
from typing import IO, Any

import orjson

_RUN = 50_000  # lines sorted in memory at a time


def _gzip(chunks: Iterator[bytes]) -> Iterator[bytes]:
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    for chunk in chunks:
        out = comp.compress(chunk)
        if out:
            yield out
    yield comp.flush()


class JsonLines:
    """Append JSON records; stream them back as one gzip'd JSON array."""

    def __init__(self, temp_dir: str | None = None) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile(  # noqa: SIM115 - owned, see close()
            prefix="veloro-spill-", dir=temp_dir)
        self._lock = threading.Lock()
        self.count = 0

    def append(self, record: Any) -> None:
        line = orjson.dumps(record) + b"\n"
        with self._lock:
            self._file.write(line)
            self.count += 1

    def records(self) -> Iterator[Any]:
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            yield orjson.loads(line)

    def _array(self) -> Iterator[bytes]:
        self._file.flush()
        self._file.seek(0)
        yield b"["
        first = True
        for line in self._file:
            yield line.rstrip(b"\n") if first else b"," + line.rstrip(b"\n")
            first = False
        yield b"]"

    def gzip_json(self) -> Iterator[bytes]:
        return _gzip(self._array())

    def close(self) -> None:
        self._file.close()


class ResourceList:
    """`{"<group/version>/<Kind>": ["ns/name", ...]}`, sorted, built from an unsorted stream of entries."""

    def __init__(self, temp_dir: str | None = None) -> None:
        self._temp_dir = temp_dir
        self._file: IO[bytes] = tempfile.TemporaryFile(  # noqa: SIM115 - owned, see close()
            prefix="veloro-resources-", dir=temp_dir)
        self._lock = threading.Lock()

    def add(self, gvk: str, namespace: str | None, name: str) -> None:
        entry = f"{namespace}/{name}" if namespace else name
        line = f"{gvk}\t{entry}\n".encode()
        with self._lock:
            self._file.write(line)

    def _runs(self) -> list[IO[bytes]]:
        self._file.flush()
        self._file.seek(0)
        runs: list[IO[bytes]] = []
        while True:
            lines = [line for _, line in zip(range(_RUN), self._file, strict=False)]
            if not lines:
                return runs
            lines.sort()
            run = tempfile.TemporaryFile(  # noqa: SIM115 - closed by _json() after the merge
                prefix="veloro-resources-run-", dir=self._temp_dir)
            run.writelines(lines)
            run.seek(0)
            runs.append(run)

    def _json(self) -> Iterator[bytes]:
        runs = self._runs()
        try:
            current: bytes | None = None
            yield b"{"
            for line in heapq.merge(*runs):
                gvk, _, entry = line.rstrip(b"\n").partition(b"\t")
                if gvk != current:
                    yield (b"" if current is None else b"],") + orjson.dumps(gvk.decode()) + b":["
                    yield orjson.dumps(entry.decode())
                    current = gvk
                else:
                    yield b"," + orjson.dumps(entry.decode())
            yield b"}" if current is None else b"]}"
        finally:
            for run in runs:
                run.close()

    def gzip_json(self) -> Iterator[bytes]:
        return _gzip(self._json())

    def close(self) -> None:
        self._file.close()
