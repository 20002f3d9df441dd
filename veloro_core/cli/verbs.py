"""kubectl-style verbs: `veloro get backups`, `veloro describe backup NAME`, `veloro create backup NAME`,
`veloro delete backup NAME` - aliases of the same commands under `veloro backup ...` (as in Velero).

Each verb is a group whose subcommands are looked up (and imported) only when used.
"""

from __future__ import annotations

import importlib

import click

from veloro_core.cli.options import attach_global_options

# canonical name -> (command "module:attribute", other accepted names)
Table = dict[str, tuple[str, tuple[str, ...]]]

_GET: Table = {
    "backups": ("veloro_core.cli.backup:get", ("backup",)),
    "restores": ("veloro_core.cli.restore:get", ("restore",)),
    "schedules": ("veloro_core.cli.schedule:get", ("schedule",)),
    "backup-locations": ("veloro_core.cli.backup_location:get", ("backup-location", "bsl")),
    "snapshot-locations": ("veloro_core.cli.snapshot_location:get", ("snapshot-location", "vsl")),
    "plugins": ("veloro_core.cli.plugin_server:get_plugins", ("plugin",)),
}
_DESCRIBE: Table = {
    "backups": ("veloro_core.cli.backup:describe", ("backup",)),
    "restores": ("veloro_core.cli.restore:describe", ("restore",)),
    "schedules": ("veloro_core.cli.schedule:describe", ("schedule",)),
}
_CREATE: Table = {
    "backup": ("veloro_core.cli.backup:create", ("backups",)),
    "restore": ("veloro_core.cli.restore:create", ("restores",)),
    "schedule": ("veloro_core.cli.schedule:create", ("schedules",)),
    "backup-location": ("veloro_core.cli.backup_location:create", ("backup-locations", "bsl")),
    "snapshot-location": ("veloro_core.cli.snapshot_location:create", ("snapshot-locations", "vsl")),
}
_DELETE: Table = {
    "backup": ("veloro_core.cli.backup:delete", ("backups",)),
    "restore": ("veloro_core.cli.restore:delete", ("restores",)),
    "schedule": ("veloro_core.cli.schedule:delete", ("schedules",)),
    "backup-location": ("veloro_core.cli.backup_location:delete", ("backup-locations", "bsl")),
    "snapshot-location": ("veloro_core.cli.snapshot_location:delete", ("snapshot-locations", "vsl")),
}


class VerbGroup(click.Group):
    """A verb whose subcommands are existing commands, found by canonical name or alias."""

    def __init__(self, *args: object, table: Table | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.table = dict(table or {})
        self.aliases = {
            alias: name for name, (_, aliases) in self.table.items() for alias in (name, *aliases)
        }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.table)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        name = self.aliases.get(cmd_name)
        if name is None:
            return None
        module_name, _, attr = self.table[name][0].partition(":")
        command = getattr(importlib.import_module(module_name), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.table[name][0]} is not a click command")
        return attach_global_options(command)


@click.group("get", cls=VerbGroup, table=_GET)
def get() -> None:
    """Get veloro objects: backups, restores, schedules, backup-locations, snapshot-locations, plugins."""


@click.group("describe", cls=VerbGroup, table=_DESCRIBE)
def describe() -> None:
    """Describe veloro objects: backups, restores, schedules."""


@click.group("create", cls=VerbGroup, table=_CREATE)
def create() -> None:
    """Create veloro objects: backup, restore, schedule, backup-location, snapshot-location."""


@click.group("delete", cls=VerbGroup, table=_DELETE)
def delete() -> None:
    """Delete veloro objects: backup, restore, schedule, backup-location, snapshot-location."""
