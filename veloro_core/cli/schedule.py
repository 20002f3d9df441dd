"""`veloro schedule create|get|describe|delete|pause|unpause`."""

from __future__ import annotations

from typing import Any

import click

from veloro_core.cli.backup import confirm_or_abort
from veloro_core.cli.backup_flags import (
    backup_spec_options,
    build_backup_spec,
    metadata_options,
    output_create_option,
)
from veloro_core.cli.output import dump, output_option
from veloro_core.cli.parsing import DURATION, parse_key_values

_MACROS = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})


def check_schedule(expression: str) -> str:
    """A 5-field cron expression, a macro (@daily...) or `@every <duration>`; usage error otherwise."""
    text = " ".join(expression.split())
    if text.startswith("@every "):
        DURATION.convert(text[len("@every ") :], None, None)
        return text
    if text in _MACROS:
        return text
    from croniter import croniter

    if len(text.split()) != 5 or not croniter.is_valid(text):
        raise click.BadParameter(
            f"{expression!r} is not a 5-field cron expression (e.g. '0 1 * * *'), a macro such as @daily, "
            "or '@every <duration>'",
            param_hint="'--schedule'",
        )
    return text


@click.group("schedule")
def schedule() -> None:
    """Work with schedules (backups created on a cron schedule)."""


def build_schedule(name: str, flags: dict[str, Any]) -> Any:
    from veloro_core.api import BackupMetadata, Schedule, ScheduleSpec

    expression = check_schedule(flags.pop("schedule"))
    paused = flags.pop("paused")
    skip = flags.pop("skip_immediately")
    owner_refs = flags.pop("use_owner_references_in_backup")
    labels = parse_key_values(flags.pop("labels", ()), "--labels", labels=True)
    annotations = parse_key_values(flags.pop("annotations", ()), "--annotations")
    template = build_backup_spec(flags)
    if labels:  # as in Velero: the labels go on the schedule and on every backup it creates
        template.metadata = BackupMetadata(labels=dict(labels))
    metadata: dict[str, Any] = {"name": name}
    if labels:
        metadata["labels"] = labels
    if annotations:
        metadata["annotations"] = annotations
    spec = ScheduleSpec(
        template=template,
        schedule=expression,
        paused=paused,
        skip_immediately=skip,
        use_owner_references_in_backup=owner_refs,
    )
    return Schedule(metadata=metadata, spec=spec)


@schedule.command("create")
@click.argument("name")
@click.option("--schedule", required=True, help="Cron expression ('0 1 * * *'), @daily, or '@every 6h'.")
@click.option("--paused", is_flag=True, help="Create the schedule paused.")
@click.option(
    "--skip-immediately",
    type=click.BOOL,
    is_flag=False,
    flag_value=True,
    default=None,
    help="Skip the run that is due right after creation/unpause.",
)
@click.option(
    "--use-owner-references-in-backup",
    type=click.BOOL,
    is_flag=False,
    flag_value=True,
    default=None,
    help="Make the schedule the owner of its backups (deleted with it).",
)
@backup_spec_options
@metadata_options
@output_create_option
def create(name: str, output: str | None, **flags: Any) -> None:
    """Create schedule NAME: a backup with the given flags on every tick of --schedule."""
    from veloro_core.cli.cluster import Cluster
    from veloro_core.cli.options import server_namespace

    obj = build_schedule(name, flags)
    if output:
        obj.namespace = server_namespace()
        dump(obj.to_dict(), output.lower())
        return
    created = Cluster.from_context().create(obj)
    click.echo(f'Schedule "{created.name}" created successfully.')


@schedule.command("get")
@click.argument("names", nargs=-1)
@click.option("-l", "--selector", default=None, help="Only schedules with these labels.")
@output_option
def get(names: tuple[str, ...], selector: str | None, output: str) -> None:
    """List schedules."""
    from veloro_core.api import Schedule
    from veloro_core.cli.cluster import Cluster
    from veloro_core.cli.tables import print_objects

    cluster = Cluster.from_context()
    objects = [cluster.get(Schedule, n) for n in names] if names else cluster.list_all(Schedule, selector)
    print_objects(objects, output.lower(), kind=Schedule, single=len(names) == 1)


@schedule.command("describe")
@click.argument("names", nargs=-1)
@click.option("-l", "--selector", default=None, help="Describe the schedules with these labels.")
def describe(names: tuple[str, ...], selector: str | None) -> None:
    """Describe schedules in detail."""
    from veloro_core.api import Schedule
    from veloro_core.cli.cluster import Cluster
    from veloro_core.cli.describe import describe_schedule

    cluster = Cluster.from_context()
    objects = [cluster.get(Schedule, n) for n in names] if names else cluster.list_all(Schedule, selector)
    for index, obj in enumerate(objects):
        if index:
            click.echo("\n---\n")
        describe_schedule(obj)


def _selection_options(func: Any) -> Any:
    func = click.option("-l", "--selector", default=None, help="The schedules with these labels.")(func)
    func = click.option("--all", "all_", is_flag=True, help="Every schedule.")(func)
    return click.argument("names", nargs=-1)(func)


@schedule.command("delete")
@_selection_options
@click.option("--confirm", is_flag=True, help="Do not ask for confirmation.")
def delete(names: tuple[str, ...], all_: bool, selector: str | None, confirm: bool) -> None:
    """Delete schedules (their backups stay)."""
    from veloro_core.api import Schedule
    from veloro_core.cli.cluster import Cluster

    cluster = Cluster.from_context()
    schedules = cluster.select(Schedule, names, selector, all_)
    if not schedules:
        click.echo("No schedules found.")
        return
    if not confirm_or_abort(f"Delete schedule(s) {', '.join(s.name for s in schedules)}?", confirm):
        click.echo("Nothing deleted.")
        return
    for obj in schedules:
        cluster.delete(Schedule, obj.name)
        click.echo(f'Schedule "{obj.name}" deleted.')


def _set_paused(names: tuple[str, ...], all_: bool, selector: str | None, paused: bool) -> None:
    from veloro_core.api import Schedule
    from veloro_core.cli.cluster import Cluster

    cluster = Cluster.from_context()
    verb = "paused" if paused else "unpaused"
    for obj in cluster.select(Schedule, names, selector, all_):
        if obj.spec.paused == paused:
            click.echo(f'Schedule "{obj.name}" is already {verb}.')
            continue
        cluster.patch(Schedule, obj.name, {"spec": {"paused": paused}})
        click.echo(f'Schedule "{obj.name}" {verb} successfully.')


@schedule.command("pause")
@_selection_options
def pause(names: tuple[str, ...], all_: bool, selector: str | None) -> None:
    """Pause schedules: no backups until unpaused."""
    _set_paused(names, all_, selector, True)


@schedule.command("unpause")
@_selection_options
def unpause(names: tuple[str, ...], all_: bool, selector: str | None) -> None:
    """Unpause schedules."""
    _set_paused(names, all_, selector, False)
