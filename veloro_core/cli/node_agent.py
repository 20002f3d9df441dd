"""`veloro node-agent [server]`: the per-node agent doing file-level volume backups and restores.

`veloro install --use-node-agent` runs it as `veloro node-agent server` in a DaemonSet with the host's
kubelet pods directory mounted at /host_pods; run by hand (e.g. next to kubesim) it is `veloro node-agent
--kubelet-root <kubesim-data-dir>/kubelet --node-name kubesim-node`.
"""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path
from types import FrameType

import click

from veloro_core.cli.options import global_options, server_namespace
from veloro_core.kube import KubeClient, KubeSettings

_META = "veloro.node_agent.options"
HOST_PODS = Path("/host_pods")  # where the install's DaemonSet mounts /var/lib/kubelet/pods


def _pods_dir(kubelet_root: str | None) -> Path:
    if kubelet_root:
        return Path(kubelet_root) / "pods"
    if HOST_PODS.is_dir():
        return HOST_PODS
    return Path("/var/lib/kubelet/pods")


@click.group("node-agent", invoke_without_command=True)
@click.option(
    "--node-name",
    metavar="NAME",
    default=None,
    help="The node whose pods this agent serves (default: $NODE_NAME, then the host name).",
)
@click.option(
    "--kubelet-root",
    metavar="DIR",
    default=None,
    help="The kubelet's root directory; pod volumes are under DIR/pods (default: /host_pods if it "
    "exists, else /var/lib/kubelet).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Volumes backed up or restored at the same time.",
)
@click.option(
    "--restic",
    "restic_binary",
    metavar="PATH",
    default="restic",
    show_default=True,
    help="The restic executable.",
)
@click.option(
    "--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info", show_default=True
)
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def node_agent(
    ctx: click.Context,
    node_name: str | None,
    kubelet_root: str | None,
    workers: int,
    restic_binary: str,
    log_level: str,
    log_format: str,
) -> None:
    """Run the node agent: restic backups and restores of pod volumes on this node."""
    if ctx.invoked_subcommand is not None:
        ctx.meta[_META] = (node_name, kubelet_root, workers, restic_binary, log_level, log_format)
        return
    _run(ctx, node_name, kubelet_root, workers, restic_binary, log_level, log_format)


@node_agent.command("server")
@click.pass_context
def server(ctx: click.Context) -> None:
    """Run the node agent (the form the install's DaemonSet uses; same options as `node-agent`)."""
    _run(ctx, *ctx.meta[_META])


def _run(
    ctx: click.Context,
    node_name: str | None,
    kubelet_root: str | None,
    workers: int,
    restic_binary: str,
    log_level: str,
    log_format: str,
) -> None:
    from veloro_core.nodeagent import AgentSettings, NodeAgent
    from veloro_core.server.logs import configure_server_logging

    configure_server_logging(log_level, log_format)
    opts = global_options(ctx)
    kube = KubeClient.auto(opts.kubeconfig, opts.kubecontext, KubeSettings())
    namespace = os.environ.get("VELORO_NAMESPACE") if "namespace" not in opts.given else None
    settings = AgentSettings(
        namespace=namespace or server_namespace(ctx),
        node_name=node_name or os.environ.get("NODE_NAME") or socket.gethostname(),
        pods_dir=_pods_dir(kubelet_root),
        workers=workers,
        restic_binary=restic_binary,
    )
    agent = NodeAgent(kube, settings)

    def _stop(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        agent.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        agent.run()
    finally:
        kube.close()
