"""Re-emit a plugin's stderr (hclog JSON lines, or plain text) in the host's structlog log.

One thread per stream; it also keeps the last lines so a plugin that dies before its handshake can be
reported with what it said.
"""

from __future__ import annotations

import collections
import json
import re
import threading
from typing import IO, Any

_LEVELS = {
    "trace": "debug",
    "debug": "debug",
    "info": "info",
    "warn": "warning",
    "warning": "warning",
    "error": "error",
    "fatal": "critical",
    "critical": "critical",
}
_PREFIX = re.compile(r"^\s*\[(TRACE|DEBUG|INFO|WARN|WARNING|ERR|ERROR|FATAL)\]\s*", re.IGNORECASE)
_PANIC = re.compile(r"^(panic: |fatal error: |Traceback \(most recent call last\):)")
# Keys of the re-emitted event that a plugin's own fields must not overwrite.
_RESERVED = frozenset({"event", "plugin", "binary", "stream", "level", "timestamp", "logger"})


def parse_line(line: str) -> tuple[str | None, str, dict[str, Any]]:
    """(level or None when unknown, message, fields) of one stderr line."""
    if line.startswith("{"):
        try:
            data = json.loads(line)
        except ValueError:
            data = None
        if isinstance(data, dict):
            level = _LEVELS.get(str(data.pop("@level", "info")).lower(), "info")
            message = str(data.pop("@message", ""))
            data.pop("@timestamp", None)
            module = data.pop("@module", None)
            fields = {(f"plugin_{k}" if k in _RESERVED else k.lstrip("@")): v for k, v in data.items()}
            if module:
                fields["module"] = module
            return level, message, fields
    match = _PREFIX.match(line)
    if match:
        tag = match.group(1).lower()
        return _LEVELS.get({"err": "error"}.get(tag, tag), "info"), line[match.end() :], {}
    return None, line, {}


class LogPump(threading.Thread):
    """Reads `stream` line by line until EOF and logs each line through `log` (a bound structlog logger).

    Plain lines are logged at `default_level`; once a `panic:` or Python traceback starts, the rest of the
    plain lines are errors (that is the crash report).
    """

    def __init__(self, stream: IO[bytes], log: Any, *, default_level: str = "debug", keep: int = 30) -> None:
        super().__init__(name="veloro-plugin-log", daemon=True)
        self._stream = stream
        self._log = log
        self._default = default_level
        self._panicking = False
        self._tail: collections.deque[str] = collections.deque(maxlen=keep)
        self._tail_lock = threading.Lock()

    def feed(self, raw: bytes) -> None:
        """Log one raw line (also used for stdout bytes read before the pump started)."""
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line:
            return
        with self._tail_lock:
            self._tail.append(line)
        level, message, fields = parse_line(line)
        if level is None:
            if _PANIC.match(line):
                self._panicking = True
            level = "error" if self._panicking else self._default
        try:
            getattr(self._log, level)(message, **fields)
        except Exception:  # a logging failure must never kill the pump (the pipe would fill and block)
            pass

    def run(self) -> None:
        try:
            for raw in iter(self._stream.readline, b""):
                self.feed(raw)
        except (OSError, ValueError):  # the pipe was closed under us at kill time
            pass

    def tail(self, lines: int = 15) -> str:
        with self._tail_lock:
            return "\n".join(list(self._tail)[-lines:])
