"""The download file server: files of a filesystem store served over HTTP behind expiring tokens.

A file:// URL (what the filesystem object store signs) is useless to a CLI on another machine, so for that
store the download-request controller registers (location, key) under a random token and hands out
`<base>/download/<token>`; the token expires with the request (10 minutes). Tokens live in memory: a
restarted server answers old URLs with 404, and the CLI simply asks again.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

import structlog

from veloro_core.persistence import BackupStore
from veloro_core.server.httpd import BackgroundHTTPServer, BodyHandler

log = structlog.get_logger("veloro.server")
# location name -> a context manager yielding the location's BackupStore
StoreOpener = Callable[[str], AbstractContextManager[BackupStore]]


@dataclass(frozen=True)
class Grant:
    location: str
    key: str
    expires: float  # time.time()


class DownloadTokens:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._grants: dict[str, Grant] = {}

    def grant(self, location: str, key: str, ttl: float) -> str:
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self._lock:
            self._grants = {t: g for t, g in self._grants.items() if g.expires > now}
            self._grants[token] = Grant(location, key, now + ttl)
        return token

    def lookup(self, token: str) -> Grant | None:
        """The grant of a live token; None for an unknown or expired one."""
        with self._lock:
            grant = self._grants.get(token)
        if grant is None or grant.expires <= time.time():
            return None
        return grant


class DownloadServer(BackgroundHTTPServer):
    def __init__(self, host: str, port: int, tokens: DownloadTokens, opener: StoreOpener) -> None:
        self.tokens = tokens
        self.opener = opener
        super().__init__(host, port, _handler_for(self), "veloro-download")

    def stream(self, grant: Grant) -> Iterator[bytes]:
        with self.opener(grant.location) as store:
            yield from store.store.get_object(store.bucket, grant.key)


def _handler_for(server: DownloadServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BodyHandler):
        def do_GET(self) -> None:
            prefix = "/download/"
            grant = server.tokens.lookup(self.path[len(prefix) :]) if self.path.startswith(prefix) else None
            if grant is None:
                self._plain(404, "unknown or expired download token: create a new download request\n")
                return
            try:
                chunks = server.stream(grant)
                first = next(chunks, b"")
            except Exception as exc:  # store errors: say so to the client, keep the server up
                log.warning("download failed", key=grant.key, error=str(exc))
                self._plain(502, f"reading {grant.key} from location {grant.location} failed: {exc}\n")
                return
            # HTTP/1.0: the body ends when the connection closes, so it streams without a length.
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            for chunk in itertools.chain((first,), chunks):
                self.wfile.write(chunk)

        def _plain(self, code: int, text: str) -> None:
            self.send_body(code, text.encode())

        def log_message(self, format: str, *args: object) -> None:
            log.debug("download request", line=format % args)

    return Handler
