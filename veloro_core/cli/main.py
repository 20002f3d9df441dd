"""The `veloro` command: a click group whose subcommands live one module per group and load lazily.

Adding a command group: write `veloro_core/cli/<group>.py` with a click command or group, and add one
line to COMMANDS below (name -> "module:attribute"). Nothing is imported until that command runs, which
keeps `veloro run-plugins` (a plugin process, whose start-up time counts) fast. The global options are
attached to every loaded command, so each module can use plain `click` decorators.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from veloro_core.cli import errors
from veloro_core.cli.options import attach_global_options

# name -> "module:attribute" of a click command/group. Hidden commands are listed in HIDDEN too.
COMMANDS: dict[str, str] = {
    "backup": "veloro_core.cli.backup:backup",
    "backup-location": "veloro_core.cli.backup_location:backup_location",
    "client": "veloro_core.cli.client_config:client",
    "completion": "veloro_core.cli.completion:completion",
    "create": "veloro_core.cli.verbs:create",
    "delete": "veloro_core.cli.verbs:delete",
    "describe": "veloro_core.cli.verbs:describe",
    "get": "veloro_core.cli.verbs:get",
    "install": "veloro_core.cli.install:install",
    "node-agent": "veloro_core.cli.node_agent:node_agent",
    "plugin": "veloro_core.cli.plugin:plugin",
    "restore": "veloro_core.cli.restore:restore",
    "run-plugins": "veloro_core.cli.run_plugins:run_plugins",
    "schedule": "veloro_core.cli.schedule:schedule",
    "server": "veloro_core.cli.server:server",
    "snapshot-location": "veloro_core.cli.snapshot_location:snapshot_location",
    "uninstall": "veloro_core.cli.uninstall:uninstall",
    "version": "veloro_core.cli.version:version",
}
HIDDEN = frozenset({"run-plugins"})


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand is used (or help lists it)."""

    def __init__(self, *args: object, lazy: dict[str, str] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | {n for n in self.lazy if n not in HIDDEN})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        module_name, _, attr = self.lazy[cmd_name].partition(":")
        command = getattr(importlib.import_module(module_name), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy[cmd_name]} is not a click command")
        attach_global_options(command)
        self.add_command(command, cmd_name)
        return command


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
)
@click.version_option(package_name="veloro", prog_name="veloro", message="%(prog)s %(version)s")
def cli() -> None:
    """veloro: back up, restore and migrate Kubernetes objects and volumes (Velero-compatible)."""


attach_global_options(cli)


def _usage_message(exc: click.UsageError) -> str:
    message = exc.format_message().strip().replace("\n", " ").rstrip(".")
    command = exc.ctx.command_path if exc.ctx is not None else "veloro"
    return f"Error: {message} (see '{command} --help')"


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: runs the CLI and maps errors to exit codes (never a traceback for a
    user's mistake)."""
    try:
        # Not standalone, so that errors are ours to print. ctx.exit(n) comes back as the return value;
        # commands must not return ints for any other reason.
        result = cli.main(args=argv, prog_name="veloro", standalone_mode=False)
    except click.UsageError as exc:
        click.echo(_usage_message(exc), err=True)
        sys.exit(errors.EXIT_USAGE)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        click.echo("Aborted.", err=True)
        sys.exit(errors.EXIT_INTERRUPTED)
    except click.ClickException as exc:
        click.echo(f"Error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except errors.VeloroCLIError as exc:
        click.echo(f"Error: {' '.join(exc.render().split())}", err=True)
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.exit(errors.EXIT_FAILED)  # `veloro ... | head`: the reader left, nothing to report
    except Exception as exc:
        translated = errors.translate(exc)  # a kube-layer error that escaped a command
        if translated is not None and not os.environ.get("VELORO_DEBUG"):
            click.echo(f"Error: {translated.render()}", err=True)
            sys.exit(translated.exit_code)
        if os.environ.get("VELORO_DEBUG"):
            raise
        click.echo(
            f"Error: internal error: {type(exc).__name__}: {exc} (this is a bug; set VELORO_DEBUG=1 to see "
            "the traceback and please report it)",
            err=True,
        )
        sys.exit(errors.EXIT_INTERNAL)
    sys.exit(result if isinstance(result, int) else errors.EXIT_OK)
