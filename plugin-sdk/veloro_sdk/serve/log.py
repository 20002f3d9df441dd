"""hclog-style JSON logs on stderr, one object per line, which go-plugin hosts (and veloro's) re-emit
with the plugin's name bound:

    {"@level":"info","@message":"uploaded","@module":"my-plugin","@timestamp":"...","bucket":"b"}

Built on the standard library's logging (the SDK has no logging dependency), so that the logs of the
libraries a plugin uses (boto3, ...) come out in the same format. Plugin authors use get_logger().
"""

from __future__ import annotations

import datetime
import json
import logging
import sys
import threading
from typing import Any

TRACE = 5
_HCLOG_LEVELS = {TRACE: "trace", logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warn"}
# Velero's --log-level values (logrus) and hclog's, to stdlib levels.
LEVEL_NAMES = {
    "trace": TRACE,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "fatal": logging.CRITICAL,
    "panic": logging.CRITICAL,
}
_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_configured = threading.Lock()
_handler: logging.Handler | None = None


def hclog_timestamp(epoch: float) -> str:
    """Go layout 2006-01-02T15:04:05.000000Z07:00, in UTC (so the zone is `Z`)."""
    dt = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class HclogFormatter(logging.Formatter):
    """One JSON object per record; `extra` keys and bound fields become top-level fields."""

    def format(self, record: logging.LogRecord) -> str:
        level = _HCLOG_LEVELS.get(record.levelno, "error" if record.levelno >= logging.ERROR else "info")
        out: dict[str, Any] = {
            "@level": level,
            "@message": record.getMessage(),
            "@module": record.name,
            "@timestamp": hclog_timestamp(record.created),
        }
        for key, value in record.__dict__.items():
            if key not in _RESERVED:
                out[key] = value
        if record.exc_info and record.exc_info[1] is not None:
            out.setdefault("error", f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}")
            out["stack"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False, separators=(",", ":"))


def configure(level: int = logging.INFO) -> None:
    """Send every log record of the process to stderr as hclog JSON (idempotent; re-calling sets level)."""
    global _handler
    with _configured:
        root = logging.getLogger()
        if _handler is None:
            _handler = logging.StreamHandler(sys.__stderr__ or sys.stderr)
            _handler.setFormatter(HclogFormatter())
            for old in list(root.handlers):
                root.removeHandler(old)
            root.addHandler(_handler)
        root.setLevel(level)


class PluginLogger:
    """A logger taking fields as keyword arguments: `log.info("uploaded", bucket=b, key=k)`."""

    __slots__ = ("_fields", "_logger")

    def __init__(self, logger: logging.Logger, fields: dict[str, Any] | None = None) -> None:
        self._logger = logger
        self._fields = fields or {}

    def bind(self, **fields: Any) -> PluginLogger:
        return PluginLogger(self._logger, {**self._fields, **fields})

    def _log(self, level: int, message: str, fields: dict[str, Any], exc_info: bool = False) -> None:
        if self._logger.isEnabledFor(level):
            extra = {k: v for k, v in {**self._fields, **fields}.items() if k not in _RESERVED}
            self._logger.log(level, message, extra=extra, exc_info=exc_info, stacklevel=3)

    def trace(self, message: str, **fields: Any) -> None:
        self._log(TRACE, message, fields)

    def debug(self, message: str, **fields: Any) -> None:
        self._log(logging.DEBUG, message, fields)

    def info(self, message: str, **fields: Any) -> None:
        self._log(logging.INFO, message, fields)

    def warning(self, message: str, **fields: Any) -> None:
        self._log(logging.WARNING, message, fields)

    warn = warning

    def error(self, message: str, **fields: Any) -> None:
        self._log(logging.ERROR, message, fields)

    def exception(self, message: str, **fields: Any) -> None:
        """An error with the current exception's traceback in the `stack` field."""
        self._log(logging.ERROR, message, fields, exc_info=True)


def get_logger(name: str = "plugin", **fields: Any) -> PluginLogger:
    """A logger for plugin code; logs go to stderr as hclog JSON (configured on first use)."""
    if _handler is None:
        configure()
    return PluginLogger(logging.getLogger(name), fields)
