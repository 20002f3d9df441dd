"""Helpers shared by the kubesim tests (imported by name: pytest puts this directory on sys.path)."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

MANIFESTS = Path(__file__).parent / "manifests"


class Http:
    """Raw HTTP to kubesim, for what the clients hide (status codes, headers, exact bodies)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, Any]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": content_type, **(headers or {})},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                text = resp.read()
                status = resp.status
        except urllib.error.HTTPError as err:
            text = err.read()
            status = err.code
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text.decode(errors="replace")


# kubectl v1.32 is preinstalled on veloro's machines; elsewhere the tests that drive it skip with a reason.
needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
