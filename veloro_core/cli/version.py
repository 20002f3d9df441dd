"""`veloro version`: the client's version and, through a ServerStatusRequest, the server's."""

from __future__ import annotations

from importlib import metadata
from typing import Any

import click

from veloro_core.cli.errors import OperationFailed, VeloroCLIError


def client_version() -> str:
    try:
        return metadata.version("veloro")
    except metadata.PackageNotFoundError:
        return "unknown"


def ask_server(cluster: Any, timeout: float) -> Any:
    """The server's ServerStatusRequest status (version, plugins); OperationFailed when no answer."""
    from veloro_core.api import ServerStatusRequest

    request = ServerStatusRequest(metadata={"name": _request_name()})
    try:
        answered = cluster.request(
            request,
            lambda r: str(r.status.phase or "") == "Processed",
            timeout=timeout,
            what="server status request",
        )
    except TimeoutError as exc:
        raise OperationFailed(str(exc), hint="start the server (veloro server) or raise --timeout") from exc
    return answered.status


def _request_name() -> str:
    import secrets

    return f"veloro-cli-{secrets.token_hex(4)}"


@click.command("version")
@click.option("--client-only", is_flag=True, help="Only the client version (no cluster access).")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="Seconds to wait for the server's answer.",
)
def version(client_only: bool, timeout: float) -> None:
    """Print the client version and the server's (asked through a ServerStatusRequest)."""
    click.echo("Client:")
    click.echo(f"\tVersion: {client_version()}")
    if client_only:
        return
    from veloro_core.cli.errors import translate

    click.echo("Server:")
    try:
        from veloro_core.cli.cluster import Cluster

        status = ask_server(Cluster.from_context(), timeout)
        server = status.server_version or "<unknown>"
    except VeloroCLIError as exc:
        server = f"<error getting server version: {exc.render()}>"
    except Exception as exc:
        translated = translate(exc)
        if translated is None:
            raise
        server = f"<error getting server version: {translated.render()}>"
    click.echo(f"\tVersion: {server}")
