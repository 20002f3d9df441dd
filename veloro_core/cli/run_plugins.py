"""`veloro run-plugins` (hidden): the process that serves every built-in plugin.

Hosts start it as `python -m veloro_core.cli run-plugins` and pass their own flags (`--log-level debug
--features x`), which are accepted and ignored as go-plugin requires. The built-ins are imported by name:
veloro_core must not depend on veloro_plugins (they are a separate process, enforced by import-linter).
"""

from __future__ import annotations

import importlib

import click

BUILTIN_MODULE = "veloro_plugins.builtin"


@click.command(
    "run-plugins",
    hidden=True,
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.argument("ignored", nargs=-1, type=click.UNPROCESSED)
def run_plugins(ignored: tuple[str, ...]) -> None:
    """Serve the built-in plugins over the go-plugin protocol (started by a host, not by people)."""
    del ignored  # hosts' flags: tolerated, not used
    module = importlib.import_module(BUILTIN_MODULE)
    module.main()
