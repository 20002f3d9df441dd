"""Restore throughput: N objects restored into an empty kubesim by run_restore, vs plain HTTP creates.

Method (both measured in one run, each into its own fresh, empty kubesim process, same machine):
- objects: N/100 namespaces of 100 typical app objects each (50 configmaps, 25 secrets, 15 services,
  10 service accounts) with labels, annotations and a few hundred bytes of data, shaped as a backup holds
  them (uid, resourceVersion, creationTimestamp, managedFields, status);
- the backup: written once with TarballWriter and stored with BackupStore.put_backup in the filesystem
  store served by `veloro run-plugins` (the real store plugin process); not timed;
- engine: run_restore with the built-in restore item actions of `veloro run-plugins` (real plugin process;
  the items of one resource go through each action in chunks, one execute_batch gRPC call per chunk)
  unless --no-actions; KubeClient with no client-side QPS limit; default RestoreSettings apart from
  `workers` (so the tree is extracted to /dev/shm when it has room, see restore/extractdir.py).
  Timed from the call to its return: validation, download, safe extraction, discovery, namespaces,
  actions, creates, result uploads - everything;
- baseline: the same objects after the same metadata reset (the bodies prepared before timing), created
  with plain urllib3 POSTs from a thread pool of the same size (namespaces first, then the objects).

    python bench/restore_bench.py [N] [--workers 16] [--no-actions]      (default N = 20000)
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
import urllib3

from kubesim.testing import KubeSimProcess
from veloro_core.archive import TarballWriter
from veloro_core.kube import KubeClient, KubeSettings
from veloro_core.persistence import BackupStore
from veloro_core.plugins import PluginManager, PluginSettings
from veloro_core.restore import RestoreRunInput, RestoreSettings, reset_metadata, run_restore
from veloro_core.restore.engine import CLEANUP_THREAD

Obj = dict[str, Any]
MIX = [
    ("configmaps", "ConfigMap", 50),
    ("secrets", "Secret", 25),
    ("services", "Service", 15),
    ("serviceaccounts", "ServiceAccount", 10),
]


def make_objects(n: int, seed: int = 7) -> list[tuple[str, Obj]]:
    rnd = random.Random(seed)
    out: list[tuple[str, Obj]] = []
    for ns_i in range(n // 100):
        ns = f"app-{ns_i:04d}"
        out.append(
            (
                "namespaces",
                {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": {
                        "name": ns,
                        "uid": str(uuid.UUID(int=rnd.getrandbits(128))),
                        "labels": {"team": f"t{ns_i % 9}"},
                    },
                    "spec": {"finalizers": ["kubernetes"]},
                    "status": {"phase": "Active"},
                },
            )
        )
        for resource, kind, count in MIX:
            for i in range(count):
                out.append((resource, _object(resource, kind, ns, i, rnd)))
    return out


def _object(resource: str, kind: str, ns: str, i: int, rnd: random.Random) -> Obj:
    meta = {
        "name": f"{resource[:-1]}-{i}",
        "namespace": ns,
        "uid": str(uuid.UUID(int=rnd.getrandbits(128))),
        "resourceVersion": str(rnd.randrange(10**7)),
        "creationTimestamp": "2024-05-01T10:11:12Z",
        "labels": {"app": f"app-{i % 7}", "tier": rnd.choice(["web", "db"])},
        "annotations": {"owner": "team@example.com"},
        "managedFields": [
            {
                "manager": "kubectl",
                "operation": "Apply",
                "apiVersion": "v1",
                "time": "2024-05-01T10:11:12Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}}}},
            }
        ],
    }
    obj: Obj = {"apiVersion": "v1", "kind": kind, "metadata": meta}
    payload = base64.b64encode(rnd.randbytes(240)).decode()
    if resource == "configmaps":
        obj["data"] = {"config.yaml": payload, "mode": "production"}
    elif resource == "secrets":
        obj["type"], obj["data"] = "Opaque", {"token": payload}
    elif resource == "services":
        obj["spec"] = {
            "selector": {"app": f"app-{i % 7}"},
            "ports": [{"port": 80, "targetPort": 8080}],
            "type": "ClusterIP",
        }
        obj["status"] = {"loadBalancer": {}}
    return obj


def write_backup(store: BackupStore, objects: list[tuple[str, Obj]]) -> Obj:
    buf = io.BytesIO()
    with TarballWriter(buf) as writer:
        for resource, obj in objects:
            meta = obj["metadata"]
            writer.add_item(resource, meta.get("namespace"), meta["name"], "v1", orjson.dumps(obj))
    backup = {
        "apiVersion": "veloro.io/v1",
        "kind": "Backup",
        "metadata": {"name": "bench"},
        "status": {"phase": "Completed", "formatVersion": "1.1.0"},
    }
    store.put_backup("bench", backup, buf.getvalue())
    return backup


def run_engine(objects: list[tuple[str, Obj]], workers: int, actions: bool) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as root, KubeSimProcess() as sim:
        commands = [[sys.executable, "-m", "veloro_core.cli", "run-plugins"]]
        settings = PluginSettings(
            builtin_commands=commands, entry_point_group=None, extra_env={"KUBECONFIG": str(sim.kubeconfig)}
        )
        with (
            PluginManager.discover(settings) as plugins,
            KubeClient.from_kubeconfig(
                sim.kubeconfig, settings=KubeSettings(qps=0, pool_maxsize=workers * 2)
            ) as kube,
        ):
            object_store = plugins.object_store("filesystem")
            object_store.init({"root": root, "bucket": "b"})
            os.makedirs(f"{root}/b", exist_ok=True)
            store = BackupStore(object_store, "b")
            backup = write_backup(store, objects)
            restore = {
                "apiVersion": "veloro.io/v1",
                "kind": "Restore",
                "metadata": {"name": "bench-restore"},
                "spec": {"backupName": "bench"},
            }
            inp = RestoreRunInput(
                restore=restore,
                backup=backup,
                kube=kube,
                plugins=plugins if actions else None,
                store=store,
                settings=RestoreSettings(workers=workers),
            )
            if actions:
                plugins.restore_item_actions()  # start the plugin process before timing
            started = time.perf_counter()
            result = run_restore(inp)
            elapsed = time.perf_counter() - started
            for thread in threading.enumerate():  # the extracted tree's removal, off the restore's path
                if thread.name == CLEANUP_THREAD:
                    thread.join()
            summary = (
                f"phase={result.phase} restored={result.items_restored}/{result.total_items} "
                f"warnings={result.warnings.count()} errors={result.errors.count()}"
            )
            if result.errors.count():
                summary += f" first error: {result.errors.all_messages()[0]}"
            return elapsed, summary


def run_baseline(objects: list[tuple[str, Obj]], workers: int) -> float:
    bodies: list[tuple[str, bytes]] = []
    namespaces: list[bytes] = []
    for resource, obj in objects:
        clean = reset_metadata(orjson.loads(orjson.dumps(obj)), keep_status=False)
        if resource == "namespaces":
            namespaces.append(orjson.dumps(clean))
        else:
            bodies.append(
                (f"/api/v1/namespaces/{clean['metadata']['namespace']}/{resource}", orjson.dumps(clean))
            )
    with KubeSimProcess() as sim:
        http = urllib3.PoolManager(maxsize=workers * 2)
        base = sim.url

        def post(item: tuple[str, bytes]) -> None:
            resp = http.request(
                "POST", base + item[0], body=item[1], headers={"Content-Type": "application/json"}
            )
            if resp.status != 201:
                raise RuntimeError(f"POST {item[0]}: {resp.status} {resp.data[:200]!r}")

        started = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(post, [("/api/v1/namespaces", b) for b in namespaces]))
            list(pool.map(post, bodies))
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--no-actions", action="store_true")
    args = parser.parse_args()
    objects = make_objects(args.n)
    count = sum(1 for r, _ in objects if r != "namespaces")
    engine_s, summary = run_engine(objects, args.workers, not args.no_actions)
    base_s = run_baseline(objects, args.workers)
    print(f"objects={count} namespaces={args.n // 100} workers={args.workers} actions={not args.no_actions}")
    print(f"engine:   {engine_s:7.2f} s  {count / engine_s:8.0f} objects/s  ({summary})")
    print(f"baseline: {base_s:7.2f} s  {count / base_s:8.0f} objects/s  (plain urllib3 POSTs)")
    print(f"ratio engine/baseline: {(count / engine_s) / (count / base_s):.2f}")


if __name__ == "__main__":
    main()
