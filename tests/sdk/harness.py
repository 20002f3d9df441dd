"""Start a real plugin process through the handshake, as a host does, with raw gRPC on the client side."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from veloro_sdk.handshake import Handshake, parse_handshake
from veloro_sdk.tls import TLS_CHANNEL_OPTIONS, CertificateBundle, channel_credentials

FIXTURE = Path(__file__).parent / "fixtures" / "plugin_all.py"
MAX = 2**31 - 1
CHANNEL_OPTIONS = [("grpc.max_send_message_length", MAX), ("grpc.max_receive_message_length", MAX)]


def plugin_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLUGIN_", "VELORO_PLUGIN"))}
    env.update(VELERO_PLUGIN="hello", PLUGIN_PROTOCOL_VERSIONS="2")
    env.update(extra)
    return env


def read_line(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        raise TimeoutError("no handshake line within the timeout")
    return proc.stdout.readline().decode()


@dataclass
class Plugin:
    proc: subprocess.Popen[bytes]
    handshake: Handshake
    line: str
    channel: grpc.Channel
    stderr_path: Path
    extra: list[grpc.Channel] = field(default_factory=list)

    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def close(self) -> None:
        self.channel.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(5)
        if self.proc.stdout:
            self.proc.stdout.close()


def start_plugin(
    tmp: Path,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    client: CertificateBundle | None = None,
    command: Sequence[str] | None = None,
) -> Plugin:
    stderr_path = tmp / f"stderr-{time.monotonic_ns()}.log"
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen(
            [*(command or [sys.executable, str(FIXTURE)]), *args],
            env=env or plugin_env(),
            stdout=subprocess.PIPE,
            stderr=err,
        )
    line = read_line(proc)
    handshake = parse_handshake(line)
    if handshake.server_cert is not None:
        assert client is not None
        creds = channel_credentials(handshake.server_cert, client)
        channel = grpc.secure_channel(
            handshake.target, creds, options=CHANNEL_OPTIONS + list(TLS_CHANNEL_OPTIONS)
        )
    else:
        channel = grpc.insecure_channel(handshake.target, options=CHANNEL_OPTIONS)
    return Plugin(proc, handshake, line, channel, stderr_path)
