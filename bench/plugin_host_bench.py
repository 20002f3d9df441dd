"""Plugin host benchmark: start-to-ready, action call latency, ObjectStore throughput, kill, idle RSS.

    python bench/plugin_host_bench.py [--mtls] [--tcp] [--size-mib 256] [--calls 3000]

The plugin is tests/plugins/fixtures/sdk_plugin.py (veloro_sdk.serve.PluginServer); its ObjectStore writes
files under /dev/shm. Timings are wall clock on this machine, host and plugin sharing its cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import structlog
from veloro_sdk.client import BackupItemActionV2Client
from veloro_sdk.contracts import BackupItemActionExecuteRequest

from veloro_core.plugins import PluginManager, PluginProcess, PluginSettings

PLUGIN = [sys.executable, str(Path(__file__).parent.parent / "tests/plugins/fixtures/sdk_plugin.py")]


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def bench_start_and_kill(settings: PluginSettings, runs: int) -> None:
    starts, kills, rss = [], [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        process = PluginProcess.start(PLUGIN, settings)
        starts.append(time.perf_counter() - t0)
        time.sleep(0.2)
        rss.append(_rss_kib(process.pid))
        t0 = time.perf_counter()
        process.kill()
        kills.append(time.perf_counter() - t0)
    print(f"start to ready (handshake + health), median of {runs}: {statistics.median(starts) * 1000:.0f} ms")
    print(f"kill through Shutdown, median of {runs}: {statistics.median(kills) * 1000:.1f} ms")
    print(f"idle plugin RSS: {statistics.median(rss) / 1024:.1f} MiB")


def _item() -> dict[str, object]:
    labels = {f"label-{i}": "x" * 20 for i in range(60)}
    item = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns", "labels": labels}}
    return item


def bench_calls(settings: PluginSettings, calls: int) -> None:
    import orjson

    item = _item()
    print(f"item size: {len(orjson.dumps(item))} bytes")
    with PluginManager.discover(settings) as manager:
        proxy = manager.backup_item_action("veloro.io/annotate")
        host = manager.host(tuple(PLUGIN))
        proxy.applies_to()
        assert host.process is not None and host.process.channel is not None
        direct = BackupItemActionV2Client(host.process.channel, "veloro.io/annotate")
        request = BackupItemActionExecuteRequest(item, {"kind": "Backup"})
        for label, action in (("typed client", direct), ("manager (restartable) proxy", proxy)):
            for _ in range(200):
                action.execute(request)
            samples = []
            for _ in range(calls):
                t0 = time.perf_counter()
                action.execute(request)
                samples.append(time.perf_counter() - t0)
            samples.sort()
            p50, p99 = samples[len(samples) // 2], samples[int(len(samples) * 0.99)]
            print(f"Execute 2 KB item via {label}: p50 {p50 * 1e6:.0f} us, p99 {p99 * 1e6:.0f} us")


def bench_throughput(settings: PluginSettings, size_mib: int) -> None:
    root = Path(tempfile.mkdtemp(dir="/dev/shm", prefix="veloro-bench-"))
    try:
        with PluginManager.discover(settings) as manager:
            store = manager.object_store("example.io/dir-store")
            store.init({"root": str(root)})
            for chunk_size in (4 * 1024 * 1024, 16 * 1024):
                chunk = os.urandom(chunk_size)
                count = size_mib * 1024 * 1024 // chunk_size
                t0 = time.perf_counter()
                store.put_object("b", "obj", (chunk for _ in range(count)))
                put = time.perf_counter() - t0
                t0 = time.perf_counter()
                got = sum(len(c) for c in store.get_object("b", "obj"))
                get = time.perf_counter() - t0
                assert got == count * chunk_size
                print(
                    f"{size_mib} MiB, host chunks {chunk_size // 1024} KiB: "
                    f"PutObject {size_mib / put:.0f} MiB/s, GetObject {size_mib / get:.0f} MiB/s"
                )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mtls", action="store_true")
    parser.add_argument("--tcp", action="store_true")
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--starts", type=int, default=10)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))  # errors only
    settings = PluginSettings(
        builtin_commands=[PLUGIN],
        entry_point_group=None,
        auto_mtls=args.mtls,
        transport="tcp" if args.tcp else "unix",
    )
    print(
        f"mTLS: {args.mtls}, transport: {settings.transport}, "
        f"python {sys.version.split()[0]}, {os.cpu_count()} cpus"
    )
    bench_start_and_kill(settings, args.starts)
    bench_calls(settings, args.calls)
    bench_throughput(settings, args.size_mib)


if __name__ == "__main__":
    main()
