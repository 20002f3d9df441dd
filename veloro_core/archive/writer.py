"""Streaming writer of backup tarballs (format 1.1.0): gzip of a POSIX tar, each object written twice.

Memory is constant: headers are built directly (not through tarfile.TarFile, which keeps every member in a
list and would grow with the backup), data is batched into one buffer of `chunk_size` bytes, compressed and
handed to the output file object. Nothing is indexed; de-duplication belongs to the engine.
"""

from __future__ import annotations

import tarfile
import time
import zlib
from types import TracebackType
from typing import BinaryIO

from veloro_core.archive.errors import ArchiveError
from veloro_core.archive.paths import FORMAT_VERSION, VERSION_PATH, item_paths

BLOCK = 512
# Level 1 by default: on typical app objects it writes ~1.5x faster than 6 (bench/archive_bench.py) for a
# ~15 % bigger file, because the second copy of every object is an exact repeat inside the 32 KiB window,
# which every level finds. The backup is CPU bound on 2 cores and the tarball is small next to volume data.
# See docs/adr/0002-archive.md.
DEFAULT_COMPRESSLEVEL = 1
DEFAULT_CHUNK_SIZE = 256 * 1024
_USTAR_MAX_SIZE = 0o77777777777  # 11 octal digits: 8 GiB - 1; bigger entries get a PAX header
_ZERO_BLOCK = bytes(BLOCK)


def _octal(value: int, width: int) -> bytes:
    """A NUL-terminated octal field of `width` bytes, as POSIX tar writes numbers."""
    return b"%0*o\x00" % (width - 1, value)


class _HeaderBuilder:
    """Builds 512-byte ustar headers for regular files quickly (about 10x tarfile.TarInfo.tobuf)."""

    def __init__(self, mtime: int) -> None:
        template = bytearray(BLOCK)
        template[100:108] = _octal(0o755, 8)  # Velero writes its entries with mode 0755
        template[108:116] = _octal(0, 8)
        template[116:124] = _octal(0, 8)
        template[136:148] = _octal(mtime, 12)
        template[148:156] = b" " * 8  # checksum counted as spaces
        template[156:157] = b"0"  # REGTYPE
        template[257:265] = b"ustar\x0000"
        template[329:337] = _octal(0, 8)
        template[337:345] = _octal(0, 8)
        self._template = bytes(template)
        self._base_sum = sum(template)
        self._mtime = mtime

    def build(self, path: str, size: int) -> bytes:
        raw = path.encode("utf-8")
        if size <= _USTAR_MAX_SIZE and raw.isascii():
            split = self._split(raw)
            if split is not None:
                prefix, name = split
                size_field = _octal(size, 12)
                header = bytearray(self._template)
                header[0 : len(name)] = name
                header[124:136] = size_field
                header[345 : 345 + len(prefix)] = prefix
                checksum = self._base_sum + sum(name) + sum(prefix) + sum(size_field)
                header[148:156] = b"%06o\x00 " % checksum
                return bytes(header)
        return self._pax(path, size)

    @staticmethod
    def _split(raw: bytes) -> tuple[bytes, bytes] | None:
        """Fit a path in ustar's name (100) + prefix (155) fields, splitting at a '/'; None if impossible."""
        if len(raw) <= 100:
            return b"", raw
        cut = raw.find(b"/", len(raw) - 101)
        while cut != -1 and cut <= 155:
            if 0 < len(raw) - cut - 1 <= 100:
                return raw[:cut], raw[cut + 1 :]
            cut = raw.find(b"/", cut + 1)
        return None

    def _pax(self, path: str, size: int) -> bytes:
        """Rare case (non-ASCII or very long path, or > 8 GiB): let tarfile emit a PAX extended header."""
        info = tarfile.TarInfo(path)
        info.size = size
        info.mode = 0o755
        info.mtime = self._mtime
        info.type = tarfile.REGTYPE
        return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


class TarballWriter:
    """Writes a backup tarball to any binary file object (a temp file, a pipe...).

    Use as a context manager or call `close()`. If the `with` block raises, the archive is deliberately
    NOT terminated (no end-of-archive blocks, no gzip trailer): a reader then sees it as truncated rather
    than as a complete, smaller backup. `close()` never closes `out`; the caller owns it.
    """

    def __init__(
        self,
        out: BinaryIO,
        *,
        compresslevel: int = DEFAULT_COMPRESSLEVEL,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        mtime: int | None = None,
    ) -> None:
        if not 0 <= compresslevel <= 9:
            raise ValueError(f"gzip compresslevel must be 0..9, got {compresslevel}")
        self._out = out
        self._zlib = zlib.compressobj(compresslevel, zlib.DEFLATED, 31)  # 31: gzip wrapper
        self._headers = _HeaderBuilder(int(time.time()) if mtime is None else mtime)
        self._chunk_size = chunk_size
        self._pending: list[bytes] = []
        self._pending_len = 0
        self._closed = False
        self.items_written = 0
        self.bytes_uncompressed = 0
        self.bytes_written = 0
        self._add_file(VERSION_PATH, (FORMAT_VERSION + "\n").encode())

    def add_item(
        self, group_resource: str, namespace: str | None, name: str, preferred_version: str, data: bytes
    ) -> None:
        """Add one object's JSON at its unversioned and its `<version>-preferredversion` path.

        `namespace` is None for cluster-scoped objects. Raises InvalidItemNameError for unsafe names.
        """
        plain, preferred = item_paths(group_resource, namespace, name, preferred_version)
        self._add_file(plain, data)
        self._add_file(preferred, data)
        self.items_written += 1

    def _add_file(self, path: str, data: bytes) -> None:
        if self._closed:
            raise ArchiveError("tarball writer is closed; no more items can be added")
        size = len(data)
        pad = -size % BLOCK
        pending = self._pending
        pending.append(self._headers.build(path, size))
        pending.append(data)
        if pad:
            pending.append(_ZERO_BLOCK[:pad])
        self._pending_len += BLOCK + size + pad
        if self._pending_len >= self._chunk_size:
            self._flush_pending()

    def _flush_pending(self) -> None:
        if not self._pending:
            return
        block = b"".join(self._pending)
        self._pending.clear()
        self._pending_len = 0
        self.bytes_uncompressed += len(block)
        self._emit(self._zlib.compress(block))

    def _emit(self, compressed: bytes) -> None:
        if compressed:
            self._out.write(compressed)
            self.bytes_written += len(compressed)

    def close(self) -> None:
        """Terminate the tar (two zero blocks) and the gzip stream, and flush the output. Idempotent."""
        if self._closed:
            return
        self._pending.append(_ZERO_BLOCK * 2)
        self._pending_len += 2 * BLOCK
        self._flush_pending()
        self._emit(self._zlib.flush())
        self._closed = True
        self._out.flush()

    def abort(self) -> None:
        """Stop without terminating the archive, so that what was written reads as truncated."""
        self._closed = True
        self._pending.clear()

    def __enter__(self) -> TarballWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
