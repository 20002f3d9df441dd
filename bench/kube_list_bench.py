"""List throughput of veloro_core.kube against a plain urllib3 + orjson loop, both over HTTP to kubesim.

Method: kubesim (--no-controllers) runs as a subprocess on 127.0.0.1. N ConfigMaps (~600 bytes of JSON each,
spread over 100 namespaces) are created through KubeClient.create from 8 threads (the create rate is
reported too). Then, for each size, the same all-namespaces list paged by 500 is read R times alternately:
  - veloro: KubeClient(default KubeSettings: qps 100, burst 200).list_pages(), counting items;
  - plain:  a loop of urllib3 GET ?limit=500&continue=... + orjson.loads, counting items.
Reported: objects/s (best and median of R) and the ratio veloro/plain. Client and server share the machine.

    python bench/kube_list_bench.py [--sizes 20000,100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import orjson
import urllib3

from kubesim.testing import KubeSimProcess
from veloro_core.kube import GroupVersionResource, KubeClient, KubeSettings

CONFIGMAPS = GroupVersionResource("", "v1", "configmaps")
NAMESPACES = GroupVersionResource("", "v1", "namespaces")
NS_COUNT = 100


def seed(client: KubeClient, start: int, stop: int) -> float:
    """Create ConfigMaps start..stop-1; returns creates/s."""

    def one(i: int) -> None:
        ns = f"bench-{i % NS_COUNT:03d}"
        client.create(CONFIGMAPS, {
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": f"cm-{i:07d}", "namespace": ns,
                         "labels": {"app": f"app-{i % 37}", "tier": ("web", "db", "cache")[i % 3]},
                         "annotations": {"example.com/owner": f"team-{i % 11}"}},
            "data": {"config.yaml": f"replicas: {i % 5}\nimage: registry.example.com/app:{i % 97}\n" * 4,
                     "index": str(i)},
        })

    t0 = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        for _ in pool.map(one, range(start, stop)):
            pass
    return (stop - start) / (time.perf_counter() - t0)


def veloro_list(client: KubeClient) -> int:
    return sum(len(page.items) for page in client.list_pages(CONFIGMAPS, page_size=500))


def plain_list(pool: urllib3.PoolManager, url: str) -> int:
    count, token = 0, ""
    while True:
        query = "limit=500" + (f"&continue={quote(token)}" if token else "")
        resp = pool.request("GET", f"{url}/api/v1/configmaps?{query}")
        if resp.status != 200:
            raise RuntimeError(f"plain list failed: HTTP {resp.status}: {resp.data[:200]!r}")
        body = orjson.loads(resp.data)
        count += len(body["items"])
        token = body["metadata"].get("continue") or ""
        if not token:
            return count


def timed(fn: object, expected: int) -> float:
    assert callable(fn)
    t0 = time.perf_counter()
    n = fn()
    elapsed = time.perf_counter() - t0
    if n != expected:
        raise RuntimeError(f"listed {n} objects, expected {expected}")
    return expected / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="20000,100000")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    with KubeSimProcess(extra_args=["--no-controllers", "--log-level", "warning"]) as sim, \
            KubeClient.from_kubeconfig(sim.kubeconfig, settings=KubeSettings()) as client:
        seeder = KubeClient.from_kubeconfig(sim.kubeconfig, settings=KubeSettings(qps=0))
        for n in range(NS_COUNT):
            seeder.create(NAMESPACES, {"metadata": {"name": f"bench-{n:03d}"}})
        plain = urllib3.PoolManager()
        have = 0
        print(f"{'objects':>8} {'create/s':>9} {'veloro best':>12} {'veloro med':>11} "
              f"{'plain best':>11} {'plain med':>10} {'ratio(best)':>11}")
        for size in sizes:
            create_rate = seed(seeder, have, size)
            have = size
            ours: list[float] = []
            theirs: list[float] = []
            for _ in range(args.repeats):
                ours.append(timed(lambda: veloro_list(client), size))
                theirs.append(timed(lambda: plain_list(plain, sim.url), size))
            print(f"{size:>8} {create_rate:>9.0f} {max(ours):>12.0f} {statistics.median(ours):>11.0f} "
                  f"{max(theirs):>11.0f} {statistics.median(theirs):>10.0f} {max(ours) / max(theirs):>11.2f}")
        seeder.close()


if __name__ == "__main__":
    main()
