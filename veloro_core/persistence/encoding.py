"""Gzip/JSON helpers for the store's side files (logs, results, resource lists, volume info...)."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from veloro_core.persistence.errors import CorruptStoreFileError

# Side files are read whole (they are small); the cap stops a hostile or broken store from exhausting memory.
MAX_JSON_FILE = 256 << 20
_CHUNK = 1 << 20


def gzip_json(obj: Any) -> bytes:
    """`obj` as gzip'd JSON, the encoding of every `.json.gz` / `-results.gz` file."""
    return gzip.compress(orjson.dumps(obj), compresslevel=6, mtime=0)


def gzip_stream(chunks: Iterable[bytes], level: int = 6) -> Iterator[bytes]:
    """Compress a stream of chunks (for logs) without holding it."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    for chunk in chunks:
        out = compressor.compress(chunk)
        if out:
            yield out
    yield compressor.flush()


def gunzip_stream(chunks: Iterable[bytes], what: str) -> Iterator[bytes]:
    """Decompress a stream of gzip chunks, at most 1 MiB of output at a time; multi-member files are fine."""
    decompressor = zlib.decompressobj(31)
    started = False
    for chunk in chunks:
        data = chunk
        more = bool(data)
        while more:
            started = True
            if decompressor.eof:  # the next gzip member starts
                decompressor = zlib.decompressobj(31)
            try:
                out = decompressor.decompress(data, _CHUNK)
            except zlib.error as exc:
                raise CorruptStoreFileError(f"{what} is not valid gzip ({exc})") from exc
            if out:
                yield out
            data = decompressor.unused_data if decompressor.eof else decompressor.unconsumed_tail
            # a full output buffer may leave output pending inside zlib even when all input was consumed
            more = bool(data) or (len(out) == _CHUNK and not decompressor.eof)
    if started and not decompressor.eof:
        raise CorruptStoreFileError(f"{what} is truncated (its gzip stream ends early)")


def read_json_gz(chunks: Iterable[bytes], what: str) -> Any:
    """Gunzip and parse a JSON side file, refusing one bigger than MAX_JSON_FILE once decompressed."""
    buf = bytearray()
    for part in gunzip_stream(chunks, what):
        buf += part
        if len(buf) > MAX_JSON_FILE:
            raise CorruptStoreFileError(f"{what} decompresses to more than {MAX_JSON_FILE} bytes")
    try:
        return orjson.loads(buf)
    except orjson.JSONDecodeError as exc:
        raise CorruptStoreFileError(f"{what} is not valid JSON ({exc})") from exc
