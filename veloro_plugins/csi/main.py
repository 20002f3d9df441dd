"""Entry point of the CSI plugin executable: serves every CSI action over the go-plugin protocol."""

from __future__ import annotations

import os
import shutil
import sys

CONSOLE_SCRIPT = "veloro-plugin-csi"


def main() -> None:
    """Serve until the host calls Shutdown (the SDK handles the handshake, logs and exit)."""
    from veloro_sdk.serve import PluginServer

    from veloro_plugins.csi import CSI_ACTIONS

    server = PluginServer(command=_command())
    for kind, name, cls in CSI_ACTIONS:
        server.register(kind, name, cls)
    server.serve()


def _command() -> str | None:
    """What ListPlugins reports: under `python -m`, argv[0] is __main__.py, which cannot be exec'd, so
    name the console script when it is installed (None keeps the SDK's default, argv[0])."""
    if os.path.basename(sys.argv[0]) == "__main__.py":
        return shutil.which(CONSOLE_SCRIPT)
    return None


if __name__ == "__main__":
    main()
