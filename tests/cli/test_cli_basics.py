"""The CLI skeleton: usage errors (exit 2, one line, no traceback), global options before or after the
subcommand, help, version, the hidden run-plugins command, and a small import footprint."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from cli_helpers import VELORO, veloro
from click.testing import CliRunner
from kit_helpers import BUILTIN_ARGV, env_without_plugin_cookie
from veloro_sdk.contracts import PluginKind
from veloro_sdk.testing import launch_plugin

from veloro_core.cli import main as cli_main
from veloro_core.cli.options import DEFAULT_NAMESPACE, GlobalOptions, global_options


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-command"], "No such command 'no-such-command'"),
        (["plugin", "list", "--bogus"], "No such option '--bogus'"),
        (["plugin", "verify"], "Missing argument 'COMMAND...'"),
        (["plugin", "verify", "--config", "novalue", "true"], "'novalue' is not KEY=VALUE"),
        (["plugin", "list", "-o", "xml"], "'xml' is not one of"),
        (["plugin", "verify", "--bogus", "x"], "No such option '--bogus'"),
        (["--kubeconfig"], "Option '--kubeconfig' requires an argument"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args: list[str], message: str) -> None:
    result = veloro(*args)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and message in lines[0]
    assert "--help" in lines[0]


def test_help_lists_groups_but_not_hidden_run_plugins() -> None:
    result = veloro("--help")
    assert result.returncode == 0
    assert "plugin" in result.stdout and "run-plugins" not in result.stdout
    for option in ("--kubeconfig", "--kubecontext", "-n, --namespace"):
        assert option in result.stdout
    sub = veloro("plugin", "verify", "-h")
    assert sub.returncode == 0 and "--kubeconfig" in sub.stdout and "COMMAND" in sub.stdout


def test_version() -> None:
    result = veloro("--version")
    assert result.returncode == 0 and result.stdout.startswith("veloro ")


@click.command("probe")
def _probe() -> None:
    opts = global_options()
    click.echo(f"{opts.kubeconfig}|{opts.kubecontext}|{opts.namespace}")


@pytest.fixture
def probe_cli() -> click.Group:
    cli_main.cli.add_command(_probe)
    cli_main.attach_global_options(_probe)
    yield cli_main.cli
    cli_main.cli.commands.pop("probe", None)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["probe"], f"None|None|{DEFAULT_NAMESPACE}"),
        (["--kubeconfig", "k.yaml", "probe"], f"k.yaml|None|{DEFAULT_NAMESPACE}"),
        (["probe", "--kubeconfig", "k.yaml", "--kubecontext", "ctx"], f"k.yaml|ctx|{DEFAULT_NAMESPACE}"),
        (["-n", "ns1", "probe"], "None|None|ns1"),
        (["probe", "--namespace", "ns2"], "None|None|ns2"),
        (["-n", "before", "probe", "-n", "after"], "None|None|after"),
    ],
)
def test_global_options_before_or_after_subcommand(
    probe_cli: click.Group, args: list[str], expected: str
) -> None:
    result = CliRunner().invoke(probe_cli, args, obj=GlobalOptions())
    assert result.exit_code == 0, result.output
    assert result.output.strip() == expected


def test_lazily_loaded_groups_get_global_options() -> None:
    plugin_group = cli_main.cli.get_command(click.Context(cli_main.cli), "plugin")
    assert isinstance(plugin_group, click.Group)
    for command in plugin_group.commands.values():
        assert {"kubeconfig", "kubecontext", "namespace"} <= {p.name for p in command.params}


def test_run_plugins_ignores_unknown_flags() -> None:
    argv = [*BUILTIN_ARGV, "--log-level", "debug", "--features", "EnableCSI", "--weird=1", "-x", "extra"]
    with launch_plugin(argv) as plugin:
        stores = [p.name for p in plugin.plugins if p.kind == PluginKind.OBJECT_STORE]
        assert stores == ["veloro.io/filesystem"]
    assert not plugin.killed


def test_run_plugins_by_hand_prints_a_human_message() -> None:
    result = subprocess.run(
        [*VELORO, "run-plugins"], capture_output=True, text=True, timeout=30, env=env_without_plugin_cookie()
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert "plugin" in result.stderr.lower() and "Traceback" not in result.stderr


def test_cli_import_stays_small() -> None:
    # run-plugins is a plugin process: importing the CLI must not drag in the host, rich or the kit.
    code = (
        "import sys, veloro_core.cli.main as m; m.cli.get_command(None, 'run-plugins'); "
        "heavy = [n for n in ('rich', 'structlog', 'grpc', 'veloro_sdk.testing', 'veloro_core.plugins', "
        "'veloro_plugins', 'yaml', 'kubernetes') if n in sys.modules]; print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
