"""Discovery through real plugin processes: plugin dirs, entry points, built-ins, bad binaries."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import pytest
import structlog
from veloro_sdk.contracts import PluginKind

from tests.plugins.helpers import FIXTURES, PidFile, fixture_command, make_executable
from veloro_core.plugins import PluginDiscoveryError, PluginRegistry, PluginSettings, UnknownPluginError


def test_plugin_dir_is_walked_recursively_and_skips_non_executables(
    settings: PluginSettings, tmp_path: Path, pidfile: PidFile
) -> None:
    plugins = tmp_path / "plugins"
    (plugins / "vendor" / "nested").mkdir(parents=True)
    raw = make_executable(plugins / "vendor" / "nested", "raw-plugin", "raw_plugin.py")
    readme = plugins / "README.txt"
    readme.write_text("not a plugin")
    readme.chmod(0o644)
    settings = dataclasses.replace(settings, plugin_dirs=[plugins])
    with structlog.testing.capture_logs() as logs:
        registry = PluginRegistry.discover(settings)
    assert [(i.kind, i.name, i.command) for i in registry.plugins()] == [
        (PluginKind.BACKUP_ITEM_ACTION, "example.io/raw-action", (str(raw),)),
        (PluginKind.OBJECT_STORE, "example.io/raw-store", (str(raw),)),
    ]
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert any(e.get("path") == str(readme) and "not executable" in e["event"] for e in warnings)
    pidfile.assert_all_gone()  # discovery stops every binary it started


def test_builtins_come_first_and_a_duplicate_names_both_binaries(
    settings: PluginSettings, tmp_path: Path
) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    dup = make_executable(plugins, "dup-store", "dup_store.py")
    settings = dataclasses.replace(
        settings, builtin_commands=[fixture_command("raw_plugin")], plugin_dirs=[plugins]
    )
    with pytest.raises(PluginDiscoveryError) as info:
        PluginRegistry.discover(settings)
    message = str(info.value)
    assert "duplicate ObjectStore plugin 'example.io/raw-store'" in message
    assert "raw_plugin.py" in message and str(dup) in message


def test_invalid_name_fails_discovery_naming_the_binary(settings: PluginSettings) -> None:
    settings = dataclasses.replace(settings, builtin_commands=[fixture_command("invalid_name")])
    with pytest.raises(
        PluginDiscoveryError, match=r"invalid_name\.py: ObjectStore invalid plugin name 'Not A Valid/Name'"
    ):
        PluginRegistry.discover(settings)


def test_broken_binary_fails_discovery_or_is_skipped(settings: PluginSettings, pidfile: PidFile) -> None:
    commands = [fixture_command("raw_plugin"), fixture_command("exit_before_handshake")]
    strict = dataclasses.replace(settings, builtin_commands=commands, start_timeout=5)
    with pytest.raises(PluginDiscoveryError, match=r"exit_before_handshake\.py: exited before .*exit code 3"):
        PluginRegistry.discover(strict)
    lenient = dataclasses.replace(strict, strict_discovery=False)
    registry = PluginRegistry.discover(lenient)
    assert [i.name for i in registry.plugins()] == ["example.io/raw-action", "example.io/raw-store"]
    assert len(registry.errors) == 1 and "exit_before_handshake.py" in registry.errors[0]
    pidfile.assert_all_gone()


def test_entry_point_distribution_is_discovered_without_importing_it(
    settings: PluginSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    dist_info = site / "veloro_fixture_ep-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: veloro-fixture-ep\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text("[veloro.plugins]\nraw = veloro_fixture_ep:main\n")
    (site / "veloro_fixture_ep.py").write_text(
        "import rawplugin\n"
        "def main():\n"
        "    rawplugin.main(plugins=[('DeleteItemAction', 'example.io/from-entry-point')])\n"
    )
    monkeypatch.syspath_prepend(str(site))
    env = {**settings.extra_env, "PYTHONPATH": os.pathsep.join([str(site), str(FIXTURES)])}
    settings = dataclasses.replace(settings, entry_point_group="veloro.plugins", extra_env=env)
    registry = PluginRegistry.discover(settings)
    info = registry.find(PluginKind.DELETE_ITEM_ACTION, "example.io/from-entry-point")
    assert info is not None
    assert info.command == (sys.executable, "-m", "veloro_sdk.launch", "veloro_fixture_ep:main")
    assert "veloro_fixture_ep" not in sys.modules  # the host never imports a plugin


def test_name_resolution(settings: PluginSettings) -> None:
    from veloro_core.plugins import PluginInfo

    cmd = ("plugin",)
    registry = PluginRegistry(
        [
            PluginInfo(PluginKind.OBJECT_STORE, "velero.io/aws", cmd),
            PluginInfo(PluginKind.OBJECT_STORE, "veloro.io/aws", cmd),
            PluginInfo(PluginKind.OBJECT_STORE, "velero.io/gcp", cmd),
            PluginInfo(PluginKind.VOLUME_SNAPSHOTTER, "example.io/ebs", cmd),
        ]
    )
    assert registry.resolve(PluginKind.OBJECT_STORE, "aws").name == "veloro.io/aws"  # veloro.io first
    assert registry.resolve(PluginKind.OBJECT_STORE, "gcp").name == "velero.io/gcp"  # then velero.io
    assert registry.resolve(PluginKind.OBJECT_STORE, "velero.io/aws").name == "velero.io/aws"
    with pytest.raises(UnknownPluginError) as info:
        registry.resolve(PluginKind.OBJECT_STORE, "azure")
    message = str(info.value)
    assert "no ObjectStore plugin named 'azure'" in message
    assert "veloro.io/azure, velero.io/azure" in message
    assert "known ObjectStore plugins: velero.io/aws, velero.io/gcp, veloro.io/aws" in message
    assert "example.io/ebs" not in message  # only names of the asked kind
