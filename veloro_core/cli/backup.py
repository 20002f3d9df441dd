"""`veloro backup create|get|describe|logs|download|delete`.

The CLI only writes custom resources: a Backup (the server runs it), DownloadRequests (the server answers
with a URL) and DeleteBackupRequests (the server deletes the backup with its data, as in Velero).
"""

from __future__ import annotations

import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from veloro_core.cli.backup_flags import (
    backup_spec_options,
    build_backup_spec,
    metadata_options,
    output_create_option,
)
from veloro_core.cli.errors import OperationFailed, UsageError
from veloro_core.cli.output import dump, output_option
from veloro_core.cli.parsing import parse_key_values

SCHEDULE_TIMESTAMP = "%Y%m%d%H%M%S"
TIMEOUT_OPTION = click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=60.0,
    show_default=True,
    help="Seconds to wait for the server to answer the download request.",
)
_SPEC_FLAGS = frozenset(
    {
        "include_namespaces",
        "exclude_namespaces",
        "include_resources",
        "exclude_resources",
        "include_cluster_resources",
        "include_cluster_scoped_resources",
        "exclude_cluster_scoped_resources",
        "include_namespace_scoped_resources",
        "exclude_namespace_scoped_resources",
        "selector",
        "or_selector",
        "ordered_resources",
        "ttl",
        "storage_location",
        "volume_snapshot_locations",
        "snapshot_volumes",
        "snapshot_move_data",
        "default_volumes_to_fs_backup",
        "csi_snapshot_timeout",
        "item_operation_timeout",
        "resource_policies_configmap",
    }
)


@click.group("backup")
def backup() -> None:
    """Work with backups."""


def build_backup(
    name: str | None, from_schedule: str | None, flags: dict[str, Any], cluster_factory: Any
) -> Any:
    """The Backup to create (the schedule is read from the cluster when --from-schedule is given)."""
    from veloro_core.api import SCHEDULE_NAME_LABEL, Backup, Schedule

    labels = parse_key_values(flags.pop("labels", ()), "--labels", labels=True)
    annotations = parse_key_values(flags.pop("annotations", ()), "--annotations")
    if from_schedule:
        given = sorted(f for f in _SPEC_FLAGS if flags.get(f) not in (None, ()))
        if given:
            raise click.UsageError(
                f"--from-schedule takes the spec from the schedule; drop --{given[0].replace('_', '-')}"
            )
        schedule = cluster_factory().get(Schedule, from_schedule)
        spec = schedule.spec.template
        name = name or schedule.backup_name(datetime.now(UTC))
        labels = {
            **(spec.metadata.labels if spec.metadata else {}),
            **labels,
            SCHEDULE_NAME_LABEL: from_schedule,
        }
    else:
        if not name:
            raise click.UsageError("a backup NAME is required (or --from-schedule SCHEDULE)")
        spec = build_backup_spec(flags)
    metadata: dict[str, Any] = {"name": name}
    if labels:
        metadata["labels"] = labels
    if annotations:
        metadata["annotations"] = annotations
    return Backup(metadata=metadata, spec=spec)


@backup.command("create")
@click.argument("name", required=False)
@backup_spec_options
@metadata_options
@click.option("--from-schedule", default=None, help="Create the backup from this schedule's template, now.")
@click.option("-w", "--wait", is_flag=True, help="Wait for the backup to finish, showing its progress.")
@output_create_option
def create(name: str | None, from_schedule: str | None, wait: bool, output: str | None, **flags: Any) -> None:
    """Create a backup NAME (the server runs it; --wait follows it to the end)."""
    from veloro_core.cli.cluster import Cluster

    cluster: list[Cluster] = []

    def factory() -> Cluster:
        if not cluster:
            cluster.append(Cluster.from_context())
        return cluster[0]

    obj = build_backup(name, from_schedule, flags, factory)
    if output:
        if wait:
            raise click.UsageError("--wait cannot be used with -o/--output (nothing is created)")
        obj.namespace = _namespace()
        dump(obj.to_dict(), output.lower())
        return
    created = factory().create(obj)
    click.echo(f'Backup request "{created.name}" submitted successfully.')
    if wait:
        from veloro_core.api import Backup
        from veloro_core.cli.waiting import wait_and_report

        wait_and_report(factory(), Backup, created.name)
    else:
        click.echo(
            f"Run `veloro backup describe {created.name}` or `veloro backup logs {created.name}` "
            "for more details."
        )


def _namespace() -> str:
    from veloro_core.cli.options import server_namespace

    return server_namespace()


@backup.command("get")
@click.argument("names", nargs=-1)
@click.option("-l", "--selector", default=None, help="Only backups with these labels.")
@output_option
def get(names: tuple[str, ...], selector: str | None, output: str) -> None:
    """List backups (all, the NAMEs given, or those matching -l)."""
    from veloro_core.api import Backup
    from veloro_core.cli.cluster import Cluster
    from veloro_core.cli.tables import print_objects

    cluster = Cluster.from_context()
    objects = [cluster.get(Backup, n) for n in names] if names else cluster.list_all(Backup, selector)
    print_objects(objects, output.lower(), kind=Backup, single=len(names) == 1)


@backup.command("describe")
@click.argument("names", nargs=-1)
@click.option("-l", "--selector", default=None, help="Describe the backups with these labels.")
@click.option("--details", is_flag=True, help="Also show the resource list, results and volumes.")
@TIMEOUT_OPTION
def describe(names: tuple[str, ...], selector: str | None, details: bool, timeout: float) -> None:
    """Describe backups in detail (all, the NAMEs given, or those matching -l)."""
    from veloro_core.api import Backup
    from veloro_core.cli.cluster import Cluster
    from veloro_core.cli.describe import describe_backup

    cluster = Cluster.from_context()
    objects = [cluster.get(Backup, n) for n in names] if names else cluster.list_all(Backup, selector)
    for index, obj in enumerate(objects):
        if index:
            click.echo("\n---\n")
        describe_backup(cluster, obj, details, timeout)


_NOT_FINISHED = frozenset({"New", "Queued", "ReadyToStart", "InProgress"})


@backup.command("logs")
@click.argument("name")
@TIMEOUT_OPTION
def logs(name: str, timeout: float) -> None:
    """Print the log of backup NAME (from the backup storage)."""
    from veloro_core.api import Backup, DownloadTargetKind
    from veloro_core.cli.cluster import Cluster
    from veloro_core.cli.downloads import fetch

    cluster = Cluster.from_context()
    obj = cluster.get(Backup, name)
    if str(obj.phase) in _NOT_FINISHED:
        raise OperationFailed(
            f"the logs of backup {name} are not available until it has finished (phase {obj.phase})",
            hint=f"wait for it: `veloro backup describe {name}`",
        )
    data = fetch(cluster, DownloadTargetKind.BACKUP_LOG, name, timeout)
    sys.stdout.buffer.write(data)
    sys.stdout.flush()


@backup.command("download")
@click.argument("name")
@click.option(
    "-o",
    "--output",
    "dest",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: NAME-data.tar.gz in the current directory).",
)
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
@TIMEOUT_OPTION
def download(name: str, dest: Path | None, force: bool, timeout: float) -> None:
    """Download the contents (tarball) of backup NAME."""
    from veloro_core.api import Backup, DownloadTargetKind
    from veloro_core.cli.cluster import Cluster
    from veloro_core.cli.downloads import download_to

    dest = dest or Path(f"{name}-data.tar.gz")
    if dest.exists() and not force:
        raise UsageError(f"{dest} already exists", hint="use --force to overwrite it or -o for another file")
    cluster = Cluster.from_context()
    cluster.get(Backup, name)
    size = download_to(cluster, DownloadTargetKind.BACKUP_CONTENTS, name, dest, timeout)
    click.echo(f"Backup {name} has been successfully downloaded to {dest.resolve()} ({size} bytes).")


def confirm_or_abort(question: str, confirmed: bool) -> bool:
    """True to go on; without --confirm asks on a terminal, and refuses to guess when there is none."""
    if confirmed:
        return True
    if not sys.stdin.isatty():
        raise click.UsageError("add --confirm to do this without an interactive prompt")
    return click.confirm(question, default=False)


@backup.command("delete")
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Delete every backup.")
@click.option("-l", "--selector", default=None, help="Delete the backups with these labels.")
@click.option("--confirm", is_flag=True, help="Do not ask for confirmation.")
def delete(names: tuple[str, ...], all_: bool, selector: str | None, confirm: bool) -> None:
    """Delete backups with all they own (store files, snapshots, restores), via DeleteBackupRequests."""
    from veloro_core.api import Backup, DeleteBackupRequest, DeleteBackupRequestSpec
    from veloro_core.cli.cluster import Cluster

    cluster = Cluster.from_context()
    backups = cluster.select(Backup, names, selector, all_)
    if not backups:
        click.echo("No backups found.")
        return
    listing = ", ".join(b.name for b in backups)
    if not confirm_or_abort(f"Delete backup(s) {listing} and all their data?", confirm):
        click.echo("Nothing deleted.")
        return
    for obj in backups:
        request = DeleteBackupRequest(
            metadata={
                "name": f"{obj.name[:200]}-{secrets.token_hex(4)}",
                "labels": {"veloro.io/backup-name": obj.name[:63], "veloro.io/backup-uid": obj.uid},
            },
            spec=DeleteBackupRequestSpec(backup_name=obj.name),
        )
        cluster.create(request)
        click.echo(f'Request to delete backup "{obj.name}" submitted successfully.')
    click.echo("The backups are deleted in the background, after their data (snapshots, files, restores).")
