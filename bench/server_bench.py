"""The server's performance targets (issue 5): `veloro backup get` latency, idle server memory, and
server-driven backup/restore throughput against the engine called directly on the same data.

    python bench/server_bench.py get [--sizes 100 1000] [--runs 5]
    python bench/server_bench.py rss
    python bench/server_bench.py throughput [--objects 10000] [--qps 100]

get: kubesim + `veloro install`; N Backup objects created with a Completed status (what a table shows);
`veloro backup get` timed as a fresh process (interpreter start, imports, one paged list, the table).
rss: `veloro server` (filesystem location; built-in plugins only, as `veloro run-plugins` processes)
sampled from /proc: VmRSS of the server process alone, and of its plugin processes (its descendants)
separately: 5 s after ready, then after a backup and a restore of the quickstart app and 5 s idle.
throughput: bench/backup_bench.py's loader puts ~N objects in a kubesim (N/100 namespaces of ~100
typical objects). Server: `veloro server` (default flags but --client-qps), Backup created over the
API (the whole cluster minus the veloro namespace), timed from create to status.phase Completed as seen
by polling every 50 ms; then a second kubesim with veloro installed on the same store syncs the backup
and a Restore is timed the same way. Direct: a child process calls run_backup (same kubesim, same spec,
same KubeSettings, the built-in plugin process) and run_restore (a third, fresh kubesim, same backup,
the server's RestoreSettings); timed around the call. The server is stopped before each direct run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))  # the e2e helpers: Cli, Server, start_stack

from e2e_helpers import NS, Cli, Server, Stack, deploy_sample_app, start_stack, wait_for  # noqa: E402

from kubesim.testing import KubeSimProcess  # noqa: E402
from veloro_core.kube import GroupVersionResource, KubeClient, KubeSettings, NotFound  # noqa: E402

Obj = dict[str, Any]
BACKUPS = GroupVersionResource("veloro.io", "v1", "backups")
RESTORES = GroupVersionResource("veloro.io", "v1", "restores")
SPEC: Obj = {"excludedNamespaces": [NS]}


def fs_install(root: Path) -> list[str]:
    return [
        "--provider", "filesystem", "--bucket", "backups",
        "--backup-location-config", f"root={root}", "--no-secret",
    ]  # fmt: skip


# ----------------------------------------------------------------------------------------- backup get
def bench_get(sizes: list[int], runs: int) -> list[Obj]:
    out = []
    for size in sizes:
        with KubeSimProcess() as sim, tempfile.TemporaryDirectory() as tmp:
            cli = Cli(sim.kubeconfig, Path(tmp))
            cli.run("install", "--namespace", NS, *fs_install(Path(tmp) / "store"))
            with KubeClient.from_kubeconfig(sim.kubeconfig, settings=KubeSettings(qps=0)) as kube:
                wait_for(lambda: _served(kube), 20, "Backup CRD served")
                for i in range(size):
                    _completed_backup(kube, f"nightly-{i:05d}")
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                result = cli.run("backup", "get")
                times.append(time.perf_counter() - t0)
            rows = len(result.stdout.splitlines()) - 1
            assert rows == size, f"backup get printed {rows} rows for {size} backups"
            out.append({"backups": size, "median_s": statistics.median(times), "max_s": max(times)})
    return out


def _served(kube: KubeClient) -> bool:
    try:
        list(kube.list_items(BACKUPS, NS))
    except Exception:
        return False
    return True


def _completed_backup(kube: KubeClient, name: str) -> None:
    body = {
        "apiVersion": "veloro.io/v1",
        "kind": "Backup",
        "metadata": {"name": name, "namespace": NS, "labels": {"veloro.io/storage-location": "default"}},
        "spec": {"includedNamespaces": ["app"], "storageLocation": "default", "ttl": "720h0m0s"},
    }
    kube.create(BACKUPS, body, NS)
    status = {
        "phase": "Completed",
        "startTimestamp": "2026-01-01T01:00:00Z",
        "completionTimestamp": "2026-01-01T01:00:05Z",
        "expiration": "2026-01-31T01:00:00Z",
        "progress": {"totalItems": 120, "itemsBackedUp": 120},
    }
    kube.patch_status(BACKUPS, name, {"status": status}, NS)


# ------------------------------------------------------------------------------------------------ rss
def _rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        out += children
        todo += children
    return out


def memory(server: Server) -> Obj:
    assert server.proc is not None
    pid = server.proc.pid
    plugins = {p: _rss_kb(p) for p in _descendants(pid)}
    return {
        "server_rss_mb": round(_rss_kb(pid) / 1024, 1),
        "server_peak_mb": round(_rss_kb(pid, "VmHWM") / 1024, 1),
        "plugin_processes": len(plugins),
        "plugins_rss_mb": round(sum(plugins.values()) / 1024, 1),
    }


def bench_rss() -> Obj:
    with tempfile.TemporaryDirectory() as tmp:
        home, root = Path(tmp) / "home", Path(tmp) / "store"
        with start_stack(home, fs_install(root), [], fast=False) as stack:
            time.sleep(5)
            idle = memory(stack.server)
            deploy_sample_app(stack, "rss-app")
            stack.cli.run("backup", "create", "rss-1", "--include-namespaces", "rss-app", "--wait")
            stack.kubectl("delete", "namespace", "rss-app", "--wait=true")
            stack.cli.run("restore", "create", "rss-1-r", "--from-backup", "rss-1", "--wait")
            time.sleep(5)
            after = memory(stack.server)
    return {"idle_after_start": idle, "idle_after_backup_and_restore": after}


# ----------------------------------------------------------------------------------------- throughput
def _timed_phase(kube: KubeClient, gvr: GroupVersionResource, body: Obj, timeout: float = 1800) -> Obj:
    """Create `body`, poll its phase every 50 ms until it leaves New/InProgress; seconds and status."""
    name = body["metadata"]["name"]
    t0 = time.perf_counter()
    kube.create(gvr, body, NS)
    while time.perf_counter() - t0 < timeout:
        try:
            status = kube.get(gvr, name, NS).get("status") or {}
        except NotFound:
            status = {}
        if status.get("phase") not in (None, "", "New", "InProgress", "WaitingForPluginOperations"):
            return {"seconds": time.perf_counter() - t0, "status": status}
        time.sleep(0.05)
    raise TimeoutError(f"{name} did not finish in {timeout}s")


def _child(*args: str) -> Obj:
    proc = subprocess.run(
        [sys.executable, __file__, "child", *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed:\n{proc.stderr[-3000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def bench_throughput(objects: int, qps: float) -> Obj:
    sys.path.insert(0, str(REPO / "bench"))
    from backup_bench import load_cluster

    report: Obj = {"objects_requested": objects, "client_qps": qps}
    flags = ["--client-qps", str(qps)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "store"
        with start_stack(Path(tmp) / "a", fs_install(root), flags, fast=False) as a:
            report["load_seconds"] = round(load_cluster(a.sim.url, objects), 1)
            kube_settings = KubeSettings(qps=qps)
            with KubeClient.from_kubeconfig(a.sim.kubeconfig, settings=kube_settings) as kube:
                body = {"apiVersion": "veloro.io/v1", "kind": "Backup", "spec": SPEC}
                body["metadata"] = {"name": "srv", "namespace": NS}
                report["server_backup"] = _summary(_timed_phase(kube, BACKUPS, body), "itemsBackedUp")
            engine = a.server.metric("veloro_backup_duration_seconds_sum")
            report["server_backup"]["engine_seconds_from_metrics"] = engine
            report["server_memory_after_backup"] = memory(a.server)
            a.server.stop()
            report["direct_backup"] = _child("backup", str(a.sim.kubeconfig), str(root), str(qps))
            sync = [*flags, "--backup-sync-period", "2s"]
            with start_stack(Path(tmp) / "b", fs_install(root), sync, fast=False) as b:
                report["server_restore"] = _server_restore(b, qps)
                finished = [line for line in b.server.log().splitlines() if "restore finished" in line]
                report["server_restore"]["server_log"] = finished[-1:]
                report["server_memory_after_restore"] = memory(b.server)
        with KubeSimProcess() as c:
            report["direct_restore"] = _child("restore", str(c.kubeconfig), str(root), str(qps))
    for kind in ("backup", "restore"):
        server, direct = report[f"server_{kind}"], report[f"direct_{kind}"]
        report[f"{kind}_server_vs_direct"] = round(direct["seconds"] / server["seconds"], 3)
    return report


def _server_restore(b: Stack, qps: float) -> Obj:
    def synced() -> bool:
        obj = b.veloro_obj("backups", "srv") or {}
        return (obj.get("status") or {}).get("phase") == "Completed"

    wait_for(synced, 60, "backup srv synced into the restore cluster")
    with KubeClient.from_kubeconfig(b.sim.kubeconfig, settings=KubeSettings(qps=qps)) as kube:
        body = {"apiVersion": "veloro.io/v1", "kind": "Restore", "spec": {"backupName": "srv"}}
        body["metadata"] = {"name": "srv-r", "namespace": NS}
        return _summary(_timed_phase(kube, RESTORES, body), "itemsRestored")


def _summary(timed: Obj, done_key: str) -> Obj:
    status = timed["status"]
    items = (status.get("progress") or {}).get(done_key, 0)
    return {
        "phase": status.get("phase"),
        "items": items,
        "seconds": round(timed["seconds"], 2),
        "objects_per_s": round(items / timed["seconds"]),
        "errors": status.get("errors", 0),
        "warnings": status.get("warnings", 0),
    }


def child(kind: str, kubeconfig: str, root: str, qps: str) -> Obj:
    """One direct engine run in this (fresh) process, with the built-in plugin process."""
    import structlog

    from veloro_core.persistence import BackupStore
    from veloro_core.plugins import PluginManager, PluginSettings

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))
    # exactly the server's plugin set: the default built-ins (`veloro run-plugins` and the CSI plugin),
    # no entry points, an empty plugin dir (veloro_core/server/runner.py, _plugin_settings)
    settings = PluginSettings(
        plugin_dirs=[tempfile.mkdtemp(prefix="veloro-bench-plugins-")],
        extra_env={"VELORO_NAMESPACE": NS, "KUBECONFIG": os.path.abspath(kubeconfig)},
        entry_point_group=None,
    )
    kube_settings = KubeSettings(qps=float(qps))
    with (
        KubeClient.from_kubeconfig(kubeconfig, settings=kube_settings) as kube,
        PluginManager.discover(settings) as plugins,
    ):
        object_store = plugins.object_store("veloro.io/filesystem")
        object_store.init({"root": root, "bucket": "backups"})
        store = BackupStore(object_store, "backups")
        plugins.backup_item_actions()  # start the plugin process before timing
        if kind == "backup":
            return _direct_backup(kube, plugins, store)
        return _direct_restore(kube, plugins, store)


def _direct_backup(kube: KubeClient, plugins: Any, store: Any) -> Obj:
    from veloro_core.backup import BackupRunInput, BackupSettings, run_backup

    backup = {"apiVersion": "veloro.io/v1", "kind": "Backup", "spec": SPEC}
    backup["metadata"] = {"name": "direct", "namespace": NS, "uid": "direct-0001"}
    t0 = time.perf_counter()
    result = run_backup(
        BackupRunInput(
            backup=backup,
            kube=kube,
            plugins=plugins,
            store=store,
            settings=BackupSettings(server_namespace=NS),
        )
    )
    seconds = time.perf_counter() - t0
    return {
        "phase": result.phase,
        "items": result.items_backed_up,
        "seconds": round(seconds, 2),
        "objects_per_s": round(result.items_backed_up / seconds),
        "errors": result.error_count,
        "warnings": result.warning_count,
    }


def _direct_restore(kube: KubeClient, plugins: Any, store: Any) -> Obj:
    from veloro_core.restore import RestoreRunInput, RestoreSettings, run_restore

    backup = store.get_backup_metadata("srv")
    restore = {"apiVersion": "veloro.io/v1", "kind": "Restore", "spec": {"backupName": "srv"}}
    restore["metadata"] = {"name": "direct-r", "namespace": NS}
    t0 = time.perf_counter()
    result = run_restore(
        RestoreRunInput(
            restore=restore,
            backup=backup,
            kube=kube,
            plugins=plugins,
            store=store,
            settings=RestoreSettings(server_namespace=NS),
        )
    )
    seconds = time.perf_counter() - t0
    return {
        "phase": result.phase,
        "items": result.items_restored,
        "seconds": round(seconds, 2),
        "objects_per_s": round(result.items_restored / seconds),
        "errors": result.errors.count(),
        "warnings": result.warnings.count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="what", required=True)
    get = sub.add_parser("get")
    get.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    get.add_argument("--runs", type=int, default=5)
    sub.add_parser("rss")
    tp = sub.add_parser("throughput")
    tp.add_argument("--objects", type=int, default=10_000)
    tp.add_argument("--qps", type=float, default=100.0, help="--client-qps of the server = the direct runs'")
    ch = sub.add_parser("child")
    ch.add_argument("args", nargs=4)
    args = parser.parse_args()
    if args.what == "child":
        print(json.dumps(child(*args.args)))
        return
    result = {
        "get": lambda: bench_get(args.sizes, args.runs),
        "rss": bench_rss,
        "throughput": lambda: bench_throughput(args.objects, args.qps),
    }[args.what]()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
