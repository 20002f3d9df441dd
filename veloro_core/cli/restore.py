"""`veloro restore create|get|describe|logs|delete`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import click

from veloro_core.cli.backup import TIMEOUT_OPTION, confirm_or_abort
from veloro_core.cli.backup_flags import OPTIONAL_BOOL, metadata_options, output_create_option
from veloro_core.cli.errors import OperationFailed
from veloro_core.cli.output import dump, output_option
from veloro_core.cli.parsing import (
    DURATION,
    parse_key_values,
    parse_label_selector,
    parse_namespace_mappings,
    parse_or_selectors,
    split_list,
)

TIMESTAMP = "%Y%m%d%H%M%S"
F = TypeVar("F", bound=Callable[..., Any])


@click.group("restore")
def restore() -> None:
    """Work with restores."""


def build_restore(name: str | None, flags: dict[str, Any]) -> Any:
    """The Restore the flags describe; usage errors (exit 2) for what cannot work."""
    from veloro_core.api import (
        ExistingResourcePolicy,
        Restore,
        RestoreSpec,
        RestoreStatusSpec,
        TypedLocalObjectReference,
    )

    backup, schedule = flags.get("from_backup"), flags.get("from_schedule")
    if bool(backup) == bool(schedule):
        raise click.UsageError("give exactly one of --from-backup and --from-schedule")
    if flags.get("selector") and flags.get("or_selector"):
        raise click.UsageError("--selector and --or-selector are mutually exclusive")
    source = str(backup or schedule)
    name = name or f"{source}-{datetime.now(UTC).strftime(TIMESTAMP)}"
    status_in = split_list(flags.get("status_include_resources") or ())
    status_out = split_list(flags.get("status_exclude_resources") or ())
    policy = flags.get("existing_resource_policy")
    modifier = flags.get("resource_modifier_configmap")
    spec = RestoreSpec(
        backup_name=backup or "",
        schedule_name=schedule or "",
        included_namespaces=split_list(flags.get("include_namespaces") or ()),
        excluded_namespaces=split_list(flags.get("exclude_namespaces") or ()),
        included_resources=split_list(flags.get("include_resources") or ()),
        excluded_resources=split_list(flags.get("exclude_resources") or ()),
        include_cluster_resources=flags.get("include_cluster_resources"),
        namespace_mapping=parse_namespace_mappings(flags.get("namespace_mappings")),
        label_selector=parse_label_selector(flags.get("selector")),
        or_label_selectors=parse_or_selectors(flags.get("or_selector")),
        restore_pvs=flags.get("restore_volumes"),
        preserve_node_ports=flags.get("preserve_nodeports"),
        restore_status=(
            RestoreStatusSpec(included_resources=status_in, excluded_resources=status_out)
            if status_in or status_out
            else None
        ),
        existing_resource_policy=ExistingResourcePolicy(policy.lower()) if policy else None,
        item_operation_timeout=flags.get("item_operation_timeout"),
        resource_modifier=(TypedLocalObjectReference(kind="configmap", name=modifier) if modifier else None),
    )
    metadata: dict[str, Any] = {"name": name}
    labels = parse_key_values(flags.get("labels") or (), "--labels", labels=True)
    annotations = parse_key_values(flags.get("annotations") or (), "--annotations")
    if labels:
        metadata["labels"] = labels
    if annotations:
        metadata["annotations"] = annotations
    return Restore(metadata=metadata, spec=spec)


def _list(name: str, help_text: str) -> Callable[[F], F]:
    return click.option(name, multiple=True, metavar="A,B", help=help_text)


@restore.command("create")
@click.argument("name", required=False)
@click.option("--from-backup", default=None, help="Backup to restore.")
@click.option("--from-schedule", default=None, help="Restore the newest Completed backup of this schedule.")
@_list("--include-namespaces", "Namespaces to restore (default: all).")
@_list("--exclude-namespaces", "Namespaces not to restore.")
@_list("--include-resources", "Resources to restore (default: all).")
@_list("--exclude-resources", "Resources not to restore.")
@click.option("--include-cluster-resources", **OPTIONAL_BOOL, help="Restore cluster-scoped resources.")
@click.option("-l", "--selector", default=None, help="Only objects matching this label selector.")
@click.option("--or-selector", default=None, help='Objects matching any of the selectors: "a=b or c=d".')
@click.option(
    "--namespace-mappings",
    default=None,
    metavar="SRC:DST,...",
    help="Restore namespace SRC into DST (e.g. prod:staging,web:web-copy).",
)
@click.option(
    "--existing-resource-policy",
    type=click.Choice(["none", "update"], case_sensitive=False),
    default=None,
    help="What to do with objects that exist and differ: none (warn) or update.",
)
@click.option("--restore-volumes", **OPTIONAL_BOOL, help="Restore volumes from snapshots (default true).")
@click.option("--preserve-nodeports", **OPTIONAL_BOOL, help="Keep the node ports of services.")
@_list("--status-include-resources", "Resources whose status is restored too.")
@_list("--status-exclude-resources", "Resources whose status is not restored.")
@click.option("--resource-modifier-configmap", default=None, help="ConfigMap with resource modifier rules.")
@click.option(
    "--item-operation-timeout", type=DURATION, default=None, help="Wait for async plugin operations."
)
@metadata_options
@click.option("-w", "--wait", is_flag=True, help="Wait for the restore to finish, showing its progress.")
@output_create_option
def create(name: str | None, wait: bool, output: str | None, **flags: Any) -> None:
    """Create a restore NAME (default: <source>-YYYYMMDDHHMMSS) from a backup or a schedule."""
    from veloro_core.cli.cluster import Cluster
    from veloro_core.cli.options import server_namespace

    obj = build_restore(name, flags)
    if output:
        if wait:
            raise click.UsageError("--wait cannot be used with -o/--output (nothing is created)")
        obj.namespace = server_namespace()
        dump(obj.to_dict(), output.lower())
        return
    cluster = Cluster.from_context()
    created = cluster.create(obj)
    click.echo(f'Restore request "{created.name}" submitted successfully.')
    if wait:
        from veloro_core.api import Restore
        from veloro_core.cli.waiting import wait_and_report

        wait_and_report(cluster, Restore, created.name)
    else:
        click.echo(
            f"Run `veloro restore describe {created.name}` or `veloro restore logs {created.name}` "
            "for more details."
        )


@restore.command("get")
@click.argument("names", nargs=-1)
@click.option("-l", "--selector", default=None, help="Only restores with these labels.")
@output_option
def get(names: tuple[str, ...], selector: str | None, output: str) -> None:
    """List restores."""
    from veloro_core.api import Restore
    from veloro_core.cli.cluster import Cluster
    from veloro_core.cli.tables import print_objects

    cluster = Cluster.from_context()
    objects = [cluster.get(Restore, n) for n in names] if names else cluster.list_all(Restore, selector)
    print_objects(objects, output.lower(), kind=Restore, single=len(names) == 1)


@restore.command("describe")
@click.argument("names", nargs=-1)
@click.option("-l", "--selector", default=None, help="Describe the restores with these labels.")
@click.option("--details", is_flag=True, help="Also show the resource list and results.")
@TIMEOUT_OPTION
def describe(names: tuple[str, ...], selector: str | None, details: bool, timeout: float) -> None:
    """Describe restores in detail."""
    from veloro_core.api import Restore
    from veloro_core.cli.cluster import Cluster
    from veloro_core.cli.describe import describe_restore

    cluster = Cluster.from_context()
    objects = [cluster.get(Restore, n) for n in names] if names else cluster.list_all(Restore, selector)
    for index, obj in enumerate(objects):
        if index:
            click.echo("\n---\n")
        describe_restore(cluster, obj, details, timeout)


@restore.command("logs")
@click.argument("name")
@TIMEOUT_OPTION
def logs(name: str, timeout: float) -> None:
    """Print the log of restore NAME."""
    from veloro_core.api import DownloadTargetKind, Restore
    from veloro_core.cli.cluster import Cluster
    from veloro_core.cli.downloads import fetch

    cluster = Cluster.from_context()
    obj = cluster.get(Restore, name)
    if str(obj.phase) in ("New", "InProgress"):
        raise OperationFailed(
            f"the logs of restore {name} are not available until it has finished (phase {obj.phase})"
        )
    sys.stdout.buffer.write(fetch(cluster, DownloadTargetKind.RESTORE_LOG, name, timeout))
    sys.stdout.flush()


@restore.command("delete")
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Delete every restore.")
@click.option("-l", "--selector", default=None, help="Delete the restores with these labels.")
@click.option("--confirm", is_flag=True, help="Do not ask for confirmation.")
def delete(names: tuple[str, ...], all_: bool, selector: str | None, confirm: bool) -> None:
    """Delete restores (the restored objects stay in the cluster)."""
    from veloro_core.api import Restore
    from veloro_core.cli.cluster import Cluster

    cluster = Cluster.from_context()
    restores = cluster.select(Restore, names, selector, all_)
    if not restores:
        click.echo("No restores found.")
        return
    if not confirm_or_abort(f"Delete restore(s) {', '.join(r.name for r in restores)}?", confirm):
        click.echo("Nothing deleted.")
        return
    for obj in restores:
        cluster.delete(Restore, obj.name)
        click.echo(f'Restore "{obj.name}" deleted.')
