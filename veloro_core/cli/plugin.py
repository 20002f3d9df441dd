"""`veloro plugin ...`: list the plugins a host would find, and verify a plugin with the conformance kit.

`plugin add/get/remove` (the plugins of a running server) live in plugin_server.py and are added below.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import click

from veloro_core.cli.errors import NotFoundError, OperationFailed, PluginFailure
from veloro_core.cli.output import dump, output_option, print_table

DEFAULT_BUCKET = "veloro-conformance"  # the kit's default; repeated here so --help needs no SDK import


@click.group("plugin")
def plugin() -> None:
    """Discover, inspect and verify plugins."""


@plugin.command("list")
@click.option(
    "--plugin-dir",
    "plugin_dirs",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory searched recursively for plugin executables (repeatable).",
)
@click.option("--builtins/--no-builtins", default=True, show_default=True, help="Include veloro's built-ins.")
@click.option(
    "--entry-points/--no-entry-points",
    default=True,
    show_default=True,
    help="Include Python distributions declaring `veloro.plugins` entry points.",
)
@click.option("--start-timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True)
@output_option
def list_plugins(
    plugin_dirs: tuple[Path, ...], builtins: bool, entry_points: bool, start_timeout: float, output: str
) -> None:
    """Start every plugin found, ask it what it serves, and print (kind, name, command).

    A broken plugin does not hide the others: its error is logged on stderr and the exit code is 5.
    """
    from veloro_core.cli.logs import configure_cli_logging
    from veloro_core.plugins.registry import PluginRegistry
    from veloro_core.plugins.settings import PluginSettings

    configure_cli_logging()

    settings = PluginSettings(
        plugin_dirs=list(plugin_dirs),
        entry_point_group="veloro.plugins" if entry_points else None,
        start_timeout=start_timeout,
        strict_discovery=False,
    )
    if not builtins:
        settings.builtin_commands = []
    registry = PluginRegistry.discover(settings)
    rows = [
        {"kind": info.kind.value, "name": info.name, "command": shlex.join(info.command)}
        for info in registry.plugins()
    ]
    if output == "table":
        print_table(
            rows, [("kind", "KIND"), ("name", "NAME"), ("command", "COMMAND")], empty="no plugins found"
        )
    else:
        dump({"plugins": rows, "errors": registry.errors}, output)
    if registry.errors:
        raise PluginFailure(
            f"{len(registry.errors)} plugin binary(ies) could not be listed",
            hint="see the errors logged above; fix or remove those binaries",
        )


def parse_config(values: tuple[str, ...]) -> dict[str, str]:
    """`--config k=v` (repeatable; `k=v1,k2=v2` also accepted as in Velero's --backup-location-config)."""
    config: dict[str, str] = {}
    for value in values:
        for item in _split_pairs(value):
            key, sep, val = item.partition("=")
            if not sep or not key.strip():
                raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--config")
            config[key.strip()] = val
    return config


def _split_pairs(value: str) -> list[str]:
    """`a=1,b=2` is two pairs, but `a=x,y` (no '=' after the comma) keeps the comma in the value."""
    parts = value.split(",")
    pairs: list[str] = []
    for part in parts:
        if pairs and "=" not in part:
            pairs[-1] += "," + part
        else:
            pairs.append(part)
    return pairs


_RESULT_STYLE = {"pass": "green", "fail": "bold red", "skip": "yellow"}


@plugin.command("verify", context_settings={"allow_interspersed_args": False})
@click.option("--config", "configs", multiple=True, metavar="KEY=VALUE", help="Init config (repeatable).")
@click.option(
    "--bucket", default=DEFAULT_BUCKET, show_default=True, help="Bucket the ObjectStore checks use."
)
@click.option("--start-timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True)
@click.option("--call-timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True)
@click.option("--mtls/--no-mtls", default=True, show_default=True, help="Offer go-plugin automatic mTLS.")
@click.option("--transport", type=click.Choice(["unix", "tcp"]), default=None, help="Ask for unix or TCP.")
@output_option
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def verify(
    configs: tuple[str, ...],
    bucket: str,
    start_timeout: float,
    call_timeout: float,
    mtls: bool,
    transport: str | None,
    output: str,
    command: tuple[str, ...],
) -> None:
    """Run the conformance kit against the plugin started by COMMAND [ARGS...].

    The plugin is started through the real handshake; every (kind, name) it lists is checked (ObjectStore
    round trips, actions on sample objects, ...); then it must exit within 2 s of Shutdown. Prints a
    pass/fail table; the exit code is 1 when any check fails. Example:

        veloro plugin verify --config root=/tmp/store veloro-plugin-fs
    """
    from veloro_sdk.testing import LaunchError, LaunchOptions, resolve_command, run_conformance

    if command[0].startswith("-"):
        raise click.NoSuchOption(command[0])
    config = parse_config(configs)
    try:
        argv = resolve_command(command)
    except LaunchError as exc:
        raise NotFoundError(
            str(exc), hint="give a path to the plugin executable or a command on PATH"
        ) from exc
    options = LaunchOptions(
        start_timeout=start_timeout, call_timeout=call_timeout, auto_mtls=mtls, transport=transport
    )
    report = run_conformance(argv, config=config, bucket=bucket, options=options)
    if output == "table":
        _print_report(report.results)
        click.echo(report.summary())
    else:
        dump(report.as_dict(), output)
    if not report.ok:
        raise OperationFailed(f"plugin conformance failed: {report.summary()} ({shlex.join(command)})")


def _print_report(results: list[Any]) -> None:
    rows = [
        {
            "kind": r.kind,
            "name": r.name,
            "check": r.check,
            "result": r.status.value.upper(),
            "detail": r.detail,
            "time": f"{r.seconds * 1000:.0f} ms",
        }
        for r in results
    ]
    print_table(
        rows,
        [
            ("kind", "KIND"),
            ("name", "NAME"),
            ("check", "CHECK"),
            ("result", "RESULT"),
            ("time", "TIME"),
            ("detail", "DETAIL"),
        ],
        styles={"result": lambda v: _RESULT_STYLE.get(str(v).lower(), "")},
    )


def _add_server_commands() -> None:
    from veloro_core.cli.plugin_server import add_plugin, get_plugins, remove_plugin

    for command in (add_plugin, get_plugins, remove_plugin):
        plugin.add_command(command)


_add_server_commands()
