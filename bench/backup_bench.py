"""Backup engine throughput and memory on kubesim, against a plain paging loop.

Method:
1. kubesim runs in memory (one process per size). Loading: N/100 namespaces, each with 30 configmaps,
   25 secrets, 10 services, 5 deployments (replicas 0;
   kubesim's controller adds their ReplicaSets), 10 pods, 5 PVCs each bound to its own PV (a volume of
   kubesim's hostpath CSI driver, which has a default VolumeSnapshotClass), 4 service accounts (+ the
   namespace's default one) = ~100 objects per namespace, created over HTTP with 32 concurrent aiohttp
   requests.
2. Engine (child process): run_backup of the whole cluster to the filesystem store through the
   PluginManager with the server's default built-ins (`veloro run-plugins`, the aws plugin, the CSI plugin),
   every item through the actions that apply (pod, PVC, service account, CSI PVC: real gRPC calls to the
   plugin processes). Clients use the server's default rate limit (1000 qps, burst 2000). Two modes:
   - objects: spec.snapshotVolumes=false. Every PVC still goes through the CSI PVC action, which says no
     at once: object throughput.
   - volumes: snapshotVolumes left at its default: every bound CSI PVC gets a VolumeSnapshot (kubesim copies
     the PV's directory), whose snapshot and content are backed up too and whose operation is waited for.
     This is volume work and reported apart.
   Timed from run_backup's start to its return (upload and operations included). Peak RSS of that
   process: resource.getrusage(RUSAGE_SELF).ru_maxrss (the plugin processes are separate, not included).
3. Plain loop (child process): the same resources as the engine's plan, each listed with limit/continue
   over HTTP (the same KubeClient, page size 500), every item orjson-dumped into the same TarballWriter
   (same gzip level) writing a temp file. No actions, no store. objects/s = items written / seconds.

    python bench/backup_bench.py --sizes 10000 100000 [--modes objects volumes] [--work /tmp/veloro-bench]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CSI_DRIVER = "hostpath.csi.kubesim.io"  # kubesim's driver; its class kubesim-snapclass is the default
MODES = ("objects", "volumes")
# `veloro server`'s default --client-qps/--client-burst (plugins get the same through VELORO_CLIENT_QPS/BURST,
# or these defaults when unset); KubeSettings' library default of 100 qps would throttle the engine's GETs
SERVER_QPS, SERVER_BURST = 1000.0, 2000
PER_NS = {"configmaps": 30, "secrets": 25, "services": 10, "deployments": 5, "pods": 10, "pvcs": 5, "sas": 4}


# ------------------------------------------------------------------------------------------- loading
def _objects(ns: str) -> list[tuple[str, dict[str, Any]]]:
    labels = {"app": "shop", "team": ns}
    out: list[tuple[str, dict[str, Any]]] = []
    core = f"/api/v1/namespaces/{ns}"
    for i in range(PER_NS["configmaps"]):
        out.append(
            (
                f"{core}/configmaps",
                {
                    "metadata": {"name": f"cm-{i}", "labels": labels},
                    "data": {"config.yaml": f"key: value-{i}\n" * 8},
                },
            )
        )
    for i in range(PER_NS["secrets"]):
        out.append(
            (
                f"{core}/secrets",
                {
                    "metadata": {"name": f"secret-{i}", "labels": labels},
                    "stringData": {"password": f"pw-{ns}-{i}", "token": "t" * 40},
                },
            )
        )
    for i in range(PER_NS["services"]):
        out.append(
            (
                f"{core}/services",
                {
                    "metadata": {"name": f"svc-{i}", "labels": labels},
                    "spec": {
                        "selector": {"app": "shop", "svc": str(i)},
                        "ports": [{"port": 80, "targetPort": 8080}],
                    },
                },
            )
        )
    for i in range(PER_NS["deployments"]):
        out.append(
            (
                f"/apis/apps/v1/namespaces/{ns}/deployments",
                {
                    "metadata": {"name": f"deploy-{i}", "labels": labels},
                    "spec": {
                        "replicas": 0,
                        "selector": {"matchLabels": {"app": f"d{i}"}},
                        "template": {
                            "metadata": {"labels": {"app": f"d{i}"}},
                            "spec": {
                                "containers": [
                                    {"name": "app", "image": "nginx:1.27", "ports": [{"containerPort": 8080}]}
                                ]
                            },
                        },
                    },
                },
            )
        )
    for i in range(PER_NS["sas"]):
        out.append((f"{core}/serviceaccounts", {"metadata": {"name": f"sa-{i}", "labels": labels}}))
    for i in range(PER_NS["pvcs"]):
        pv = f"pv-{ns}-{i}"
        out.append(
            (
                "/api/v1/persistentvolumes",
                {
                    "metadata": {"name": pv},
                    "spec": {
                        "capacity": {"storage": "1Gi"},
                        "accessModes": ["ReadWriteOnce"],
                        # kubesim's hostpath CSI driver: the CSI plugin's PVC action applies to every claim
                        "csi": {"driver": CSI_DRIVER, "volumeHandle": pv},
                        "persistentVolumeReclaimPolicy": "Retain",
                        "storageClassName": "manual",
                        "claimRef": {"namespace": ns, "name": f"data-{i}"},
                    },
                },
            )
        )
        out.append(
            (
                f"{core}/persistentvolumeclaims",
                {
                    "metadata": {"name": f"data-{i}", "labels": labels},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1Gi"}},
                        "storageClassName": "manual",
                        "volumeName": pv,
                    },
                },
            )
        )
    for i in range(PER_NS["pods"]):
        volumes = [{"name": "data", "persistentVolumeClaim": {"claimName": f"data-{i % PER_NS['pvcs']}"}}]
        out.append(
            (
                f"{core}/pods",
                {
                    "metadata": {"name": f"pod-{i}", "labels": labels},
                    "spec": {
                        "serviceAccountName": f"sa-{i % PER_NS['sas']}",
                        "volumes": volumes,
                        "containers": [
                            {
                                "name": "app",
                                "image": "nginx:1.27",
                                "volumeMounts": [{"name": "data", "mountPath": "/d"}],
                            }
                        ],
                    },
                },
            )
        )
    return out


async def _load(url: str, namespaces: int) -> None:
    import aiohttp

    sem = asyncio.Semaphore(32)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)) as session:

        async def post(path: str, body: dict[str, Any]) -> None:
            async with sem, session.post(url + path, json=body) as resp:
                if resp.status not in (200, 201, 409):
                    raise RuntimeError(f"POST {path}: {resp.status} {await resp.text()}")

        for start in range(0, namespaces, 20):
            batch = [f"ns-{n:05d}" for n in range(start, min(namespaces, start + 20))]
            await asyncio.gather(*(post("/api/v1/namespaces", {"metadata": {"name": ns}}) for ns in batch))
            await asyncio.gather(*(post(p, b) for ns in batch for p, b in _objects(ns)))


def load_cluster(url: str, size: int) -> float:
    """Create ~size objects; returns the seconds it took."""
    t0 = time.monotonic()
    asyncio.run(_load(url, max(1, size // 100)))
    time.sleep(2)  # let the controllers settle (ReplicaSets)
    return time.monotonic() - t0


# ------------------------------------------------------------------------------------------- children
def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_engine(kubeconfig: str, root: str, mode: str) -> dict[str, Any]:
    import structlog

    from veloro_core.backup import BackupRunInput, BackupSettings, run_backup
    from veloro_core.kube import KubeClient, KubeSettings
    from veloro_core.persistence import BackupStore
    from veloro_core.plugins import PluginManager, PluginSettings
    from veloro_core.plugins.settings import default_builtin_commands

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))
    settings = PluginSettings(
        builtin_commands=default_builtin_commands(),  # run-plugins + aws + csi, as the server runs them
        entry_point_group=None,
        extra_env={  # what `veloro server` passes its plugins
            "KUBECONFIG": kubeconfig,
            "VELORO_CLIENT_QPS": f"{SERVER_QPS:g}",
            "VELORO_CLIENT_BURST": str(SERVER_BURST),
        },
    )
    client_settings = KubeSettings(qps=SERVER_QPS, burst=SERVER_BURST)
    with (
        KubeClient.from_kubeconfig(kubeconfig, settings=client_settings) as kube,
        PluginManager.discover(settings) as manager,
    ):
        object_store = manager.object_store("veloro.io/filesystem")
        object_store.init({"root": root, "bucket": "velero"})
        store = BackupStore(object_store, "velero")
        for _, action in manager.backup_item_actions():
            action.applies_to()  # start every plugin process before timing
        spec: dict[str, Any] = {"snapshotVolumes": False} if mode == "objects" else {}
        backup = {
            "apiVersion": "veloro.io/v1",
            "kind": "Backup",
            "metadata": {"name": f"bench-{mode}-{int(time.time())}", "namespace": "veloro"},
            "spec": spec,
        }
        rss_before = _peak_rss_mb()
        t0 = time.monotonic()
        result = run_backup(
            BackupRunInput(
                backup=backup,
                kube=kube,
                plugins=manager,
                store=store,
                settings=BackupSettings(log_items=True),
            )
        )
        seconds = time.monotonic() - t0
    return {
        "mode": mode,
        "phase": result.phase,
        "items": result.items_backed_up,
        "seconds": seconds,
        "errors": result.error_count,
        "warnings": result.warning_count,
        "tarball": result.tarball_bytes,
        "csi_attempted": result.csi_volume_snapshots_attempted,
        "csi_completed": result.csi_volume_snapshots_completed,
        "rss_mb": _peak_rss_mb(),
        "rss_before_mb": rss_before,
        "reason": result.failure_reason,
    }


def child_plain(kubeconfig: str) -> dict[str, Any]:
    import orjson

    from veloro_core.archive import TarballWriter
    from veloro_core.backup.collector import plan_resources
    from veloro_core.kube import KubeClient, KubeSettings
    from veloro_core.selection import ResourceIndex, ResourceInfo, SpecSelection

    settings = KubeSettings(qps=SERVER_QPS, burst=SERVER_BURST)
    with KubeClient.from_kubeconfig(kubeconfig, settings=settings) as kube, tempfile.TemporaryFile() as out:
        apis = kube.discovery.backup_resources()
        index = ResourceIndex(ResourceInfo(a.group, a.version, a.name, a.kind, a.namespaced) for a in apis)
        plan = plan_resources(apis, SpecSelection.parse({}).resource_filter(index))
        t0 = time.monotonic()
        items = 0
        with TarballWriter(out) as writer:  # type: ignore[arg-type]
            for api in plan:
                for page in kube.list_pages(api):
                    for item in page.items:
                        meta = item["metadata"]
                        writer.add_item(
                            api.group_resource,
                            meta.get("namespace") if api.namespaced else None,
                            meta["name"],
                            api.version,
                            orjson.dumps(item),
                        )
                        items += 1
        seconds = time.monotonic() - t0
    return {"items": items, "seconds": seconds, "rss_mb": _peak_rss_mb()}


def _child(args: list[str]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed:\n{proc.stderr[-3000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def measure(work: Path, size: int, modes: list[str]) -> dict[str, Any]:
    from kubesim.testing import KubeSimProcess

    # kubesim in memory (its volume and snapshot directories go to a temp dir): each size is loaded afresh
    sim = KubeSimProcess(startup_timeout=120).start()
    try:
        with tempfile.TemporaryDirectory(dir=work) as root:
            load_seconds = load_cluster(sim.url, size)
            plain = _child(["--child-plain", str(sim.kubeconfig)])
            # objects first: the volumes run leaves VolumeSnapshots behind, which later backups would carry
            engines = {m: _child(["--child-engine", str(sim.kubeconfig), root, m]) for m in modes}
    finally:
        sim.close()  # SIGKILL: a clean stop of a 100k-object kubesim can exceed its 10 s grace period
    plain["objects_per_s"] = plain["items"] / plain["seconds"]
    for engine in engines.values():
        engine["objects_per_s"] = engine["items"] / engine["seconds"]
        engine["ratio"] = engine["objects_per_s"] / plain["objects_per_s"]
    return {"size": size, "load_seconds": load_seconds, "engines": engines, "plain": plain}


def report(results: list[dict[str, Any]]) -> None:
    for r in results:
        p = r["plain"]
        print(f"{r['size']:>7} objects: plain loop {p['items']} items in {p['seconds']:.1f}s = "
              f"{p['objects_per_s']:.0f}/s (RSS {p['rss_mb']:.0f} MB)")
        for mode, e in r["engines"].items():
            csi = f", CSI snapshots {e['csi_completed']}/{e['csi_attempted']}"
            volumes = csi if mode == "volumes" else ""
            print(
                f"{'':>9}engine [{mode}] {e['items']} items in {e['seconds']:.1f}s = "
                f"{e['objects_per_s']:.0f}/s"
                f" ({e['phase']}, errors {e['errors']}{volumes}), peak RSS {e['rss_mb']:.0f} MB; "
                f"ratio {e['ratio']:.2f}"
            )
    for mode in results[0]["engines"] if len(results) >= 2 else []:
        small, big = results[0]["engines"][mode]["rss_mb"], results[-1]["engines"][mode]["rss_mb"]
        print(f"RSS growth [{mode}] {results[0]['size']} -> {results[-1]['size']}: "
              f"{100 * (big - small) / small:.1f} %")
    print(json.dumps(results))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "veloro-backup-bench")
    parser.add_argument("--child-engine", nargs=3, metavar=("KUBECONFIG", "ROOT", "MODE"))
    parser.add_argument("--child-plain", metavar="KUBECONFIG")
    args = parser.parse_args()
    if args.child_engine:
        print(json.dumps(child_engine(*args.child_engine)))
        return
    if args.child_plain:
        print(json.dumps(child_plain(args.child_plain)))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    report([measure(args.work, size, args.modes) for size in args.sizes])


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
