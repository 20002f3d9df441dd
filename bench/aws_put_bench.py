"""PutObject of a 1 GiB tarball-like file through the aws plugin (a real plugin process, body streamed by the
host over gRPC) versus boto3 uploading the same file directly (upload_fileobj), to the same moto server.

    python bench/aws_put_bench.py [--size-mib 1024] [--repeats 3] [--chunk-kib 1024]

Method: one moto server (subprocess, in-memory). The file is random bytes (incompressible like a gzip
tarball), written once to a temp file. Each repeat runs both uploads back to back in alternating order
and deletes the objects after each upload. The plugin path reads the file in --chunk-kib chunks on the
host side (1 MiB = what veloro's host sends; 16 = a Go host), through the go-plugin handshake with mTLS,
into S3ObjectStore's streamed multipart upload (16 MiB parts, 4 in flight). The direct path is boto3's
default TransferConfig (8 MiB parts, 10 threads). Both use CRC32 checksums (the default of each).
Reported: MiB/s per run, medians, and ratio = plugin throughput / direct throughput (target >= 0.9).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from veloro_sdk.testing import launch_plugin

MiB = 1024 * 1024
BUCKET = "bench"
ACCESS_KEY, SECRET_KEY = "AKIABENCHBENCH000001", "bench-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
            return proc, url
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("moto server did not start") from None
            time.sleep(0.2)


def make_file(directory: Path, size: int) -> Path:
    path = directory / "backup.tar.gz"
    block = 16 * MiB
    with open(path, "wb") as handle:
        written = 0
        while written < size:
            n = min(block, size - written)
            handle.write(os.urandom(n))
            written += n
    return path


def file_chunks(path: Path, chunk: int) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while data := handle.read(chunk):
            yield data


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def run(size_mib: int, repeats: int, chunk_kib: int) -> None:
    size = size_mib * MiB
    moto, url = start_moto()
    workdir = Path(tempfile.mkdtemp(prefix="aws-bench-"))
    try:
        path = make_file(workdir, size)
        admin = boto3.client(
            "s3",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}),
        )
        admin.create_bucket(Bucket=BUCKET)
        creds = workdir / "cloud"
        creds.write_text(f"[default]\naws_access_key_id={ACCESS_KEY}\naws_secret_access_key={SECRET_KEY}\n")
        config = {
            "region": "us-east-1",
            "s3Url": url,
            "s3ForcePathStyle": "true",
            "bucket": BUCKET,
            "credentialsFile": str(creds),
        }
        with launch_plugin(
            [sys.executable, "-m", "veloro_plugins.aws"], start_timeout=30, call_timeout=None
        ) as p:
            store = p.object_store("veloro.io/aws", config)

            def direct() -> None:
                with open(path, "rb") as handle:
                    admin.upload_fileobj(handle, BUCKET, "direct.tar.gz")

            def plugin() -> None:
                store.put_object(BUCKET, "plugin.tar.gz", file_chunks(path, chunk_kib * 1024))

            times: dict[str, list[float]] = {"direct": [], "plugin": []}
            for i in range(repeats):
                order = [("direct", direct), ("plugin", plugin)]
                if i % 2:
                    order.reverse()
                for label, action in order:
                    seconds = timed(action)
                    key = f"{label}.tar.gz"
                    assert admin.head_object(Bucket=BUCKET, Key=key)["ContentLength"] == size
                    admin.delete_object(Bucket=BUCKET, Key=key)  # give moto its memory back
                    times[label].append(seconds)
                    print(
                        f"run {i + 1} {label:6s}: {seconds:6.2f} s  {size / MiB / seconds:7.1f} MiB/s",
                        flush=True,
                    )
        direct_s = statistics.median(times["direct"])
        plugin_s = statistics.median(times["plugin"])
        print(f"size {size_mib} MiB, host chunks {chunk_kib} KiB, {repeats} repeats (medians):")
        print(f"  boto3 upload_fileobj direct: {direct_s:6.2f} s  {size / MiB / direct_s:7.1f} MiB/s")
        print(f"  through the aws plugin:      {plugin_s:6.2f} s  {size / MiB / plugin_s:7.1f} MiB/s")
        print(f"  ratio plugin/direct throughput: {direct_s / plugin_s:.2f} (target >= 0.9)")
    finally:
        moto.kill()
        moto.wait()
        for child in workdir.iterdir():
            child.unlink()
        workdir.rmdir()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk-kib", type=int, default=1024, help="host chunk size (16 = a Go host)")
    args = parser.parse_args()
    run(args.size_mib, args.repeats, args.chunk_kib)


if __name__ == "__main__":
    main()
