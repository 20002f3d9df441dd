"""The process that serves veloro's built-in plugins (`veloro run-plugins`).

To add a built-in: append one Builtin(kind, name, "module:Class") to BUILTINS. The classes are imported
and registered at start-up, so a wrong target or an incomplete class fails loudly at once (the server
checks each class against its contract); keep their modules light to import, because the handshake must
be printed within ~300 ms of exec (heavy SDKs belong in their own plugin process, like veloro_plugins.aws).
"""

from __future__ import annotations

import importlib
import shlex
import sys
from dataclasses import dataclass
from typing import Any

from veloro_sdk.contracts import PluginKind
from veloro_sdk.serve import PluginServer

from veloro_plugins.actions import register_core_actions

# What ListPlugins reports as the command of these plugins (hosts record the argv they used anyway).
COMMAND = [sys.executable, "-m", "veloro_core.cli", "run-plugins"]


@dataclass(frozen=True)
class Builtin:
    kind: PluginKind
    name: str
    target: str  # "module:Class" of the implementation (a zero-argument constructor)


BUILTINS: list[Builtin] = [
    Builtin(
        PluginKind.OBJECT_STORE,
        "veloro.io/filesystem",
        "veloro_plugins.filesystem.store:FileSystemObjectStore",
    ),
    # The core item actions (pods, PVCs, service accounts, ...) register in build_server, below.
]


def load_target(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def build_server(builtins: list[Builtin] | None = None) -> PluginServer:
    server = PluginServer(command=shlex.join(COMMAND))
    for builtin in BUILTINS if builtins is None else builtins:
        server.register(builtin.kind, builtin.name, load_target(builtin.target))
    if builtins is None:
        register_core_actions(server)  # veloro_plugins/actions (owned by the engine's actions work)
    return server


def main() -> None:
    """Serve every built-in until the host calls Shutdown (exits the process)."""
    build_server().serve()
