"""Low-level reading of a gzip'd tar stream with hard bounds on memory and decompressed size.

Not tarfile: in stream mode tarfile reads a PAX or GNU long-name header into memory whatever its declared
size (a few KB of gzip can claim gigabytes), and it cannot cap decompression. Here every read is bounded:
decompression proceeds `read_size` output bytes at a time, meta headers are capped, and the total of
decompressed bytes is counted against a limit before anything is kept.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import BinaryIO

from veloro_core.archive.errors import ArchiveLimitError, CorruptArchiveError, UnsafeEntryError

BLOCK = 512
_GZIP_MAGIC = b"\x1f\x8b"


class GzipSource:
    """Decompresses a gzip file object on demand; multi-member gzip is accepted (as Go's reader does)."""

    def __init__(self, fileobj: BinaryIO, *, max_total: int, read_size: int = 256 * 1024) -> None:
        self._file = fileobj
        self._max_total = max_total
        self._read_size = read_size
        self._d = zlib.decompressobj(31)
        self._buf = bytearray()
        self._eof = False
        self._started = False
        self.total = 0

    def _refill(self) -> bool:
        """Decompress at most `read_size` more bytes into the buffer; False at the clean end of the stream."""
        while not self._eof:
            if self._d.eof:
                rest = self._d.unused_data or self._file.read(self._read_size)
                if not rest or not rest.strip(b"\x00"):
                    self._eof = True  # trailing zero padding after the last member is tolerated
                    return False
                if not rest.startswith(_GZIP_MAGIC):
                    raise CorruptArchiveError("unexpected data after the end of the gzip stream")
                self._d = zlib.decompressobj(31)
                data = rest
            else:
                data = self._d.unconsumed_tail or self._file.read(self._read_size)
                if not data:
                    what = "the file is empty" if not self._started else "unexpected end of the gzip stream"
                    raise CorruptArchiveError(what)
            self._started = True
            try:
                out = self._d.decompress(data, self._read_size)
            except zlib.error as exc:
                raise CorruptArchiveError(f"not a valid gzip stream ({exc})") from exc
            if out:
                self.total += len(out)
                if self.total > self._max_total:
                    raise ArchiveLimitError(
                        f"backup tarball decompresses to more than {self._max_total} bytes "
                        "(max_total_size); refusing it as a possible gzip bomb - if this is a genuine, very "
                        "large backup, raise the restore's archive size limit"
                    )
                self._buf += out
                return True
        return False

    def read(self, n: int) -> bytes:
        """Up to `n` bytes; fewer only at the end of the stream."""
        while len(self._buf) < n and self._refill():
            pass
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def read_some(self, n: int) -> bytes:
        """Between 1 and `n` bytes (b"" only at the end): lets big entries stream without a big buffer."""
        if not self._buf:
            self._refill()
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def drain(self) -> None:
        """Read to the end so that the gzip trailer (CRC and length) is verified."""
        while self._refill():
            self._buf.clear()


@dataclass
class TarHeader:
    """One logical entry, with PAX / GNU long-name meta entries already folded in."""

    path: str
    typeflag: bytes
    size: int
    index: int
    sparse: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def _cstr(field_bytes: bytes) -> bytes:
    end = field_bytes.find(b"\x00")
    return field_bytes if end < 0 else field_bytes[:end]


def _number(field_bytes: bytes, what: str) -> int:
    if field_bytes and field_bytes[0] & 0x80:  # GNU base-256 for big values
        value = int.from_bytes(field_bytes[1:], "big")
        return value
    text = _cstr(field_bytes).strip(b" ")
    try:
        return int(text, 8) if text else 0
    except ValueError as exc:
        raise CorruptArchiveError(f"invalid {what} field {text!r} in a tar header") from exc


def _decode(raw: bytes, index: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnsafeEntryError(repr(raw)[2:-1], f"entry #{index} has a name that is not UTF-8") from exc


def _parse_pax(data: bytes) -> dict[str, str]:
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        try:
            length = int(data[pos:space])
        except ValueError as exc:
            raise CorruptArchiveError("malformed PAX extended header") from exc
        if space < 0 or length <= 0 or pos + length > len(data):
            raise CorruptArchiveError("malformed PAX extended header")
        key, sep, value = data[space + 1 : pos + length - 1].partition(b"=")
        if not sep:
            raise CorruptArchiveError("malformed PAX extended header record")
        records[key.decode("utf-8", "replace")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


class TarStream:
    """Iterates the headers of a tar stream; the caller must consume or skip each entry's data."""

    META_TYPES = (b"x", b"g", b"L", b"K")

    def __init__(self, source: GzipSource, *, max_meta_size: int) -> None:
        self._src = source
        self._max_meta = max_meta_size
        self._count = 0

    def next_header(self) -> TarHeader | None:
        """The next entry, or None at the end of the archive."""
        pax: dict[str, str] = {}
        long_name: bytes | None = None
        while True:
            block = self._src.read(BLOCK)
            if not block:
                return None  # clean end at a header boundary without zero blocks: tolerated, as Go does
            if len(block) < BLOCK:
                raise CorruptArchiveError("the tar stream ends in the middle of a header")
            if block == bytes(BLOCK):
                self._src.drain()
                return None
            self._check_sum(block)
            self._count += 1
            typeflag = block[156:157]
            size = _number(block[124:136], "size")
            if typeflag in self.META_TYPES:
                data = self._read_meta(size, typeflag)
                if typeflag == b"x":
                    pax.update(_parse_pax(data))
                elif typeflag == b"L":
                    long_name = _cstr(data)
                continue  # 'g' (global PAX) and 'K' (long link target) carry nothing a backup needs
            return self._header(block, typeflag, size, pax, long_name)

    def _header(
        self, block: bytes, typeflag: bytes, size: int, pax: dict[str, str], long_name: bytes | None
    ) -> TarHeader:
        name = _cstr(block[0:100])
        if block[257:263] == b"ustar\x00":
            prefix = _cstr(block[345:500])
            if prefix:
                name = prefix + b"/" + name
        if long_name is not None:
            name = long_name
        path = pax["path"] if "path" in pax else _decode(name, self._count)
        if "size" in pax:
            try:
                size = int(pax["size"])
            except ValueError as exc:
                raise CorruptArchiveError("invalid size in a PAX extended header") from exc
        sparse = typeflag == b"S" or any(k.startswith("GNU.sparse") for k in pax)
        return TarHeader(path=path, typeflag=typeflag, size=size, index=self._count, sparse=sparse, extra=pax)

    def _check_sum(self, block: bytes) -> None:
        stored = _number(block[148:156], "checksum")
        rest = block[:148] + block[156:]
        unsigned = sum(rest) + 8 * 0x20  # the checksum field itself counts as eight spaces
        if stored != unsigned:
            signed = unsigned - 256 * sum(1 for b in rest if b > 127)  # some old tars sum signed bytes
            if stored != signed:
                raise CorruptArchiveError(f"bad tar header checksum at entry #{self._count + 1}")

    def _read_meta(self, size: int, typeflag: bytes) -> bytes:
        if size > self._max_meta:
            raise ArchiveLimitError(
                f"a tar meta header (type {typeflag.decode(errors='replace')!r}) claims {size} bytes, more "
                f"than the limit of {self._max_meta}; refusing the tarball"
            )
        data = self.read_exact(size)
        self.skip_padding(size)
        return data

    def read_exact(self, n: int) -> bytes:
        data = self._src.read(n)
        if len(data) < n:
            raise CorruptArchiveError("the tar stream ends in the middle of an entry")
        return data

    def read_chunk(self, remaining: int, chunk: int) -> bytes:
        data = self._src.read_some(min(remaining, chunk))
        if not data:
            raise CorruptArchiveError("the tar stream ends in the middle of an entry")
        return data

    def skip(self, size: int) -> None:
        remaining = size
        while remaining:
            remaining -= len(self.read_chunk(remaining, 1 << 20))
        self.skip_padding(size)

    def skip_padding(self, size: int) -> None:
        pad = -size % BLOCK
        if pad:
            self.read_exact(pad)
