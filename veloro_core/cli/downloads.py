"""Files of a backup or restore (logs, contents, resource list, results, volume snapshots), fetched the
way Velero does: create a DownloadRequest, wait for the server to put a short-lived URL in its status,
and read that URL (http(s) from an object store or the server itself; file:// for a local store).
"""

from __future__ import annotations

import gzip
import json
import secrets
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from veloro_core.api import DownloadRequest, DownloadRequestSpec, DownloadTarget, DownloadTargetKind
from veloro_core.cli.cluster import Cluster
from veloro_core.cli.errors import NotFoundError, OperationFailed

DEFAULT_TIMEOUT = 60.0
_GZIP_MAGIC = b"\x1f\x8b"


def request_url(
    cluster: Cluster, kind: DownloadTargetKind, name: str, timeout: float = DEFAULT_TIMEOUT
) -> str:
    """Ask the server for the URL of one file; OperationFailed when it does not answer in time."""
    request = DownloadRequest(
        metadata={
            "name": f"{name[:200]}-{secrets.token_hex(4)}",
            "labels": {"veloro.io/download-target": name[:63]},
        },
        spec=DownloadRequestSpec(target=DownloadTarget(kind=kind, name=name)),
    )
    try:
        answered = cluster.request(
            request,
            lambda r: bool(r.status.download_url) or str(r.status.phase or "") == "Processed",
            timeout=timeout,
            what=f"download request for {kind} of {name}",
        )
    except TimeoutError as exc:
        raise OperationFailed(str(exc), hint="start the server, or raise --timeout") from exc
    if not answered.status.download_url:
        raise NotFoundError(f"the server has no {kind} for {name!r}")
    return answered.status.download_url


@contextmanager
def open_url(url: str, what: str, timeout: float = DEFAULT_TIMEOUT) -> Iterator[IO[bytes]]:
    """A readable stream of `url` (http, https or file)."""
    scheme = urllib.parse.urlparse(url).scheme
    if scheme == "file":
        path = Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path))
        try:
            with path.open("rb") as local:
                yield local
        except FileNotFoundError as exc:
            raise NotFoundError(f"{what} is not in the backup storage ({path} is missing)") from exc
        return
    if scheme not in ("http", "https"):
        raise OperationFailed(f"the server gave an unsupported download URL for {what}: {url}")
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise NotFoundError(f"{what} is not in the backup storage (HTTP 404)") from exc
        raise OperationFailed(f"downloading {what} failed: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise OperationFailed(f"downloading {what} failed: {exc}") from exc
    with response:
        yield response


def fetch(cluster: Cluster, kind: DownloadTargetKind, name: str, timeout: float = DEFAULT_TIMEOUT) -> bytes:
    """The whole file, gunzipped when it is gzip (logs, results and lists are stored gzipped)."""
    what = f"the {kind} of {name}"
    with open_url(request_url(cluster, kind, name, timeout), what, timeout) as stream:
        data = stream.read()
    if data.startswith(_GZIP_MAGIC):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise OperationFailed(f"{what} is not valid gzip: {exc}") from exc
    return data


def fetch_json(
    cluster: Cluster, kind: DownloadTargetKind, name: str, timeout: float = DEFAULT_TIMEOUT
) -> Any:
    data = fetch(cluster, kind, name, timeout)
    try:
        return json.loads(data) if data.strip() else None
    except ValueError as exc:
        raise OperationFailed(f"the {kind} of {name} is not valid JSON: {exc}") from exc


def download_to(
    cluster: Cluster, kind: DownloadTargetKind, name: str, dest: Path, timeout: float = DEFAULT_TIMEOUT
) -> int:
    """Stream the file (as stored, not unpacked) to `dest`; returns the number of bytes written."""
    what = f"the {kind} of {name}"
    partial = dest.with_name(dest.name + ".part")
    with (
        open_url(request_url(cluster, kind, name, timeout), what, timeout) as stream,
        partial.open("wb") as out,
    ):
        shutil.copyfileobj(stream, out, 1024 * 1024)
    partial.replace(dest)  # never leave a truncated file under the final name
    return dest.stat().st_size
