"""kubesim benchmark: start-up time, create throughput (8 concurrent clients), paged list throughput, memory.

    python bench/kubesim_bench.py [--count 100000] [--clients 8] [--page 500] [--persist]

Clients are aiohttp coroutines in this process talking HTTP/1.1 keep-alive to a kubesim subprocess (started
with kubesim.testing.KubeSimProcess, as tests do). Each ConfigMap carries ~1 KB of data. The list client
parses every page with orjson and counts the items, so the figure is what a real consumer sees.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
import orjson

from kubesim.testing import KubeSimProcess

PAYLOAD = "x" * 1000


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def startup_times(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        sim = KubeSimProcess()
        sim.start()
        times.append(time.perf_counter() - started)
        sim.stop()
        sim.close()
    return times


async def create_many(url: str, ns: str, count: int, clients: int) -> float:
    path = f"{url}/api/v1/namespaces/{ns}/configmaps"
    counter = iter(range(count))

    async def worker() -> None:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
            for i in counter:
                body = orjson.dumps(
                    {
                        "metadata": {"name": f"cm-{i:06d}", "labels": {"bench": "yes"}},
                        "data": {"payload": PAYLOAD},
                    }
                )
                async with session.post(path, data=body, headers={"Content-Type": "application/json"}) as r:
                    if r.status != 201:
                        raise RuntimeError(f"create failed: {r.status} {await r.text()}")
                    await r.read()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - started


async def list_all(url: str, ns: str, page: int) -> tuple[float, int, int]:
    path = f"{url}/api/v1/namespaces/{ns}/configmaps"
    items = pages = 0
    token = ""
    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        while True:
            params = {"limit": str(page)}
            if token:
                params["continue"] = token
            async with session.get(path, params=params) as r:
                body = orjson.loads(await r.read())
            items += len(body["items"])
            pages += 1
            token = body["metadata"].get("continue", "")
            if not token:
                break
    return time.perf_counter() - started, items, pages


async def run(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="kubesim-bench-")) / "data" if args.persist else None
    with KubeSimProcess(data_dir=data_dir) as sim:
        assert sim.proc is not None
        base_rss = rss_mib(sim.proc.pid)
        async with aiohttp.ClientSession() as s:
            await s.post(f"{sim.url}/api/v1/namespaces", json={"metadata": {"name": "bench"}})
        elapsed = await create_many(sim.url, "bench", args.count, args.clients)
        print(
            f"create: {args.count} ConfigMaps (~1 KB) with {args.clients} clients in {elapsed:.1f}s = "
            f"{args.count / elapsed:,.0f} objects/s ({'SQLite WAL' if args.persist else 'in memory'})"
        )
        loaded_rss = rss_mib(sim.proc.pid)
        print(
            f"memory: {base_rss:.0f} MiB idle -> {loaded_rss:.0f} MiB with {args.count} objects = "
            f"{(loaded_rss - base_rss) / args.count * 100_000:.0f} MiB per 100k objects"
        )
        rates = []
        for _ in range(args.list_runs):
            elapsed, items, pages = await list_all(sim.url, "bench", args.page)
            assert items >= args.count, items  # + the namespace's kube-root-ca.crt
            rates.append(items / elapsed)
            print(
                f"list: {items} objects in {pages} pages of {args.page} in {elapsed:.2f}s = "
                f"{items / elapsed:,.0f} objects/s"
            )
        print(
            f"list: median {statistics.median(rates):,.0f} objects/s; server RSS after lists "
            f"{rss_mib(sim.proc.pid):.0f} MiB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--page", type=int, default=500)
    parser.add_argument("--list-runs", type=int, default=3)
    parser.add_argument("--startup-runs", type=int, default=5)
    parser.add_argument("--persist", action="store_true", help="run the server with a data dir (SQLite WAL)")
    args = parser.parse_args()
    times = startup_times(args.startup_runs)
    print(
        f"start-up: median {statistics.median(times):.2f}s, max {max(times):.2f}s over {len(times)} runs "
        "(spawn to ready line)"
    )
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
