"""Host-side TLS relay benchmark: PutObject/GetObject to the Go interop plugin (go-plugin 1.0.1, in-memory
ObjectStore `example.io/go-store`) with auto mTLS (P-521 server certificate, so through
veloro_sdk.tls_relay) and without TLS, for comparison.

    python bench/tls_relay_bench.py [--size-mib 64] [--chunk-kib 1024] [--runs 3]

Needs Go (tests/interop/interop_build.py builds and caches the plugin). Wall clock, host and plugin sharing
this machine's cores; the best of `runs` is reported.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import structlog
from veloro_sdk._proto.generated import ObjectStore_pb2, ObjectStore_pb2_grpc

from veloro_core.plugins import PluginProcess, PluginSettings

sys.path.insert(0, str(Path(__file__).parent.parent / "tests/interop"))
from interop_build import build_cached


def bench(plugin: Path, mtls: bool, size: int, chunk: int, runs: int) -> None:
    settings = PluginSettings(builtin_commands=[], entry_point_group=None, auto_mtls=mtls, start_timeout=15)
    t0 = time.perf_counter()
    process = PluginProcess.start([str(plugin)], settings)
    start_ms = (time.perf_counter() - t0) * 1000
    try:
        assert process.channel is not None
        stub = ObjectStore_pb2_grpc.ObjectStoreStub(process.channel)
        stub.Init(ObjectStore_pb2.ObjectStoreInitRequest(plugin="example.io/go-store", config={}))
        block = os.urandom(chunk)
        count = size // chunk
        put, get = [], []
        for _ in range(runs):
            requests = (
                ObjectStore_pb2.PutObjectRequest(
                    plugin="example.io/go-store", bucket="b", key="k", body=block
                )
                for _ in range(count)
            )
            t = time.perf_counter()
            stub.PutObject(requests)
            put.append(time.perf_counter() - t)
            t = time.perf_counter()
            got = sum(
                len(r.data)
                for r in stub.GetObject(
                    ObjectStore_pb2.GetObjectRequest(plugin="example.io/go-store", bucket="b", key="k")
                )
            )
            get.append(time.perf_counter() - t)
            assert got == count * chunk
    finally:
        process.kill()
    mib = count * chunk / 2**20
    label = "mTLS via OpenSSL relay" if mtls else "plaintext"
    print(
        f"{label:24s} start {start_ms:6.1f} ms  PutObject {mib / min(put):7.1f} MiB/s  "
        f"GetObject {mib / min(get):7.1f} MiB/s  ({mib:g} MiB in {chunk // 1024} KiB chunks)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=64)
    parser.add_argument("--chunk-kib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))
    with tempfile.TemporaryDirectory():
        plugin = build_cached()["goplugin"]
    for mtls in (False, True):
        bench(plugin, mtls, args.size_mib << 20, args.chunk_kib << 10, args.runs)


if __name__ == "__main__":
    main()
