"""extract_tarball / BackupContents: safe extraction and clear errors for every kind of bad tarball."""

from __future__ import annotations

import gzip
import io
import os
import random
import stat
import tarfile
import tracemalloc
from pathlib import Path

import pytest
from archive_helpers import build_tarball, entry

from veloro_core.archive import (
    ArchiveError,
    ArchiveLimitError,
    CorruptArchiveError,
    ExtractLimits,
    ItemDecodeError,
    TarballWriter,
    UnsafeEntryError,
    UnsupportedFormatError,
    extract_tarball,
)

GOOD = ("resources/pods/namespaces/ns/ok.json", b'{"kind":"Pod"}')


def _extract_refused(data: bytes, tmp_path: Path, exc: type[Exception], match: str,
                     limits: ExtractLimits | None = None) -> None:
    """Extraction must raise `exc` AND leave nothing behind in the parent directory."""
    with pytest.raises(exc, match=match):
        extract_tarball(io.BytesIO(data), limits=limits, parent_dir=tmp_path)
    assert list(tmp_path.iterdir()) == [], "the private directory must be removed on error"


def _valid_tarball(n: int = 20) -> bytes:
    out = io.BytesIO()
    with TarballWriter(out) as writer:
        for i in range(n):
            writer.add_item("configmaps", "ns", f"cm-{i}", "v1", b'{"data":"%d"}' % i + b" " * 3000)
    return out.getvalue()


def test_private_directory_and_files(tmp_path: Path) -> None:
    with extract_tarball(io.BytesIO(_valid_tarball()), parent_dir=tmp_path) as contents:
        assert stat.S_IMODE(contents.root.stat().st_mode) == 0o700
        ref = contents.items("configmaps")[0]
        mode = stat.S_IMODE(contents.item_path(ref).stat().st_mode)
        assert mode & 0o077 == 0, "extracted files must not be readable by others"
        assert len(contents.items("configmaps")) == 20
        root = contents.root
    assert not root.exists(), "cleanup removes the directory"


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (entry("/etc/evil.json"), "absolute"),
        (entry("../x"), r"'\.\.'"),
        (entry("resources/pods/../../../x.json"), r"'\.\.'"),
        (entry("resources/link.json", type_=tarfile.SYMTYPE, linkname="/etc/passwd"), "symbolic link"),
        (entry("resources/hard.json", type_=tarfile.LNKTYPE, linkname="metadata/version"), "hard link"),
        (entry("resources/dev", type_=tarfile.CHRTYPE), "character device"),
        (entry("resources/blk", type_=tarfile.BLKTYPE), "block device"),
        (entry("resources/fifo", type_=tarfile.FIFOTYPE), "fifo"),
    ],
    ids=["absolute", "dotdot", "dotdot-inside", "symlink", "hardlink", "chardev", "blockdev", "fifo"],
)
def test_unsafe_entries_refused(bad: tuple[tarfile.TarInfo, bytes], reason: str, tmp_path: Path) -> None:
    data = build_tarball([entry(*GOOD), bad])
    _extract_refused(data, tmp_path, UnsafeEntryError, reason)
    assert not Path("/etc/evil.json").exists()


def test_gnu_format_dotdot_and_long_names(tmp_path: Path) -> None:
    long_ok = "resources/pods/namespaces/ns/" + "p" * 200 + ".json"
    data = build_tarball([entry(long_ok)], fmt=tarfile.GNU_FORMAT)
    with extract_tarball(io.BytesIO(data), parent_dir=tmp_path) as contents:
        assert [r.name for r in contents.items("pods")] == ["p" * 200]
    for fmt in (tarfile.GNU_FORMAT, tarfile.PAX_FORMAT):  # long-name header / PAX path record
        bad = build_tarball([entry("resources/" + "../" * 40 + "x" * 80)], fmt=fmt)
        _extract_refused(bad, tmp_path, UnsafeEntryError, r"'\.\.'")


def test_directory_entries_tolerated_not_created_as_given(tmp_path: Path) -> None:
    folder = entry("resources/pods/namespaces/ns", type_=tarfile.DIRTYPE)
    folder[0].mode = 0o777
    data = build_tarball([folder, entry(*GOOD)])
    with extract_tarball(io.BytesIO(data), parent_dir=tmp_path) as contents:
        ns_dir = contents.root / "resources/pods/namespaces/ns"
        assert stat.S_IMODE(ns_dir.stat().st_mode) == 0o700
        assert contents.read_item(contents.items("pods")[0]) == {"kind": "Pod"}


def test_huge_entry_refused_by_header(tmp_path: Path) -> None:
    data = build_tarball([entry("resources/pods/namespaces/ns/big.json", b"0" * (2 << 20))])
    _extract_refused(data, tmp_path, ArchiveLimitError, "max_entry_size",
                     ExtractLimits(max_entry_size=1 << 20))


def test_gzip_bomb_refused(tmp_path: Path) -> None:
    bomb = gzip.compress(bytes(64 << 20), compresslevel=9)  # plain zeros, no tar at all
    assert len(bomb) < 100_000
    _extract_refused(bomb, tmp_path, ArchiveLimitError, "gzip bomb", ExtractLimits(max_total_size=8 << 20))
    # a "legitimate" entry far bigger than the total cap, compressing to a few KB
    data = build_tarball([entry("resources/pods/namespaces/ns/z.json", bytes(32 << 20))])
    assert len(data) < 100_000
    _extract_refused(data, tmp_path, ArchiveLimitError, "gzip bomb", ExtractLimits(max_total_size=8 << 20))


def test_pax_header_bomb_refused(tmp_path: Path) -> None:
    info, body = entry("resources/pods/namespaces/ns/x.json")
    info.pax_headers = {"comment": "A" * (3 << 20)}
    data = build_tarball([(info, body)])
    _extract_refused(data, tmp_path, ArchiveLimitError, "meta header")


def test_entry_count_limit(tmp_path: Path) -> None:
    entries = [entry(f"resources/pods/namespaces/ns/p{i}.json") for i in range(20)]
    _extract_refused(build_tarball(entries), tmp_path, ArchiveLimitError, "max_entries",
                     ExtractLimits(max_entries=10))


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.999])
def test_truncated_tarball(fraction: float, tmp_path: Path) -> None:
    data = _valid_tarball(200)
    cut = data[: int(len(data) * fraction)]
    _extract_refused(cut, tmp_path, CorruptArchiveError, "backup tarball is corrupt or truncated")


def test_trailer_damage_detected(tmp_path: Path) -> None:
    data = bytearray(_valid_tarball())
    data[-6] ^= 0xFF  # inside the CRC32 of the gzip trailer
    _extract_refused(bytes(data), tmp_path, CorruptArchiveError, "corrupt or truncated")


@pytest.mark.parametrize("payload", [b"", random.Random(7).randbytes(100_000), b"not a tarball"],
                         ids=["empty", "random", "text"])
def test_garbage_refused(payload: bytes, tmp_path: Path) -> None:
    _extract_refused(payload, tmp_path, CorruptArchiveError, "corrupt or truncated")


def test_gzip_of_random_bytes_refused(tmp_path: Path) -> None:
    data = gzip.compress(random.Random(3).randbytes(50_000))
    _extract_refused(data, tmp_path, CorruptArchiveError, "checksum")


@pytest.mark.parametrize("version", ["2.0.0", "10.1.0", "banana"])
def test_unknown_major_version_refused(version: str, tmp_path: Path) -> None:
    data = build_tarball([entry(*GOOD)], version=version)
    _extract_refused(data, tmp_path, UnsupportedFormatError, "format version")


def test_minor_versions_accepted_and_missing_version_warned(tmp_path: Path) -> None:
    for version in ("1.0.0", "1.2.3"):
        with extract_tarball(io.BytesIO(build_tarball([entry(*GOOD)], version=version))) as contents:
            assert contents.format_version == version
    with extract_tarball(io.BytesIO(build_tarball([entry(*GOOD)], version=None))) as contents:
        assert contents.format_version is None
        assert "no metadata/version" in contents.warnings[0]
        assert len(contents.items("pods")) == 1


def test_non_json_items_give_per_item_errors(tmp_path: Path) -> None:
    data = build_tarball([
        entry(*GOOD),
        entry("resources/pods/namespaces/ns/broken.json", b"{not json"),
        entry("resources/pods/namespaces/ns/list.json", b"[1, 2]"),
        entry("resources/pods/namespaces/ns/README.txt", b"ignored"),
        entry("unknown-folder/whatever.json", b"ignored too"),
    ])
    with extract_tarball(io.BytesIO(data), parent_dir=tmp_path) as contents:
        refs = {r.name: r for r in contents.items("pods")}
        assert sorted(refs) == ["broken", "list", "ok"]
        assert contents.read_item(refs["ok"]) == {"kind": "Pod"}
        with pytest.raises(ItemDecodeError, match=r"broken\.json.*not valid JSON"):
            contents.read_item(refs["broken"])
        with pytest.raises(ItemDecodeError, match="not an object"):
            contents.read_item(refs["list"])


def test_file_and_folder_conflict_is_a_clear_error(tmp_path: Path) -> None:
    data = build_tarball([entry("resources/pods", b"x"), entry(*GOOD)])
    _extract_refused(data, tmp_path, ArchiveError, "conflicting entries")


def test_versioned_copies_can_be_skipped(tmp_path: Path) -> None:
    with extract_tarball(io.BytesIO(_valid_tarball()), parent_dir=tmp_path, versioned_copies=False) as c:
        assert c.preferred_version("configmaps") == "v1"
        assert len(c.items("configmaps")) == 20
        versioned = c.root / "resources/configmaps/v1-preferredversion"
        assert versioned.is_dir() and not any(versioned.iterdir())


def test_velero_style_multi_version_folders(tmp_path: Path) -> None:
    data = build_tarball([
        entry("resources/horizontalpodautoscalers.autoscaling/namespaces/ns/h.json", b'{"v":2}'),
        entry("resources/horizontalpodautoscalers.autoscaling/v2-preferredversion/namespaces/ns/h.json",
              b'{"v":2}'),
        entry("resources/horizontalpodautoscalers.autoscaling/v1/namespaces/ns/h.json", b'{"v":1}'),
    ])
    with extract_tarball(io.BytesIO(data), parent_dir=tmp_path) as contents:
        gr = "horizontalpodautoscalers.autoscaling"
        assert contents.versions(gr) == ["v1", "v2"]
        assert contents.preferred_version(gr) == "v2"
        ref = contents.items(gr)[0]
        assert contents.read_item(ref, "v1") == {"v": 1}
        assert contents.read_item(ref, "v2") == {"v": 2}


def test_large_entry_streams_with_bounded_memory(tmp_path: Path) -> None:
    body = os.urandom(24 << 20)
    data = build_tarball([entry("resources/secrets/namespaces/ns/big.json", body)])
    source = io.BytesIO(data)
    tracemalloc.start()
    try:
        contents = extract_tarball(source, parent_dir=tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    with contents:
        assert contents.item_path(contents.items("secrets")[0]).read_bytes() == body
    assert peak < 6 << 20, f"peak {peak} bytes extracting a 24 MiB entry"
