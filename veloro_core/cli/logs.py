"""Logging of CLI commands: structlog to stderr (stdout carries the command's output, e.g. `-o json`),
warnings and errors only unless VELORO_LOG_LEVEL says otherwise. Called by the commands that log (lazily,
so that commands which do not log never import structlog)."""

from __future__ import annotations

import logging
import os
import sys

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def configure_cli_logging(default: str = "warning") -> None:
    import structlog

    name = os.environ.get("VELORO_LOG_LEVEL", default).lower()
    level = _LEVELS.get(name, logging.WARNING)
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="%H:%M:%S"),
            structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
