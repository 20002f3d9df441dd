"""Builders of hand-made (often malicious) tarballs for the archive tests, using the stdlib tarfile."""

from __future__ import annotations

import gzip
import io
import tarfile


def entry(name: str, data: bytes = b"{}", *, type_: bytes = tarfile.REGTYPE, linkname: str = "",
          size: int | None = None) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = type_
    info.mode = 0o755
    info.linkname = linkname
    info.size = len(data) if size is None else size
    if type_ not in (tarfile.REGTYPE, tarfile.AREGTYPE):
        info.size = 0
    return info, data


def build_tarball(entries: list[tuple[tarfile.TarInfo, bytes]], *, version: str | None = "1.1.0",
                  fmt: int = tarfile.PAX_FORMAT) -> bytes:
    """A gzip'd tar of `entries`, with a metadata/version entry first unless `version` is None."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=fmt) as tar:
        if version is not None:
            info, data = entry("metadata/version", (version + "\n").encode())
            tar.addfile(info, io.BytesIO(data))
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return gzip.compress(raw.getvalue(), compresslevel=6)
