"""Retries through real HTTP against a tiny local server that fails on purpose (429, 5xx, 4xx)."""

from __future__ import annotations

import threading
import time

import pytest
from kube_helpers import CONFIGMAPS, local_server
from kubernetes import client as k8s

from veloro_core.kube import BadRequest, KubeClient, KubeSettings, ServerError, TooManyRequests
from veloro_core.kube.config import build_transport

OK = b'{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x","namespace":"d"}}'


def _status(code: int, reason: str) -> bytes:
    return b'{"kind":"Status","status":"Failure","reason":"%s","code":%d,"message":"%s"}' % (
        reason.encode(), code, reason.encode())


class Script:
    """Answers from a list, then 200; records request times."""

    def __init__(self, answers: list[tuple[int, dict[str, str], bytes]]) -> None:
        self.answers = answers
        self.times: list[float] = []
        self.lock = threading.Lock()

    def __call__(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            self.times.append(time.monotonic())
            if self.answers:
                return self.answers.pop(0)
        return 200, {"Content-Type": "application/json"}, OK


def _client(url: str, **overrides: float) -> KubeClient:
    cfg = k8s.Configuration()
    cfg.host = url
    settings = KubeSettings(**{"qps": 0, "backoff_base": 0.01, "backoff_max": 0.05, **overrides})  # type: ignore[arg-type]
    return KubeClient(build_transport(cfg, settings), settings)


def test_429_then_200_honours_retry_after() -> None:
    script = Script([(429, {"Retry-After": "1"}, _status(429, "TooManyRequests"))])
    with local_server(script) as url, _client(url) as client:
        assert client.get(CONFIGMAPS, "x", "d")["metadata"]["name"] == "x"
    assert len(script.times) == 2
    assert script.times[1] - script.times[0] >= 0.95


def test_5xx_retried_until_success() -> None:
    script = Script([(503, {}, _status(503, "ServiceUnavailable")), (500, {}, _status(500, "InternalError")),
                     (504, {}, b"gateway timeout")])
    with local_server(script) as url, _client(url) as client:
        assert client.create(CONFIGMAPS, {"metadata": {"name": "x", "namespace": "d"}})["kind"] == "ConfigMap"
    assert len(script.times) == 4


def test_retries_are_bounded() -> None:
    script = Script([(429, {"Retry-After": "0"}, _status(429, "TooManyRequests"))] * 10)
    with local_server(script) as url, _client(url, max_attempts=3) as client, \
            pytest.raises(TooManyRequests):
        client.get(CONFIGMAPS, "x", "d")
    assert len(script.times) == 3
    script = Script([(500, {}, _status(500, "InternalError"))] * 10)
    with local_server(script) as url, _client(url, max_attempts=2) as client, pytest.raises(ServerError):
        client.get(CONFIGMAPS, "x", "d")
    assert len(script.times) == 2


@pytest.mark.parametrize("code", [400, 404, 409, 422, 501])
def test_client_mistakes_are_not_retried(code: int) -> None:
    script = Script([(code, {}, _status(code, "Nope"))])
    with local_server(script) as url, _client(url) as client, pytest.raises(Exception) as info:
        client.get(CONFIGMAPS, "x", "d")
    assert len(script.times) == 1 and getattr(info.value, "code", None) == code
    if code == 400:
        assert isinstance(info.value, BadRequest)


def test_connection_errors_are_retried() -> None:
    """The first connections are refused (server not yet listening), then it comes up."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sleeps: list[float] = []

    cfg = k8s.Configuration()
    cfg.host = f"http://127.0.0.1:{port}"
    settings = KubeSettings(qps=0, max_attempts=4, backoff_base=0.01)
    transport = build_transport(cfg, settings)

    def start_listening(delay: float) -> None:  # injected sleep: the second backoff brings the server up
        sleeps.append(delay)
        if len(sleeps) == 2:
            sock.listen(8)
            threading.Thread(target=serve_one, daemon=True).start()

    transport._sleep = start_listening
    client = KubeClient(transport, settings)

    def serve_one() -> None:
        conn, _ = sock.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n%s" % (len(OK), OK))
        conn.close()

    try:
        assert client.get(CONFIGMAPS, "x", "d")["metadata"]["name"] == "x"
    finally:
        sock.close()
    assert len(sleeps) == 2
