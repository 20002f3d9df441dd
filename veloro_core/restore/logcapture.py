"""The restore's own log: every line goes to the server log (structlog) AND to a private temp file,
which is uploaded gzipped as `restore-<name>-logs.gz` (what `veloro restore logs` shows).

Lines use Velero's logfmt shape (`time=... level=info msg="..." key=value`) so users and tools that read
Velero restore logs read these too.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import structlog

from veloro_core.persistence import gzip_stream

_CHUNK = 1 << 20


def _quote(value: Any) -> str:
    text = str(value)
    if text and all(c.isalnum() or c in "-_./:@" for c in text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class RestoreLog:
    """A small structlog-like logger (debug/info/warning/error) that also captures its lines."""

    def __init__(self, log: Any, restore: str, temp_dir: str | None = None) -> None:
        self._log = (log if log is not None else structlog.get_logger("veloro.restore")).bind(restore=restore)
        self._file = tempfile.TemporaryFile(dir=temp_dir)  # noqa: SIM115 - closed by close()
        self._lock = threading.Lock()
        self._restore = restore
        self.lines = 0

    def _write(self, level: str, event: str, fields: dict[str, Any]) -> None:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        parts = [f"time={_quote(now)}", f"level={level}", f"msg={_quote(event)}"]
        parts += [f"{k}={_quote(v)}" for k, v in fields.items()]
        parts.append(f"restore={_quote(self._restore)}")
        line = (" ".join(parts) + "\n").encode("utf-8", "replace")
        with self._lock:
            self._file.write(line)
            self.lines += 1

    def debug(self, event: str, **fields: Any) -> None:
        self._log.debug(event, **fields)  # debug lines stay out of the uploaded log (volume)

    def info(self, event: str, **fields: Any) -> None:
        self._write("info", event, fields)
        self._log.info(event, **fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._write("warning", event, fields)
        self._log.warning(event, **fields)

    def error(self, event: str, **fields: Any) -> None:
        self._write("error", event, fields)
        self._log.error(event, **fields)

    def gzipped(self) -> Iterator[bytes]:
        """The captured lines, gzip-compressed, streamed from the temp file."""
        with self._lock:
            self._file.flush()
            self._file.seek(0)

            def chunks() -> Iterator[bytes]:
                while chunk := self._file.read(_CHUNK):
                    yield chunk

            data = b"".join(gzip_stream(chunks()))
            self._file.seek(0, 2)
        yield data

    def text(self) -> str:
        """Everything captured so far (tests, small logs)."""
        with self._lock:
            self._file.flush()
            self._file.seek(0)
            data = self._file.read()
            self._file.seek(0, 2)
        return data.decode("utf-8", "replace")

    def close(self) -> None:
        self._file.close()
