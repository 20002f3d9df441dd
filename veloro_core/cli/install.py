"""`veloro install`: namespace, CRDs, service account and RBAC, credentials Secret, server Deployment,
node-agent DaemonSet, default locations. `--dry-run -o yaml` prints them all without a cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from veloro_core.cli.backup_flags import OPTIONAL_BOOL
from veloro_core.cli.errors import OperationFailed
from veloro_core.cli.output import dump
from veloro_core.cli.parsing import parse_key_values, split_list


def _build_options(params: dict[str, Any], namespace: str) -> Any:
    """InstallOptions from the flags; usage errors (exit 2) for combinations that cannot work."""
    from veloro_core.install import InstallOptions

    crds_only = params["crds_only"]
    no_bsl = params["no_default_backup_location"]
    if not crds_only:
        if params["secret_file"] is None and not params["no_secret"]:
            raise click.UsageError("give --secret-file FILE with the provider credentials, or --no-secret")
        if params["secret_file"] is not None and params["no_secret"]:
            raise click.UsageError("--secret-file and --no-secret are mutually exclusive")
        if not no_bsl and not (params["provider"] and params["bucket"]):
            raise click.UsageError("--provider and --bucket are required (or --no-default-backup-location)")
    if params["default_volumes_to_fs_backup"] and not params["use_node_agent"]:
        raise click.UsageError("--default-volumes-to-fs-backup needs --use-node-agent")
    vsl_config = parse_key_values(params["snapshot_location_config"], "--snapshot-location-config")
    use_snapshots = params["use_volume_snapshots"]
    create_vsl = bool(vsl_config) if use_snapshots is None else use_snapshots
    if create_vsl and not params["provider"]:
        raise click.UsageError("a volume snapshot location needs --provider")
    secret_file: Path | None = params["secret_file"]
    images = [p for p in split_list(params["plugins"]) if not Path(p).exists()]
    opts = InstallOptions(
        namespace=namespace,
        provider=params["provider"] or "",
        bucket=params["bucket"] or "",
        prefix=params["prefix"] or "",
        backup_location_config=parse_key_values(params["backup_location_config"], "--backup-location-config"),
        snapshot_location_config=vsl_config,
        create_backup_location=not no_bsl,
        create_snapshot_location=create_vsl,
        secret_data=secret_file.read_bytes() if secret_file is not None else None,
        plugin_images=images,
        use_node_agent=params["use_node_agent"],
        privileged_node_agent=params["privileged_node_agent"],
        default_volumes_to_fs_backup=params["default_volumes_to_fs_backup"],
        pod_labels=parse_key_values(params["pod_labels"], "--pod-labels", labels=True),
        pod_annotations=parse_key_values(params["pod_annotations"], "--pod-annotations"),
        image_pull_policy=params["image_pull_policy"],
        crds_only=crds_only,
    )
    if params["image"]:
        opts.image = params["image"]
    return opts


@click.command("install")
@click.option(
    "--provider", default=None, help="ObjectStore plugin of the default location (aws, veloro.io/filesystem)."
)
@click.option("--bucket", default=None, help="Bucket of the default backup storage location.")
@click.option("--prefix", default=None, help="Prefix in the bucket.")
@click.option(
    "--backup-location-config",
    multiple=True,
    metavar="K=V,...",
    help="Config of the default location, e.g. region=us-east-1,s3Url=https://minio:9000.",
)
@click.option(
    "--snapshot-location-config",
    multiple=True,
    metavar="K=V,...",
    help="Config of the default volume snapshot location (creates one), e.g. region=us-east-1.",
)
@click.option(
    "--use-volume-snapshots",
    **OPTIONAL_BOOL,
    help="Create a default volume snapshot location (default: when --snapshot-location-config is given).",
)
@click.option("--no-default-backup-location", is_flag=True, help="Do not create a default backup location.")
@click.option(
    "--secret-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Credentials file of the provider (for aws: an AWS shared credentials file).",
)
@click.option(
    "--no-secret", is_flag=True, help="Create no credentials Secret (e.g. IAM roles, filesystem store)."
)
@click.option(
    "--plugins",
    multiple=True,
    metavar="IMAGE|PATH,...",
    help="Plugin images (init containers of the server) or local executables (copied to --plugin-dir).",
)
@click.option(
    "--plugin-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Plugin directory of a locally run server, for --plugins PATH (default: client config plugin-dir).",
)
@click.option("--image", default=None, help="Server image (default: this client's version).")
@click.option(
    "--image-pull-policy",
    type=click.Choice(["Always", "IfNotPresent", "Never"]),
    default="IfNotPresent",
    show_default=True,
)
@click.option("--use-node-agent", is_flag=True, help="Deploy the node-agent DaemonSet (file-system backups).")
@click.option("--privileged-node-agent", is_flag=True, help="Run the node agent privileged.")
@click.option(
    "--default-volumes-to-fs-backup", is_flag=True, help="Back up every pod volume with the node agent."
)
@click.option("--pod-labels", multiple=True, metavar="K=V,...", help="Extra labels of the veloro pods.")
@click.option(
    "--pod-annotations", multiple=True, metavar="K=V,...", help="Extra annotations of the veloro pods."
)
@click.option("--crds-only", is_flag=True, help="Only the namespace and the CRDs.")
@click.option("--dry-run", is_flag=True, help="Print the manifests (with -o) instead of applying them.")
@click.option(
    "-o",
    "--output",
    type=click.Choice(["json", "yaml"], case_sensitive=False),
    default=None,
    help="With --dry-run: print every manifest as a v1 List (implies --dry-run).",
)
@click.option("--wait", is_flag=True, help="Wait until the server Deployment (and node agent) are available.")
@click.option(
    "--wait-timeout",
    type=click.FloatRange(min=1),
    default=180.0,
    show_default=True,
    help="Seconds --wait waits.",
)
def install(
    dry_run: bool, output: str | None, wait: bool, wait_timeout: float, plugin_dir: Path | None, **params: Any
) -> None:
    """Install veloro into the cluster (idempotent: run it again to update)."""
    from veloro_core.cli.options import server_namespace
    from veloro_core.install import build_manifests

    namespace = server_namespace()
    opts = _build_options(params, namespace)
    objects = build_manifests(opts)
    if dry_run or output:
        if output:
            dump({"apiVersion": "v1", "kind": "List", "items": objects}, output.lower())
        else:
            from veloro_core.install.apply import describe

            for obj in objects:
                click.echo(f"{describe(obj)} (dry run)")
        return
    local_plugins = [Path(p) for p in split_list(params["plugins"]) if Path(p).exists()]
    _apply(objects, namespace, wait, wait_timeout, opts.use_node_agent and not opts.crds_only)
    if local_plugins:
        from veloro_core.cli.plugin_server import copy_local_plugin, resolve_plugin_dir

        target = resolve_plugin_dir(plugin_dir)
        for path in local_plugins:
            click.echo(f"Plugin {path} copied to {copy_local_plugin(path, target)}.")


def _apply(
    objects: list[dict[str, Any]], namespace: str, wait: bool, timeout: float, node_agent: bool
) -> None:
    from veloro_core.cli.cluster import connect
    from veloro_core.install.apply import WaitTargets, WaitTimeout, apply_all, wait_ready

    def report(line: str) -> None:
        click.echo(line)

    with connect() as client:
        try:
            apply_all(client, objects, report)
            if wait and any(o["kind"] == "Deployment" for o in objects):
                click.echo(f"Waiting for the veloro deployment to be available (up to {timeout:g}s)...")
                wait_ready(client, WaitTargets(namespace, node_agent), timeout)
        except WaitTimeout as exc:
            raise OperationFailed(f"veloro was applied but {exc}") from exc
    click.echo(
        f"veloro is installed in namespace {namespace}. Use `kubectl logs deployment/veloro -n {namespace}` "
        "to see the server's log, or run `veloro server` locally against this cluster."
    )
