"""`veloro server`: run the controllers (see veloro_core.server and docs/operations.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import click

from veloro_core.cli.errors import UsageError
from veloro_core.cli.options import global_options, server_namespace

if TYPE_CHECKING:
    from veloro_core.server.settings import ServerSettings


def _duration(name: str, text: str) -> timedelta:
    from veloro_core.api import DurationError, parse_duration

    try:
        return parse_duration(text)
    except DurationError as exc:
        raise UsageError(f"--{name}: {exc}") from exc


def _csv(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _provider_map(text: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in _csv(text):
        provider, sep, name = part.partition(":")
        if not sep or not provider or not name:
            raise UsageError(
                f"--default-volume-snapshot-locations: {part!r} is not PROVIDER:NAME "
                "(e.g. aws:vsl-1,gcp:vsl-2)"
            )
        out[provider] = name
    return out


@click.command("server")
@click.option(
    "--plugin-dir",
    "plugin_dirs",
    multiple=True,
    default=["/plugins"],
    show_default=True,
    help="Directory of plugin executables (repeatable).",
)
@click.option(
    "--entry-point-plugins/--no-entry-point-plugins",
    default=True,
    show_default=True,
    help="Also load plugins that installed Python distributions declare (entry-point group veloro.plugins).",
)
@click.option(
    "--metrics-address",
    default=":8085",
    show_default=True,
    help="Where /metrics, /healthz and /readyz are served (HOST:PORT).",
)
@click.option(
    "--download-address",
    default="127.0.0.1:8086",
    show_default=True,
    help="Where files of filesystem stores are served to DownloadRequests (HOST:PORT).",
)
@click.option(
    "--download-url-base",
    default="",
    help="URL clients use to reach --download-address "
    "(default http://<download-address>), e.g. behind a port-forward or a Service.",
)
@click.option("--default-backup-ttl", default="720h", show_default=True, help="TTL of backups that set none.")
@click.option(
    "--backup-sync-period",
    default="1m",
    show_default=True,
    help="How often locations are synced into the cluster (0 disables).",
)
@click.option(
    "--store-validation-frequency",
    default="1m",
    show_default=True,
    help="How often locations are validated (a location's validationFrequency wins).",
)
@click.option(
    "--garbage-collection-frequency",
    default="1h",
    show_default=True,
    help="How often expired backups are collected.",
)
# Velero's 20 qps is why its restores crawl (~10 objects/s in the field notes). The engines already bound
# their concurrency (16 restore workers), so this is a ceiling, not the pace: lower it on a fragile cluster.
@click.option(
    "--client-qps",
    type=float,
    default=1000.0,
    show_default=True,
    help="Kubernetes API queries/s (0: no limit).",
)
@click.option("--client-burst", type=int, default=2000, show_default=True, help="Kubernetes API burst.")
@click.option(
    "--client-page-size", type=int, default=500, show_default=True, help="List page size (0 = unpaged)."
)
@click.option(
    "--restore-resource-priorities",
    default=None,
    help="Comma-separated restore order; replaces the default list.",
)
@click.option(
    "--default-volume-snapshot-locations",
    default=None,
    help="PROVIDER:NAME pairs used by backups that name no snapshot location.",
)
@click.option(
    "--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info", show_default=True
)
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--disable-controllers", default="", help="Comma-separated controllers not to run.")
@click.option(
    "--backup-concurrency",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Backups run at the same time.",
)
@click.option(
    "--restore-concurrency",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Restores run at the same time.",
)
@click.option(
    "--terminating-timeout",
    default="30s",
    show_default=True,
    help="On SIGTERM, how long running backups/restores may take to finish.",
)
@click.option(
    "--leader-elect/--no-leader-elect",
    default=True,
    show_default=True,
    help="Use a Lease so that only one server acts.",
)
@click.option("--leader-lease-duration", default="15s", show_default=True, hidden=True)
@click.option("--leader-renew-deadline", default="10s", show_default=True, hidden=True)
@click.option("--leader-retry-period", default="2s", show_default=True, hidden=True)
@click.option(
    "--download-url-ttl",
    default="10m",
    show_default=True,
    hidden=True,
    help="How long download URLs (and their tokens) live.",
)
@click.option(
    "--tick-period",
    default="1s",
    show_default=True,
    hidden=True,
    help="How often schedules, locations and syncs are checked.",
)
def server(**opts: Any) -> None:
    """Run the veloro server: the backup, restore, schedule, gc, deletion, sync, location, download and
    status controllers, against --kubeconfig or in-cluster."""
    from veloro_core.server.logs import configure_server_logging
    from veloro_core.server.runner import Server

    settings = build_settings(opts)
    configure_server_logging(settings.log_level, settings.log_format)
    code = Server(settings).run()
    if code:
        raise click.exceptions.Exit(code)


def build_settings(opts: dict[str, Any]) -> ServerSettings:
    from veloro_core.kube import KubeSettings
    from veloro_core.server.settings import CONTROLLERS, LeaderSettings, ServerSettings, parse_address

    def text(key: str) -> str:
        return str(opts[key]) if opts.get(key) is not None else ""

    disabled = frozenset(_csv(text("disable_controllers")))
    unknown = sorted(disabled - set(CONTROLLERS))
    if unknown:
        raise UsageError(
            f"--disable-controllers: unknown controller(s) {', '.join(unknown)}; "
            f"known: {', '.join(CONTROLLERS)}"
        )
    for key in ("metrics_address", "download_address"):
        try:
            parse_address(text(key))
        except ValueError as exc:
            raise UsageError(f"--{key.replace('_', '-')}: {exc}") from exc
    g = global_options()
    lease = LeaderSettings(
        enabled=bool(opts["leader_elect"]),
        lease_duration=_duration("leader-lease-duration", text("leader_lease_duration")).total_seconds(),
        renew_deadline=_duration("leader-renew-deadline", text("leader_renew_deadline")).total_seconds(),
        retry_period=_duration("leader-retry-period", text("leader_retry_period")).total_seconds(),
    )
    priorities = _csv(text("restore_resource_priorities")) or None
    return ServerSettings(
        namespace=server_namespace(),
        kubeconfig=g.kubeconfig,
        kubecontext=g.kubecontext,
        kube=KubeSettings(
            qps=float(opts["client_qps"]),
            burst=int(opts["client_burst"]),
            page_size=int(opts["client_page_size"]),
        ),
        plugin_dirs=[str(p) for p in opts["plugin_dirs"]],
        entry_point_plugins=bool(opts["entry_point_plugins"]),
        metrics_address=text("metrics_address"),
        download_address=text("download_address"),
        download_url_base=text("download_url_base"),
        default_backup_ttl=_duration("default-backup-ttl", text("default_backup_ttl")),
        backup_sync_period=_duration("backup-sync-period", text("backup_sync_period")),
        store_validation_frequency=_duration(
            "store-validation-frequency", text("store_validation_frequency")
        ),
        gc_frequency=_duration("garbage-collection-frequency", text("garbage_collection_frequency")),
        restore_resource_priorities=priorities,
        default_volume_snapshot_locations=_provider_map(text("default_volume_snapshot_locations")),
        disabled_controllers=disabled,
        backup_concurrency=int(opts["backup_concurrency"]),
        restore_concurrency=int(opts["restore_concurrency"]),
        terminating_timeout=_duration("terminating-timeout", text("terminating_timeout")).total_seconds(),
        tick_period=_duration("tick-period", text("tick_period")).total_seconds(),
        download_url_ttl=_duration("download-url-ttl", text("download_url_ttl")),
        leader=lease,
        log_level=text("log_level"),
        log_format=text("log_format"),
    )
