"""`veloro backup get` latency against kubesim (issue 5: under 1 s).

Starts kubesim, installs veloro with the CLI, creates N Backup objects, then times `veloro backup get`
as a fresh process (interpreter start, imports, kubeconfig load, one list, table) R times.

    python bench/cli_backup_get.py [--backups 200] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from kubesim.testing import KubeSimProcess
from veloro_core.kube import GroupVersionResource, KubeClient, KubeSettings

BACKUPS = GroupVersionResource("veloro.io", "v1", "backups")
VELORO = [sys.executable, "-m", "veloro_core.cli"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backups", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with KubeSimProcess() as sim:
        kubeconfig = ["--kubeconfig", str(sim.kubeconfig)]
        subprocess.run(
            [*VELORO, "install", "--provider", "aws", "--bucket", "b", "--no-secret", *kubeconfig],
            check=True,
            capture_output=True,
        )
        with KubeClient.from_kubeconfig(sim.kubeconfig, settings=KubeSettings(qps=0)) as kube:
            for i in range(args.backups):
                kube.create(
                    BACKUPS,
                    {
                        "apiVersion": "veloro.io/v1",
                        "kind": "Backup",
                        "metadata": {"name": f"b{i:05d}", "namespace": "veloro"},
                        "spec": {"includedNamespaces": ["app"]},
                    },
                    "veloro",
                )
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            out = subprocess.run([*VELORO, "backup", "get", *kubeconfig], check=True, capture_output=True)
            times.append(time.perf_counter() - start)
            assert out.stdout.count(b"\n") == args.backups + 1
    print(
        f"backup get, {args.backups} backups, {args.runs} runs: median {statistics.median(times):.3f}s, "
        f"max {max(times):.3f}s"
    )


if __name__ == "__main__":
    main()
