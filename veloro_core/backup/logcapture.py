"""The backup's own log: every line the engine logs is written to a temp file (logfmt, as Velero's
backup logs read) and forwarded to the process's structlog logger; the file is uploaded gzipped.

Per-item lines (`item()`) go to the file only: at 100k items the console must not be flooded, but the
uploaded log still says what was backed up.
"""

from __future__ import annotations

import re
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

_CHUNK = 1 << 20
_SPECIAL = re.compile(r'[ "=\n\t]')  # one regex scan per value: this runs for every field of every item


def _quote(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    if text and _SPECIAL.search(text) is None:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class CapturedLog:
    """A small structlog-like logger: debug/info/warning/error(event, **fields)."""

    def __init__(self, inner: Any, context: dict[str, Any], temp_dir: str | None = None) -> None:
        self._inner = inner.bind(**context) if inner is not None else None
        self._context = context
        self._suffix = "".join(f" {k}={_quote(v)}" for k, v in context.items())
        self._file: IO[bytes] = tempfile.TemporaryFile(  # noqa: SIM115 - owned by this object, see close()
            prefix="veloro-backup-log-", dir=temp_dir)
        self._lock = threading.Lock()
        self._closed = False
        self._stamp_second = -1
        self._stamp = ""
        self._events: dict[str, str] = {}  # event -> quoted (events are a few constant strings)

    def _write(self, level: str, event: str, fields: dict[str, Any]) -> None:
        now = int(time.time())
        if now != self._stamp_second:  # one strftime per second, not per line
            self._stamp_second = now
            self._stamp = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        stamp = self._stamp
        extra = "".join([f" {k}={_quote(v)}" for k, v in fields.items()])
        msg = self._events.get(event)
        if msg is None:
            msg = self._events[event] = _quote(event)
        line = f"time={stamp} level={level} msg={msg}{self._suffix}{extra}\n".encode()
        with self._lock:
            if not self._closed:
                self._file.write(line)

    def _log(self, level: str, event: str, fields: dict[str, Any]) -> None:
        self._write(level, event, fields)
        if self._inner is not None:
            getattr(self._inner, level)(event, **fields)

    def debug(self, event: str, **fields: Any) -> None:
        self._log("debug", event, fields)

    def info(self, event: str, **fields: Any) -> None:
        self._log("info", event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._log("warning", event, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._log("error", event, fields)

    def item(self, event: str, **fields: Any) -> None:
        """A per-item line: the file only."""
        self._write("info", event, fields)

    def chunks(self) -> Iterator[bytes]:
        """The captured text so far (for upload); logging may continue afterwards."""
        with self._lock:
            self._file.flush()
            size = self._file.tell()
        self._file.seek(0)
        done = 0
        while done < size:
            data = self._file.read(min(_CHUNK, size - done))
            if not data:
                break
            done += len(data)
            yield data
        with self._lock:
            self._file.seek(0, 2)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._file.close()
