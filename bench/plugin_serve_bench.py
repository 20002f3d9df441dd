#!/usr/bin/env python3
"""Plugin-side serve() figures (issue 2): start to handshake, one action call, Shutdown to exit, idle RSS.

    python bench/plugin_serve_bench.py [--starts 15] [--calls 5000]

Method: the fixture plugin of tests/sdk (every kind registered) is started as a real subprocess with the
go-plugin environment; "start" is Popen -> handshake line read. The action call is a raw generated stub
(generated.BackupItemAction/Execute, a 2 KB JSON item, the action annotates it) over the unix socket,
after 500 warm-up calls, timed one by one with perf_counter (host-side latency, client included).
Shutdown is the GRPCController/Shutdown call -> process reaped. RSS is VmRSS after warm-up.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import grpc
from veloro_sdk._proto.generated import BackupItemAction_pb2 as b1
from veloro_sdk._proto.generated import BackupItemAction_pb2_grpc as b1g
from veloro_sdk._proto.plugin import grpc_controller_pb2, grpc_controller_pb2_grpc
from veloro_sdk.handshake import parse_handshake

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "sdk" / "fixtures" / "plugin_all.py"


def start() -> tuple[subprocess.Popen[bytes], str, float]:
    env = dict(os.environ, VELERO_PLUGIN="hello", PLUGIN_PROTOCOL_VERSIONS="2")
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(FIXTURE)], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    return proc, parse_handshake(line).target, time.perf_counter() - t0


def shutdown(proc: subprocess.Popen[bytes], channel: grpc.Channel) -> float:
    t0 = time.perf_counter()
    grpc_controller_pb2_grpc.GRPCControllerStub(channel).Shutdown(grpc_controller_pb2.Empty(), timeout=5)
    proc.wait(5)
    return time.perf_counter() - t0


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--starts", type=int, default=15)
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    starts, stops = [], []
    for _ in range(args.starts):
        proc, target, elapsed = start()
        starts.append(elapsed)
        with grpc.insecure_channel(target) as channel:
            grpc.channel_ready_future(channel).result(timeout=5)
            stops.append(shutdown(proc, channel))
    proc, target, _ = start()
    item = json.dumps(
        {"kind": "ConfigMap", "metadata": {"name": "x", "namespace": "ns"}, "data": {"k": "v" * 1950}}
    )
    request = b1.ExecuteRequest(
        plugin="test.veloro.io/annotate", item=item.encode(), backup=b'{"metadata":{}}'
    )
    with grpc.insecure_channel(target) as channel:
        stub = b1g.BackupItemActionStub(channel)
        for _ in range(500):
            stub.Execute(request)
        calls = []
        for _ in range(args.calls):
            t0 = time.perf_counter()
            stub.Execute(request)
            calls.append(time.perf_counter() - t0)
        rss = next(
            line
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines()
            if line.startswith("VmRSS")
        )
        shutdown(proc, channel)
    print(f"item size: {len(request.item)} bytes")
    print(
        f"start->handshake: median {statistics.median(starts) * 1e3:.1f} ms, "
        f"max {max(starts) * 1e3:.1f} ms (n={len(starts)})"
    )
    print(
        f"action call: p50 {pct(calls, 0.5) * 1e6:.0f} us, p90 {pct(calls, 0.9) * 1e6:.0f} us, "
        f"p99 {pct(calls, 0.99) * 1e6:.0f} us (n={len(calls)})"
    )
    print(f"shutdown->exit: median {statistics.median(stops) * 1e3:.1f} ms, max {max(stops) * 1e3:.1f} ms")
    print(f"idle plugin {rss.split(':')[1].strip()} resident (after {args.calls + 500} calls)")


if __name__ == "__main__":
    main()
