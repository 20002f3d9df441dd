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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import structlog

from veloro_core.persistence import BackupStore

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


class DownloadServer:
    def __init__(self, host: str, port: int, tokens: DownloadTokens, opener: StoreOpener) -> None:
        self.tokens = tokens
        self.opener = opener
        self.httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="veloro-download", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.httpd.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def stream(self, grant: Grant) -> Iterator[bytes]:
        with self.opener(grant.location) as store:
            yield from store.store.get_object(store.bucket, grant.key)


def _handler_for(server: DownloadServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
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
            body = text.encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("download request", line=format % args)

    return Handler
