"""Options every command accepts: --kubeconfig, --kubecontext, -n/--namespace.

They are attached to the root group AND to every subcommand, so they work before or after the subcommand
(`veloro --kubeconfig k backup get` and `veloro backup get --kubeconfig k`), as in kubectl and velero.
Their values land in one GlobalOptions object on the root context; a value given later on the command
line (closer to the subcommand) wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import click

DEFAULT_NAMESPACE = "veloro"


@dataclass
class GlobalOptions:
    """`kubeconfig` None means: $KUBECONFIG, then ~/.kube/config, then in-cluster (resolved by the kube
    layer, not here)."""

    kubeconfig: str | None = None
    kubecontext: str | None = None
    namespace: str = DEFAULT_NAMESPACE
    # Names of the options given on the command line: an explicit -n wins over the client config file.
    given: set[str] = field(default_factory=set)


def _store(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value is None or param.name is None:
        return
    root = ctx.find_root()
    settings = root.ensure_object(GlobalOptions)
    setattr(settings, param.name, value)
    settings.given.add(param.name)


def _global_params() -> list[click.Option]:
    return [
        click.Option(
            ["--kubeconfig"],
            metavar="PATH",
            default=None,
            expose_value=False,
            callback=_store,
            help="Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).",
        ),
        click.Option(
            ["--kubecontext"],
            metavar="NAME",
            default=None,
            expose_value=False,
            callback=_store,
            help="Kubeconfig context to use (default: the current context).",
        ),
        click.Option(
            ["-n", "--namespace"],
            metavar="NS",
            default=None,
            expose_value=False,
            callback=_store,
            help=f"Namespace of the veloro server (default: {DEFAULT_NAMESPACE}).",
        ),
    ]


GLOBAL_OPTION_NAMES = frozenset({"kubeconfig", "kubecontext", "namespace"})


def attach_global_options(command: click.Command) -> click.Command:
    """Add the global options to `command` and, for a group, to every command below it (idempotent)."""
    names = {p.name for p in command.params}
    if not GLOBAL_OPTION_NAMES & names:
        command.params.extend(_global_params())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            attach_global_options(sub)
    return command


def global_options(ctx: click.Context | None = None) -> GlobalOptions:
    """The merged global options of the running command."""
    current = ctx or click.get_current_context()
    return current.find_root().ensure_object(GlobalOptions)


def server_namespace(ctx: click.Context | None = None) -> str:
    """The veloro server's namespace: -n, else `namespace` of the client config file, else veloro."""
    opts = global_options(ctx)
    if "namespace" in opts.given:
        return opts.namespace
    from veloro_core.cli.client_config import load_client_config

    return load_client_config().namespace or opts.namespace
