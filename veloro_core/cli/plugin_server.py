"""`veloro plugin add|get|remove`: the plugins of a running server.

`add IMAGE` adds an init container to the server Deployment that copies the image's plugin binaries into
the `plugins` emptyDir (mounted at /target there, at /plugins in the server), as Velero does; the
Deployment rolls and the new server finds them. `add PATH` is for a server run as a local process: the
executable is copied into its plugin directory. `get` asks the running server through a
ServerStatusRequest.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path
from typing import Any

import click

from veloro_core.cli.errors import NotFoundError, OperationFailed, UsageError
from veloro_core.cli.output import dump, output_option, print_table

PLUGINS_VOLUME = "plugins"
SERVER_CONTAINER = "veloro"
DEPLOYMENT_NAME = "veloro"


def resolve_plugin_dir(given: Path | None) -> Path:
    """--plugin-dir, else the client config's plugin-dir; a usage error when neither is set."""
    if given is not None:
        return given
    from veloro_core.cli.client_config import load_client_config

    configured = load_client_config().plugin_dir
    if not configured:
        raise UsageError(
            "no plugin directory to copy into",
            hint="give --plugin-dir (the --plugin-dir of your local `veloro server`) or set it once with "
            "`veloro client config set plugin-dir=DIR`",
        )
    return Path(configured).expanduser()


def copy_local_plugin(source: Path, plugin_dir: Path) -> Path:
    """Copy an executable into plugin_dir (made executable); the server picks it up at its next start."""
    if not source.is_file():
        raise NotFoundError(f"{source} is not a file")
    if not os.access(source, os.X_OK):
        raise UsageError(f"{source} is not executable", hint=f"chmod +x {source}")
    plugin_dir.mkdir(parents=True, exist_ok=True)
    target = plugin_dir / source.name
    shutil.copy2(source, target)
    target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return target


def _server_deployment(client: Any, namespace: str) -> dict[str, Any]:
    from veloro_core.install.apply import DEPLOYMENTS
    from veloro_core.kube import NotFound

    try:
        deployment: dict[str, Any] = client.get(DEPLOYMENTS, DEPLOYMENT_NAME, namespace)
    except NotFound as exc:
        raise NotFoundError(
            f"no veloro server Deployment {DEPLOYMENT_NAME!r} in namespace {namespace!r}",
            hint="install veloro first (veloro install), or for a local server use `plugin add PATH`",
        ) from exc
    return deployment


def add_image_to_pod_spec(pod_spec: dict[str, Any], image: str, pull_policy: str = "IfNotPresent") -> None:
    """Add the plugin init container, and make sure the plugins volume and the server's mount exist."""
    from veloro_core.install import plugin_init_container

    init = pod_spec.setdefault("initContainers", [])
    container = plugin_init_container(image, pull_policy)
    for existing in init:
        if existing.get("image") == image or existing.get("name") == container["name"]:
            raise OperationFailed(f"plugin {image} is already added (init container {existing.get('name')})")
    init.append(container)
    volumes = pod_spec.setdefault("volumes", [])
    if not any(v.get("name") == PLUGINS_VOLUME for v in volumes):
        volumes.append({"name": PLUGINS_VOLUME, "emptyDir": {}})
    for server in pod_spec.get("containers", []):
        if server.get("name") == SERVER_CONTAINER:
            mounts = server.setdefault("volumeMounts", [])
            if not any(m.get("name") == PLUGINS_VOLUME for m in mounts):
                mounts.append({"name": PLUGINS_VOLUME, "mountPath": "/plugins"})


def add(target: str, plugin_dir: Path | None, pull_policy: str) -> None:
    from veloro_core.cli.cluster import connect
    from veloro_core.cli.options import server_namespace
    from veloro_core.install.apply import DEPLOYMENTS

    if Path(target).exists():
        copied = copy_local_plugin(Path(target), resolve_plugin_dir(plugin_dir))
        click.echo(f"Plugin {target} copied to {copied}; restart the local `veloro server` to load it.")
        return
    if "/" in target and target.startswith((".", "/", "~")):
        raise NotFoundError(
            f"{target} does not exist", hint="give the path of a plugin executable or an image"
        )
    namespace = server_namespace()
    with connect() as client:
        deployment = _server_deployment(client, namespace)
        add_image_to_pod_spec(deployment["spec"]["template"]["spec"], target, pull_policy)
        client.update(DEPLOYMENTS, deployment, namespace)
    click.echo(
        f"Plugin {target} added to deployment {namespace}/{DEPLOYMENT_NAME}; the server restarts with it."
    )


def remove(target: str, plugin_dir: Path | None) -> None:
    from veloro_core.cli.cluster import connect
    from veloro_core.cli.options import server_namespace
    from veloro_core.install.apply import DEPLOYMENTS

    if plugin_dir is not None:
        path = plugin_dir / Path(target).name
        if not path.is_file():
            raise NotFoundError(f"no plugin {path.name} in {plugin_dir}")
        path.unlink()
        click.echo(f"Plugin {path} removed; restart the local `veloro server`.")
        return
    namespace = server_namespace()
    with connect() as client:
        deployment = _server_deployment(client, namespace)
        pod_spec = deployment["spec"]["template"]["spec"]
        init = pod_spec.get("initContainers") or []
        kept = [c for c in init if target not in (c.get("name"), c.get("image"))]
        if len(kept) == len(init):
            names = ", ".join(f"{c.get('name')} ({c.get('image')})" for c in init) or "none"
            raise NotFoundError(
                f"no plugin {target!r} in deployment {namespace}/{DEPLOYMENT_NAME}",
                hint=f"plugins there: {names}",
            )
        pod_spec["initContainers"] = kept
        client.update(DEPLOYMENTS, deployment, namespace)
    click.echo(f"Plugin {target} removed from deployment {namespace}/{DEPLOYMENT_NAME}.")


@click.command("add")
@click.argument("target", metavar="IMAGE|PATH")
@click.option(
    "--plugin-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="For PATH: plugin directory of the local server (default: client config plugin-dir).",
)
@click.option(
    "--image-pull-policy",
    type=click.Choice(["Always", "IfNotPresent", "Never"]),
    default="IfNotPresent",
    show_default=True,
)
def add_plugin(target: str, plugin_dir: Path | None, image_pull_policy: str) -> None:
    """Add a plugin: an IMAGE to the server Deployment, or a local executable PATH to a local server."""
    add(target, plugin_dir, image_pull_policy)


@click.command("remove")
@click.argument("target", metavar="NAME|IMAGE")
@click.option(
    "--plugin-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Remove the executable NAME from this local plugin directory instead.",
)
def remove_plugin(target: str, plugin_dir: Path | None) -> None:
    """Remove a plugin: its init container (by name or image) from the server Deployment."""
    remove(target, plugin_dir)


@click.command("get")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds to wait for the server's answer.",
)
@output_option
def get_plugins(timeout: float, output: str) -> None:
    """List the plugins the running server has (asked through a ServerStatusRequest)."""
    from veloro_core.cli.cluster import Cluster
    from veloro_core.cli.version import ask_server

    status = ask_server(Cluster.from_context(), timeout)
    rows = sorted(
        ({"name": p.name, "kind": p.kind} for p in status.plugins), key=lambda r: (r["kind"], r["name"])
    )
    if output == "table":
        print_table(rows, [("name", "NAME"), ("kind", "KIND")], empty="The server reports no plugins.")
    else:
        dump({"serverVersion": status.server_version, "plugins": rows}, output.lower())
