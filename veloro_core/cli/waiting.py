"""`--wait` for backups and restores: poll the object and show a live progress bar of items done / total
(status.progress), then turn the final phase into the exit code.

Polling (not a watch) on purpose: one GET every half second is cheap, survives API server restarts and
proxies that cut long requests, and is what a person waiting at a terminal needs.
"""

from __future__ import annotations

import sys
import time

import click

from veloro_core.api import Backup, Restore
from veloro_core.cli.cluster import Cluster
from veloro_core.cli.errors import OperationFailed

POLL_INTERVAL = 0.5
Waitable = Backup | Restore


def _progress(obj: Waitable) -> tuple[int, int]:
    """(done, total) items; total 0 while the server has not counted yet."""
    if isinstance(obj, Backup):
        progress = obj.status.progress
        return (progress.items_backed_up, progress.total_items) if progress else (0, 0)
    restore_progress = obj.status.progress
    return (restore_progress.items_restored, restore_progress.total_items) if restore_progress else (0, 0)


def wait_until_done(
    cluster: Cluster, kind: type[Waitable], name: str, interval: float = POLL_INTERVAL
) -> Waitable:
    """Poll until the phase is terminal, drawing a progress bar on stderr; returns the final object."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    noun = kind.KIND.lower()
    click.echo(
        f"Waiting for {noun} {name} to complete. You may safely press ctrl-c to stop waiting - your {noun} "
        "will continue in the background.",
        err=True,
    )
    console = Console(stderr=True, highlight=False)
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("items"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=not sys.stderr.isatty()) as bar:
        task = bar.add_task("New", total=None)
        for obj in cluster.poll(kind, name, interval):
            done, total = _progress(obj)
            bar.update(task, description=str(obj.phase), completed=done, total=total or None)
            if obj.phase.is_terminal:
                return obj
    raise AssertionError("unreachable: poll() never ends")


def report_outcome(obj: Waitable) -> None:
    """Print how it ended; raise OperationFailed (exit 1) unless the phase is Completed."""
    noun = obj.KIND.lower()
    done, total = _progress(obj)
    phase = str(obj.phase)
    click.echo(
        f"{obj.KIND} {obj.name} finished with phase {phase} ({done}/{total} items, "
        f"{obj.status.errors} errors, {obj.status.warnings} warnings)."
    )
    if phase == "Completed":
        click.echo(f"More: `veloro {noun} describe {obj.name}` and `veloro {noun} logs {obj.name}`.")
        return
    if phase == "PartiallyFailed":
        raise OperationFailed(
            f"{noun} {obj.name} partially failed with {obj.status.errors} error(s)",
            hint=f"see `veloro {noun} logs {obj.name}` and `veloro {noun} describe {obj.name} --details`",
        )
    reasons = list(obj.status.validation_errors)
    if obj.status.failure_reason:
        reasons.append(obj.status.failure_reason)
    detail = ": " + "; ".join(reasons) if reasons else ""
    raise OperationFailed(
        f"{noun} {obj.name} ended in phase {phase}{detail}",
        hint=f"see `veloro {noun} describe {obj.name}` and `veloro {noun} logs {obj.name}`",
    )


def wait_and_report(cluster: Cluster, kind: type[Waitable], name: str) -> None:
    start = time.monotonic()
    final = wait_until_done(cluster, kind, name)
    click.echo(f"Waited {time.monotonic() - start:.1f}s.", err=True)
    report_outcome(final)
