"""TarballWriter: format 1.1.0 layout, both paths per item, streaming with constant memory."""

from __future__ import annotations

import gzip
import io
import shutil
import subprocess
import tarfile
import tracemalloc
from pathlib import Path

import orjson
import pytest

from veloro_core.archive import (
    FORMAT_VERSION,
    CorruptArchiveError,
    InvalidItemNameError,
    TarballWriter,
    extract_tarball,
)


def _write(items: list[tuple[str, str | None, str, str, bytes]], **kw: int) -> bytes:
    out = io.BytesIO()
    with TarballWriter(out, **kw) as writer:
        for item in items:
            writer.add_item(*item)
    return out.getvalue()


ITEMS = [
    ("deployments.apps", "shop", "web", "v1", b'{"kind":"Deployment"}'),
    ("pods", "shop", "web-1", "v1", b'{"kind":"Pod"}'),
    ("namespaces", None, "shop", "v1", b'{"kind":"Namespace"}'),
    ("customresourcedefinitions.apiextensions.k8s.io", None, "x" * 200 + ".example.com", "v1", b'{"k":1}'),
]


def test_layout_version_first_both_paths_regular_0755() -> None:
    data = _write(ITEMS)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = tar.getmembers()
        names = [m.name for m in members]
        assert names[0] == "metadata/version"
        assert tar.extractfile(members[0]).read() == b"1.1.0\n"  # type: ignore[union-attr]
        assert all(m.isreg() and m.mode == 0o755 for m in members), "only regular files, mode 0755"
        assert names[1:5] == [
            "resources/deployments.apps/namespaces/shop/web.json",
            "resources/deployments.apps/v1-preferredversion/namespaces/shop/web.json",
            "resources/pods/namespaces/shop/web-1.json",
            "resources/pods/v1-preferredversion/namespaces/shop/web-1.json",
        ]
        assert "resources/namespaces/cluster/shop.json" in names
        assert "resources/namespaces/v1-preferredversion/cluster/shop.json" in names
        long_name = "x" * 200 + ".example.com.json"
        assert f"resources/customresourcedefinitions.apiextensions.k8s.io/cluster/{long_name}" in names
        for m in members[1:]:
            assert tar.extractfile(m).read() in {i[4] for i in ITEMS}  # type: ignore[union-attr]
    assert len(names) == 1 + 2 * len(ITEMS)


@pytest.mark.skipif(shutil.which("tar") is None, reason="GNU tar not installed")
def test_gnu_tar_reads_it(tmp_path: Path) -> None:
    (tmp_path / "b.tar.gz").write_bytes(_write(ITEMS))
    listing = subprocess.run(["tar", "tzvf", "b.tar.gz"], cwd=tmp_path, check=True, capture_output=True,
                             text=True).stdout.splitlines()
    assert len(listing) == 1 + 2 * len(ITEMS)
    assert listing[0].startswith("-rwxr-xr-x") and listing[0].endswith("metadata/version")
    subprocess.run(["tar", "xzf", "b.tar.gz"], cwd=tmp_path, check=True)
    extracted = tmp_path / "resources/pods/v1-preferredversion/namespaces/shop/web-1.json"
    assert extracted.read_bytes() == ITEMS[1][4]


def test_round_trip_through_reader() -> None:
    data = _write(ITEMS, compresslevel=3)
    with extract_tarball(io.BytesIO(data)) as contents:
        assert contents.format_version == FORMAT_VERSION
        assert contents.group_resources() == sorted({i[0] for i in ITEMS})
        assert contents.namespaces() == ["shop"]
        assert contents.preferred_versions()["deployments.apps"] == "v1"
        for gr, ns, name, _version, body in ITEMS:
            refs = contents.items(gr)
            assert [(r.namespace, r.name) for r in refs] == [(ns, name)]
            assert contents.read_item(refs[0]) == orjson.loads(body)
            assert contents.read_item(refs[0], version="v1") == orjson.loads(body)


def test_unicode_and_long_paths_use_pax() -> None:
    items = [("configmaps", "ns", "caf\u00e9", "v1", b"{}"), ("pods", "n" * 63, "p" * 253, "v1", b"{}")]
    data = _write(items)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        names = tar.getnames()
    assert "resources/configmaps/namespaces/ns/caf\u00e9.json" in names
    assert f"resources/pods/v1-preferredversion/namespaces/{'n' * 63}/{'p' * 253}.json" in names


@pytest.mark.parametrize(
    "item",
    [
        ("pods", "ns", "../evil", "v1"),
        ("pods", "ns", "a/b", "v1"),
        ("pods", "..", "x", "v1"),
        ("pods", "", "x", "v1"),
        ("../pods", "ns", "x", "v1"),
        ("pods", "ns", "x", "v1/../.."),
        ("pods", "ns", "", "v1"),
        ("pods", None, "nul\x00", "v1"),
    ],
)
def test_unsafe_names_refused(item: tuple[str, str | None, str, str]) -> None:
    writer = TarballWriter(io.BytesIO())
    with pytest.raises(InvalidItemNameError, match="invalid"):
        writer.add_item(*item, b"{}")


def test_failure_inside_with_leaves_a_truncated_archive() -> None:
    out = io.BytesIO()
    with pytest.raises(RuntimeError), TarballWriter(out) as writer:
        writer.add_item("pods", "ns", "a", "v1", b"{}" * 100_000)
        raise RuntimeError("backup failed")
    with pytest.raises(CorruptArchiveError, match="corrupt or truncated"):
        extract_tarball(io.BytesIO(out.getvalue()))
    with pytest.raises(EOFError):
        gzip.decompress(out.getvalue())


def test_add_after_close_refused() -> None:
    writer = TarballWriter(io.BytesIO())
    writer.close()
    with pytest.raises(Exception, match="closed"):
        writer.add_item("pods", "ns", "a", "v1", b"{}")


class _Sink(io.RawIOBase):
    """A write-only stream that keeps nothing (the memory test must not measure the output)."""

    def __init__(self) -> None:
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.size += len(b)
        return len(b)


def test_memory_does_not_grow_with_the_backup() -> None:
    body = orjson.dumps({"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "v" * 800}})
    sink = _Sink()
    tracemalloc.start()
    try:
        writer = TarballWriter(sink)  # type: ignore[arg-type]
        for i in range(5_000):
            writer.add_item("configmaps", f"ns-{i % 100}", f"cm-{i}", "v1", body)
        _, peak_small = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for i in range(5_000, 50_000):
            writer.add_item("configmaps", f"ns-{i % 100}", f"cm-{i}", "v1", body)
        writer.close()
        _, peak_large = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert writer.items_written == 50_000
    assert sink.size > 0
    assert peak_large < 2 * 1024 * 1024, f"peak {peak_large} bytes while writing 50k items"
    assert peak_large < peak_small + 512 * 1024, "memory grew with the number of items"
