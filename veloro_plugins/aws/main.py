"""Entry point of the aws plugin executable: serves both aws plugins over the go-plugin protocol."""

from __future__ import annotations

import logging
import os
import shutil
import sys

import structlog

from veloro_plugins.aws import PLUGIN_NAME, EBSVolumeSnapshotter, S3ObjectStore

# Libraries whose debug output carries request headers (the Authorization header names the access key);
# at --log-level debug they would otherwise put that on stderr.
CONSOLE_SCRIPT = "veloro-plugin-aws"
QUIET_LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3")


def route_logs_to_host() -> None:
    """Send structlog records through the standard library, where the SDK's hclog JSON handler writes them
    to stderr with their fields, so the host re-emits them at the right level (structlog's default would
    print plain text)."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.render_to_log_kwargs,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def main() -> None:
    """Serve until the host calls Shutdown (the SDK handles the handshake, log setup and exit)."""
    # Imported here so the plugin classes stay importable (tests, in-process use) without the server.
    from veloro_sdk.serve import PluginServer

    route_logs_to_host()
    server = PluginServer(command=_command())
    server.register_object_store(PLUGIN_NAME, S3ObjectStore)
    server.register_volume_snapshotter(PLUGIN_NAME, EBSVolumeSnapshotter)
    server.serve()


def _command() -> str | None:
    """What ListPlugins reports: under `python -m` argv[0] is __main__.py, which cannot be exec'd, so name
    the console script instead when it is installed (None keeps the SDK's default, argv[0])."""
    if os.path.basename(sys.argv[0]) == "__main__.py":
        return shutil.which(CONSOLE_SCRIPT)
    return None


if __name__ == "__main__":
    main()
