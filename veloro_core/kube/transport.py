"""The HTTP path: bytes in, bytes out, over the kubernetes client's own urllib3 pool.

Why not the generated API classes: they deserialize into model objects (slow, and lossy for unknown
fields) and cannot address arbitrary custom resources. The kubernetes package still provides what is hard
to get right - kubeconfig parsing, exec/OIDC token refresh, client certificates, CA bundles, proxies -
through its Configuration and the urllib3 PoolManager its REST client builds from it. We send requests on
that pool directly, read raw bytes and parse them with orjson.

Retries: 429 (honouring Retry-After), 5xx except 501/505, and connection errors, up to
settings.max_attempts tries with jittered exponential backoff. Never on other 4xx. A retried create can
answer AlreadyExists, and a retried delete NotFound, when the first try reached the server but its
answer was lost: callers of create/delete already handle both.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson
import structlog
import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error

from veloro_core.kube.errors import KubeError, Unreachable, from_response
from veloro_core.kube.ratelimit import Backoff, TokenBucket, parse_retry_after
from veloro_core.kube.settings import KubeSettings

log = structlog.get_logger("veloro.kube")

JSON = "application/json"
QueryValue = str | int | bool | None
Query = Mapping[str, QueryValue] | Sequence[tuple[str, QueryValue]]
_NO_RETRY_5XX = {501, 505}


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    data: bytes

    def json(self) -> Any:
        return orjson.loads(self.data)


def encode_query(query: Query | None) -> str:
    if not query:
        return ""
    pairs = query.items() if isinstance(query, Mapping) else query
    out: list[tuple[str, str]] = []
    for key, value in pairs:
        if value is None:
            continue
        if isinstance(value, bool):
            out.append((key, "true" if value else "false"))
        else:
            out.append((key, str(value)))
    return urlencode(out)


def _retryable(status: int) -> bool:
    return status == 429 or (status >= 500 and status not in _NO_RETRY_5XX)


class Transport:
    """Sends requests with rate limiting, retries and error translation; safe to share across threads."""

    def __init__(self, pool: urllib3.PoolManager, base_url: str, settings: KubeSettings,
                 auth_headers: Callable[[], dict[str, str]] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.pool = pool
        self.base_url = base_url.rstrip("/")
        self.settings = settings
        self.bucket = TokenBucket(settings.qps, settings.burst)
        self.backoff = Backoff(settings.backoff_base, settings.backoff_max, settings.retry_after_max)
        self._auth_headers = auth_headers
        self._auth_lock = threading.Lock()
        self._sleep = sleep
        self.timeout = urllib3.Timeout(connect=settings.connect_timeout, read=settings.read_timeout)

    def _headers(self, accept: str, content_type: str | None) -> dict[str, str]:
        headers = {"Accept": accept, "User-Agent": self.settings.user_agent}
        if content_type:
            headers["Content-Type"] = content_type
        if self._auth_headers is not None:
            # Token refresh hooks of the kubernetes Configuration mutate it; run them one at a time.
            with self._auth_lock:
                headers.update(self._auth_headers())
        return headers

    def url(self, path: str, query: Query | None = None) -> str:
        qs = encode_query(query)
        return f"{self.base_url}{path}?{qs}" if qs else f"{self.base_url}{path}"

    def request(self, method: str, path: str, *, query: Query | None = None, body: bytes | None = None,
                content_type: str | None = None, accept: str = JSON,
                read_timeout: float | None = None) -> Response:
        """One API call; non-2xx answers raise the matching KubeError subclass."""
        resp = self._send(method, path, query, body, content_type, accept, read_timeout, stream=False)
        return Response(resp.status, resp.headers, resp.data)

    def stream(self, method: str, path: str, *, query: Query | None = None,
               read_timeout: float | None = None) -> urllib3.BaseHTTPResponse:
        """A 2xx response left unread (watch); the caller must release_conn() or close() it."""
        return self._send(method, path, query, None, None, JSON, read_timeout, stream=True)

    def _send(self, method: str, path: str, query: Query | None, body: bytes | None,
              content_type: str | None, accept: str, read_timeout: float | None,
              stream: bool) -> urllib3.BaseHTTPResponse:
        url = self.url(path, query)
        timeout = self.timeout
        if read_timeout is not None:
            timeout = urllib3.Timeout(connect=self.settings.connect_timeout, read=read_timeout)
        attempts = self.settings.max_attempts
        for attempt in range(1, attempts + 1):
            self.bucket.acquire()
            headers = self._headers(accept, content_type)
            try:
                resp = self.pool.request(method, url, body=body, headers=headers, timeout=timeout,
                                         retries=False, redirect=False, preload_content=not stream)
            except Urllib3Error as exc:
                err: KubeError = Unreachable(f"{method} {url}: cannot reach the API server: {exc}")
                if attempt < attempts:
                    self._wait(attempt, None, err)
                    continue
                raise err from exc
            if 200 <= resp.status < 300:
                return resp
            data = resp.data if not stream else self._drain(resp)
            err = from_response(resp.status, data, method, url)
            if _retryable(resp.status) and attempt < attempts:
                self._wait(attempt, parse_retry_after(resp.headers.get("Retry-After")), err)
                continue
            raise err
        raise AssertionError("unreachable: the loop returns or raises")

    @staticmethod
    def _drain(resp: urllib3.BaseHTTPResponse) -> bytes:
        try:
            return resp.read()
        finally:
            resp.release_conn()

    def _wait(self, attempt: int, retry_after: float | None, err: KubeError) -> None:
        delay = self.backoff.delay(attempt, retry_after)
        log.info("kube request retry", attempt=attempt, delay=round(delay, 3), error=str(err))
        self._sleep(delay)

    def close(self) -> None:
        self.pool.clear()
