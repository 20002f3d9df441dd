"""The `kubesim` command: `kubesim serve [--host] [--port] [--data-dir] [--kubeconfig-out]`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

import structlog

READY_PREFIX = "kubesim listening on "


def _configure_logging(level: str, fmt: str) -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kubesim", description="A Kubernetes API server simulator.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve the Kubernetes API until SIGTERM/SIGINT")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free port (default)")
    s.add_argument("--data-dir", type=Path, help="persist objects (SQLite WAL) and volumes here")
    s.add_argument(
        "--kubeconfig-out",
        type=Path,
        help="write the kubeconfig here (default DATA_DIR/kubeconfig or a temporary directory)",
    )
    s.add_argument(
        "--volume-dir",
        type=Path,
        help="without --data-dir: where volumes, snapshots and kubelet directories go (default: a temporary "
        "directory removed at exit)",
    )
    s.add_argument("--fsync", action="store_true", help="fsync every write (power-loss durability, slower)")
    s.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    s.add_argument("--log-format", default="console", choices=["console", "json"])
    s.add_argument(
        "--list-snapshot-ttl",
        type=float,
        default=300.0,
        help="seconds a paged list's continue token stays valid (default 300)",
    )
    s.add_argument(
        "--event-log-size",
        type=int,
        default=100_000,
        help="watch events kept for resuming; older resourceVersions answer 410 Gone",
    )
    s.add_argument("--pod-start-delay", type=float, default=0.05, help="seconds until a pod is Running")
    s.add_argument(
        "--exit-on-stdin-eof",
        action="store_true",
        help="stop when standard input closes (a parent process holding a pipe died: no orphaned servers)",
    )
    s.add_argument("--no-controllers", action="store_true", help="serve the API only (no simulated cluster)")
    return p


async def _serve(args: argparse.Namespace) -> int:
    from kubesim.server import DataDirInUse, KubeSim, ServerConfig

    cfg = ServerConfig(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
        volume_dir=args.volume_dir,
        kubeconfig_out=args.kubeconfig_out,
        fsync=args.fsync,
        list_snapshot_ttl=args.list_snapshot_ttl,
        event_log_size=args.event_log_size,
        pod_delay=args.pod_start_delay,
        controllers=not args.no_controllers,
    )
    try:
        sim = KubeSim(cfg)
    except DataDirInUse as exc:
        print(f"kubesim: {exc}", file=sys.stderr)
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.exit_on_stdin_eof:
        _stop_on_eof(loop, stop)
    try:
        url = await sim.start()
    except OSError as exc:
        print(f"kubesim: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    print(f"{READY_PREFIX}{url} kubeconfig={sim.kubeconfig}", flush=True)
    await stop.wait()
    await sim.stop()
    return 0


def _stop_on_eof(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    fd = sys.stdin.fileno()

    def readable() -> None:
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(fd)
            stop.set()

    loop.add_reader(fd, readable)


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    _configure_logging(args.log_level, args.log_format)
    if args.command == "serve":
        sys.exit(asyncio.run(_serve(args)))


if __name__ == "__main__":
    main()
