"""Helpers for the aws plugin tests: moto in SERVER mode as a real subprocess speaking HTTP on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

ACCESS_KEY = "AKIATESTTESTTEST0001"
SECRET_KEY = "test-secret-key-do-not-log-0001"


@dataclass
class Moto:
    url: str
    log_path: Path

    def client(self, service: str, region: str = "us-east-1", **keys: str) -> Any:
        """A boto3 client used by the tests themselves (setup and checks), not by the plugin."""
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id=keys.get("access_key", ACCESS_KEY),
            aws_secret_access_key=keys.get("secret_key", SECRET_KEY),
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
            verify=False,
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def run_moto(
    log_dir: Path, *, env: dict[str, str] | None = None, tls: tuple[Path, Path] | None = None
) -> Iterator[Moto]:
    """Start `python -m moto.server` on a free port, wait until it answers, yield it, kill it."""
    port = free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    scheme = "http"
    if tls is not None:
        command += ["-c", str(tls[0]), "-k", str(tls[1])]
        scheme = "https"
    log_path = log_dir / f"moto-{port}.log"
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(
            command, stdout=log_file, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
    try:
        url = f"{scheme}://127.0.0.1:{port}"
        _wait_until_listening(port, proc, log_path)
        yield Moto(url=url, log_path=log_path)
    finally:
        proc.kill()
        proc.wait(timeout=10)


def _wait_until_listening(port: int, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"moto server exited early ({proc.returncode}): {log_path.read_text()[-2000:]}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"moto server did not answer on port {port} within 30 s")


def http_ready(url: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
