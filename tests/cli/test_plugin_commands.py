"""`veloro plugin list` and `veloro plugin verify` as real processes on fixture plugins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from cli_helpers import veloro
from kit_helpers import BUILTIN_ARGV, broken_plugin, crashing_plugin, example_plugin


def _plugin_dir(tmp_path: Path) -> Path:
    plugins = tmp_path / "plugins"
    example_plugin(plugins / "vendor-a" / "annotate")  # found recursively
    broken_plugin(plugins / "broken")
    (plugins / "README.txt").write_text("not a plugin, not executable")
    return plugins


def test_plugin_list_table(tmp_path: Path) -> None:
    plugins = _plugin_dir(tmp_path)
    result = veloro("plugin", "list", "--plugin-dir", str(plugins), "--no-entry-points")
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.strip().splitlines()]
    assert rows[0] == ["KIND", "NAME", "COMMAND"]
    table = {(r[0], r[1]): r[2:] for r in rows[1:]}
    assert table[("BackupItemAction", "example.com/annotate")] == [str(plugins / "vendor-a" / "annotate")]
    assert table[("RestoreItemAction", "example.com/restore-label")] == [
        str(plugins / "vendor-a" / "annotate")
    ]
    assert table[("ObjectStore", "example.com/broken-store")] == [str(plugins / "broken")]
    # built-ins are listed by default, with the command a host runs
    assert table[("ObjectStore", "veloro.io/filesystem")][-3:] == ["-m", "veloro_core.cli", "run-plugins"]
    assert "not executable" in result.stderr  # the README is skipped with a warning


def test_plugin_list_json_and_yaml_without_builtins(tmp_path: Path) -> None:
    plugins = _plugin_dir(tmp_path)
    args = ["plugin", "list", "--plugin-dir", str(plugins), "--no-builtins", "--no-entry-points"]
    as_json = veloro(*args, "-o", "json")
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert {(p["kind"], p["name"]) for p in data["plugins"]} == {
        ("BackupItemAction", "example.com/annotate"),
        ("RestoreItemAction", "example.com/restore-label"),
        ("ObjectStore", "example.com/broken-store"),
        ("BackupItemAction", "example.com/broken-action"),
    }
    assert data["errors"] == []
    as_yaml = yaml.safe_load(veloro(*args, "-o", "yaml").stdout)
    assert as_yaml == data


def test_plugin_list_reports_a_broken_binary_but_lists_the_rest(tmp_path: Path) -> None:
    plugins = _plugin_dir(tmp_path)
    crashing_plugin(plugins / "crash")
    result = veloro("plugin", "list", "--plugin-dir", str(plugins), "--no-builtins", "--no-entry-points")
    assert result.returncode == 5
    assert "example.com/annotate" in result.stdout
    assert str(plugins / "crash") in result.stderr and "missing credentials" in result.stderr
    assert (
        result.stderr.strip().splitlines()[-1].startswith("Error: 1 plugin binary(ies) could not be listed")
    )
    assert "Traceback" not in result.stderr


def test_plugin_list_empty_dir(tmp_path: Path) -> None:
    result = veloro("plugin", "list", "--plugin-dir", str(tmp_path), "--no-builtins", "--no-entry-points")
    assert result.returncode == 0
    assert result.stdout.strip() == "no plugins found"


def test_verify_passes_on_builtins(tmp_path: Path, cluster_env: str) -> None:
    result = veloro("plugin", "verify", "--config", f"root={tmp_path}", "--bucket", "b", *BUILTIN_ARGV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout
    assert "veloro.io/filesystem" in result.stdout and "exits after Shutdown within 2 s" in result.stdout
    assert result.stdout.strip().splitlines()[-1].endswith("0 failed, 0 skipped")
    assert (tmp_path / "b").is_dir()


def test_verify_fails_on_broken_plugin_with_failing_rows(tmp_path: Path) -> None:
    result = veloro("plugin", "verify", str(broken_plugin(tmp_path / "broken")))
    assert result.returncode == 1
    failing = [line for line in result.stdout.splitlines() if " FAIL " in line]
    assert len(failing) == 6
    assert any("get of a missing key is an error" in line for line in failing)
    assert "Error: plugin conformance failed: 11 passed, 6 failed" in result.stderr
    assert "Traceback" not in result.stderr


def test_verify_json_report(tmp_path: Path) -> None:
    result = veloro("plugin", "verify", "-o", "json", str(broken_plugin(tmp_path / "broken")))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    statuses = {(r["name"], r["check"]): r["status"] for r in report["results"]}
    assert statuses[("example.com/broken-store", "create signed URL")] == "fail"
    assert statuses[("example.com/broken-store", "put/get empty object")] == "pass"


def test_verify_missing_command_exits_3(tmp_path: Path) -> None:
    result = veloro("plugin", "verify", str(tmp_path / "absent"))
    assert result.returncode == 3
    assert "was not found" in result.stderr and "Traceback" not in result.stderr


def test_verify_config_pairs(tmp_path: Path) -> None:
    from veloro_core.cli.plugin import parse_config

    assert parse_config(("a=1,b=2", "c=x,y", "d=")) == {"a": "1", "b": "2", "c": "x,y", "d": ""}


def _example_installed() -> bool:
    from importlib import metadata

    try:
        metadata.distribution("veloro-example-annotate")
    except metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.skipif(not _example_installed(), reason="examples/annotate-plugin is not installed")
def test_plugin_list_finds_entry_point_plugins(tmp_path: Path) -> None:
    result = veloro("plugin", "list", "--no-builtins", "-o", "json")
    assert result.returncode == 0, result.stderr
    plugins = {(p["kind"], p["name"]): p["command"] for p in json.loads(result.stdout)["plugins"]}
    command = plugins[("BackupItemAction", "example.com/annotate")]
    assert command.endswith("-m veloro_sdk.launch veloro_example_annotate.plugin:serve")
