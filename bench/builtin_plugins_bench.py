"""The built-in plugin process (`veloro run-plugins`) and its filesystem ObjectStore.

    python bench/builtin_plugins_bench.py [--runs 15] [--size-mib 256] [--root /dev/shm/...]

- start to handshake: Popen -> handshake line read, median of --runs starts of
  `python -m veloro_core.cli run-plugins` (what hosts exec), with and without automatic mTLS;
- idle resident memory of that process after the handshake;
- PutObject / GetObject throughput through the plugin into veloro.io/filesystem on tmpfs, with the
  veloro host's 1 MiB chunks and a Go host's 16 KiB chunks (measured with the SDK's typed client).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from veloro_sdk.testing import LaunchOptions, launch_plugin

ARGV = [sys.executable, "-m", "veloro_core.cli", "run-plugins", "--log-level", "info"]
NAME = "veloro.io/filesystem"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def bench_start(runs: int, mtls: bool) -> None:
    starts, rss, stops = [], [], []
    for _ in range(runs):
        with launch_plugin(ARGV, LaunchOptions(auto_mtls=mtls)) as plugin:
            starts.append(plugin.handshake_seconds)
            time.sleep(0.2)  # let the server settle before reading its memory
            rss.append(rss_mib(plugin.process.pid))
        stops.append(plugin.shutdown_seconds or 0.0)
    label = "mTLS" if mtls else "plaintext"
    print(
        f"start->handshake ({label}): median {statistics.median(starts) * 1e3:.0f} ms, "
        f"min {min(starts) * 1e3:.0f} ms, max {max(starts) * 1e3:.0f} ms over {runs} starts; "
        f"idle RSS median {statistics.median(rss):.1f} MiB; Shutdown->exit median "
        f"{statistics.median(stops) * 1e3:.0f} ms"
    )


def bench_throughput(root: Path, size_mib: int) -> None:
    block = bytes(range(256)) * 4096  # 1 MiB
    size = size_mib * len(block)
    with launch_plugin(ARGV, LaunchOptions(auto_mtls=False)) as plugin:
        store = plugin.object_store(NAME, {"root": str(root), "bucket": "bench"})
        for chunk in (1024 * 1024, 16 * 1024):
            pieces = [block[i : i + chunk] for i in range(0, len(block), chunk)]

            def body(pieces: list[bytes] = pieces) -> object:
                for _ in range(size_mib):
                    yield from pieces

            t0 = time.perf_counter()
            store.put_object("bench", f"obj-{chunk}", body())  # type: ignore[arg-type]
            put_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            got = sum(len(c) for c in store.get_object("bench", f"obj-{chunk}"))
            get_s = time.perf_counter() - t0
            assert got == size, (got, size)
            print(
                f"{size_mib} MiB, host chunks {chunk // 1024} KiB: PutObject {size / put_s / 1e6:.0f} MB/s, "
                f"GetObject {size / get_s / 1e6:.0f} MB/s"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--root", type=Path, default=None, help="store root (default: a dir in /dev/shm)")
    args = parser.parse_args()
    root = args.root or Path(tempfile.mkdtemp(prefix="veloro-bench-", dir="/dev/shm"))
    try:
        bench_start(args.runs, mtls=False)
        bench_start(args.runs, mtls=True)
        bench_throughput(root, args.size_mib)
    finally:
        if args.root is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
