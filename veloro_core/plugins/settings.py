"""Settings of the plugin host, passed explicitly (no globals) to the registry, processes and manager."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path


def default_builtin_commands() -> list[list[str]]:
    """veloro's own plugin executables; asked first, so their names are known before third parties'."""
    return [
        [sys.executable, "-m", "veloro_core.cli", "run-plugins"],
        [sys.executable, "-m", "veloro_plugins.aws"],
        [sys.executable, "-m", "veloro_plugins.csi"],
    ]


@dataclass
class PluginSettings:
    """How plugins are found, started, called and stopped.

    Timeouts are seconds. `call_timeout` bounds every unary call (Init, Execute, CreateSnapshot, ...) so a
    hung plugin cannot hang the server; `transfer_timeout` bounds a whole PutObject/GetObject stream and is
    None (no deadline) by default because its right value depends on the object size.
    """

    plugin_dirs: list[Path | str] = field(default_factory=list)
    builtin_commands: list[list[str]] = field(default_factory=default_builtin_commands)
    # Python distributions declaring `name = module:function` in this entry-point group are plugins too.
    entry_point_group: str | None = "veloro.plugins"
    call_timeout: float | None = 300.0
    transfer_timeout: float | None = None
    start_timeout: float = 60.0
    # go-plugin AutoMTLS: offer our client certificate; plugins that answer with theirs get TLS both ways.
    auto_mtls: bool = True
    # "unix" (go-plugin's choice on Linux) or "tcp" (asks veloro plugins for 127.0.0.1 within the ports).
    transport: str = "unix"
    min_port: int = 10000
    max_port: int = 25000
    # Flags every plugin gets on its command line (plugins must tolerate unknown flags).
    plugin_args: list[str] = field(default_factory=lambda: ["--log-level", "info"])
    extra_env: dict[str, str] = field(default_factory=dict)
    kill_timeout: float = 2.0
    # Instance processes (PluginManager.object_store(name, instance=...)) running at once; starting one
    # more stops the least recently used idle one, which starts again (Init replayed) when next used.
    # None = no bound. Shared processes (instance "") do not count.
    max_instances: int | None = 16
    # Consecutive failed (re)starts of one binary after which its error becomes permanent.
    max_restarts: int = 10
    # Kill a plugin whose call timed out (its handler thread is stuck); it restarts, with Init replayed,
    # on the next call. Other calls in flight on that process fail with PluginUnavailable.
    restart_on_timeout: bool = True
    # Discovery: True = any broken plugin binary fails start-up (as Velero does); False = skip it and keep
    # the error in PluginRegistry.errors.
    strict_discovery: bool = True
    discovery_workers: int = 2
