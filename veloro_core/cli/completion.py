"""`veloro completion bash|zsh|fish`: print the shell completion script (click's shell completion).

source <(veloro completion bash)                 # bash, current shell
veloro completion zsh > "${fpath[1]}/_veloro"    # zsh
veloro completion fish > ~/.config/fish/completions/veloro.fish
"""

from __future__ import annotations

import click

COMPLETE_VAR = "_VELORO_COMPLETE"


@click.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the completion script of SHELL (bash, zsh or fish) to stdout."""
    from click.shell_completion import get_completion_class

    from veloro_core.cli.main import cli

    cls = get_completion_class(shell)
    if cls is None:  # click.Choice already refused anything else
        raise click.BadParameter(f"unsupported shell {shell!r}")
    click.echo(cls(cli, {}, "veloro", COMPLETE_VAR).source())
