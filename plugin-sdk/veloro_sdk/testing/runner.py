"""Run the conformance checks: on one in-process implementation (check_plugin) or on every plugin a
command serves, through the real handshake (run_conformance, what `veloro plugin verify` prints)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from veloro_sdk.contracts import (
    CONTRACTS,
    BackupItemAction,
    DeleteItemAction,
    InvalidPluginName,
    ItemBlockAction,
    ObjectStore,
    PluginKind,
    RestoreItemAction,
    VolumeSnapshotter,
    validate_plugin_name,
)
from veloro_sdk.testing.actions import check_action
from veloro_sdk.testing.launcher import (
    SHUTDOWN_GRACE,
    LaunchedPlugin,
    LaunchError,
    LaunchOptions,
    launch_plugin,
)
from veloro_sdk.testing.object_store import DEFAULT_BUCKET, ObjectStoreOptions, check_object_store
from veloro_sdk.testing.report import CheckFailed, CheckResult, Report, Status, run_check
from veloro_sdk.testing.volume_snapshotter import check_volume_snapshotter

PROCESS = "process"


def check_plugin(
    kind: PluginKind | str,
    name: str,
    instance: Any,
    config: dict[str, str] | None = None,
    bucket: str = DEFAULT_BUCKET,
) -> list[CheckResult]:
    """Every check of `kind` on `instance` (an in-process implementation or a typed client)."""
    kind = PluginKind(kind)
    contract = CONTRACTS.get(kind)
    if contract is None or not isinstance(instance, contract):
        expected = contract.__qualname__ if contract else "a known plugin kind"
        return [CheckResult(kind.value, name, "implements the contract", Status.FAIL, f"expected {expected}")]
    if isinstance(instance, ObjectStore):
        return check_object_store(
            instance, ObjectStoreOptions(config=dict(config or {}), bucket=bucket), name
        )
    if isinstance(instance, VolumeSnapshotter):
        return check_volume_snapshotter(instance, config, name)
    if isinstance(instance, BackupItemAction | RestoreItemAction | DeleteItemAction | ItemBlockAction):
        return check_action(instance, kind.value, name)
    return [CheckResult(kind.value, name, "implements the contract", Status.FAIL, "no checks for this kind")]


def _listing_checks(plugin: LaunchedPlugin, label: str) -> list[CheckResult]:
    def listed() -> str:
        if not plugin.plugins:
            raise CheckFailed("ListPlugins returned no plugins")
        seen: set[tuple[str, str]] = set()
        for entry in plugin.plugins:
            try:
                PluginKind(entry.kind)
                validate_plugin_name(entry.name)
            except (ValueError, InvalidPluginName) as exc:
                raise CheckFailed(f"bad entry {entry.kind} {entry.name!r}: {exc}") from exc
            if (entry.kind, entry.name) in seen:
                raise CheckFailed(f"{entry.kind} {entry.name!r} is listed twice")
            seen.add((entry.kind, entry.name))
            if not entry.command:
                raise CheckFailed(f"{entry.kind} {entry.name!r} is listed without a command")
        return f"{len(plugin.plugins)} plugin(s)"

    return [run_check(PROCESS, label, "lists valid, unique plugins", listed)]


def _plugin_checks(plugin: LaunchedPlugin, config: dict[str, str], bucket: str) -> list[CheckResult]:
    results: list[CheckResult] = []
    for entry in plugin.plugins:
        try:
            kind = PluginKind(entry.kind)
        except ValueError:
            continue  # reported by the listing check
        if kind is PluginKind.PLUGIN_LISTER:
            continue
        results.extend(check_plugin(kind, entry.name, plugin.client(kind, entry.name), config, bucket))
    return results


def run_conformance(
    argv: Sequence[str],
    config: dict[str, str] | None = None,
    bucket: str = DEFAULT_BUCKET,
    options: LaunchOptions | None = None,
) -> Report:
    """Start `argv` through the real handshake, check every (kind, name) it lists, then shut it down and
    check it exited within 2 s. Never raises for a plugin's fault: failures are rows of the Report."""
    report = Report(command=list(argv))
    label = _label(argv)
    try:
        with launch_plugin(argv, options or LaunchOptions()) as plugin:
            transport = plugin.handshake.network if plugin.handshake else "?"
            secure = "mTLS" if plugin.handshake and plugin.handshake.server_cert else "plaintext"
            report.results.append(
                CheckResult(
                    PROCESS,
                    label,
                    "handshake, health, connect",
                    Status.PASS,
                    f"{transport}, {secure}, {plugin.handshake_seconds * 1000:.0f} ms to handshake",
                    plugin.handshake_seconds,
                )
            )
            report.extend(_listing_checks(plugin, label))
            report.extend(_plugin_checks(plugin, dict(config or {}), bucket))
    except LaunchError as exc:
        report.results.append(
            CheckResult(PROCESS, label, "handshake, health, connect", Status.FAIL, str(exc))
        )
        return report
    report.results.append(_shutdown_row(plugin, label))
    return report


def _label(argv: Sequence[str]) -> str:
    """How the process rows name the command: program basename plus arguments, kept short."""
    if not argv:
        return "(none)"
    text = " ".join([os.path.basename(argv[0]), *argv[1:]])
    return text if len(text) <= 60 else text[:57] + "..."


def _shutdown_row(plugin: LaunchedPlugin, label: str) -> CheckResult:
    seconds = plugin.shutdown_seconds or 0.0
    if plugin.killed:
        detail = f"did not exit within {SHUTDOWN_GRACE:g} s of Shutdown; killed"
        return CheckResult(PROCESS, label, "exits after Shutdown within 2 s", Status.FAIL, detail, seconds)
    return CheckResult(
        PROCESS, label, "exits after Shutdown within 2 s", Status.PASS, f"{seconds * 1000:.0f} ms", seconds
    )
