"""`veloro uninstall`: delete what `veloro install` created (namespace, CRDs, cluster RBAC).

The data in the backup storage stays: a later install pointed at the same bucket syncs the backups back.
"""

from __future__ import annotations

import click

from veloro_core.cli.backup import confirm_or_abort
from veloro_core.cli.errors import OperationFailed


@click.command("uninstall")
@click.option("--force", "--confirm", "force", is_flag=True, help="Do not ask for confirmation.")
@click.option("--wait", is_flag=True, help="Wait until the namespace is gone.")
@click.option("--wait-timeout", type=click.FloatRange(min=1), default=120.0, show_default=True)
def uninstall(force: bool, wait: bool, wait_timeout: float) -> None:
    """Remove veloro from the cluster: its namespace (and everything in it), its CRDs (and every backup,
    restore and schedule object) and its ClusterRole/ClusterRoleBinding. Backup storage is not touched."""
    from veloro_core.cli.cluster import connect
    from veloro_core.cli.options import server_namespace
    from veloro_core.install.apply import WaitTimeout, wait_gone
    from veloro_core.install.apply import uninstall as remove

    namespace = server_namespace()
    question = f"Remove veloro (namespace {namespace}, its CRDs and cluster RBAC) from the cluster?"
    if not confirm_or_abort(question, force):
        click.echo("Nothing removed.")
        return
    with connect() as client:
        remove(client, namespace, click.echo)
        if wait:
            try:
                wait_gone(client, namespace, wait_timeout)
            except WaitTimeout as exc:
                raise OperationFailed(f"uninstall started but {exc}") from exc
    click.echo("veloro is uninstalled.")
