"""The plugin process: register the actions under their names and serve (go-plugin handshake, gRPC)."""

from __future__ import annotations

from veloro_sdk.serve import PluginServer

from veloro_example_annotate.actions import (
    BACKUP_ACTION_NAME,
    RESTORE_ACTION_NAME,
    AnnotateOnBackup,
    LabelOnRestore,
)


def build_server() -> PluginServer:
    server = PluginServer()
    server.register_backup_item_action(BACKUP_ACTION_NAME, AnnotateOnBackup)
    server.register_restore_item_action(RESTORE_ACTION_NAME, LabelOnRestore)
    return server


def serve() -> None:
    """Entry point (`veloro.plugins` group): serve until the host calls Shutdown; exits the process."""
    build_server().serve()


def main() -> None:
    """Console script: the executable copied into a plugin image."""
    serve()
