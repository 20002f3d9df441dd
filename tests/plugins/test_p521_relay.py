"""A plugin with a go-plugin style P-521 server certificate: the host relays its TLS through OpenSSL."""

from __future__ import annotations

import dataclasses
import os
import time

import pytest
from veloro_sdk._proto.generated import ObjectStore_pb2, ObjectStore_pb2_grpc
from veloro_sdk.client import PluginListerClient

from tests.plugins.helpers import PidFile, fixture_command
from veloro_core.plugins import PluginProcess, PluginSettings
from veloro_core.plugins.errors import PluginStartError


@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_p521_plugin_through_the_relay(transport: str, settings: PluginSettings, pidfile: PidFile) -> None:
    settings = dataclasses.replace(settings, transport=transport, auto_mtls=True)
    process = PluginProcess.start(fixture_command("p521_plugin"), settings)
    try:
        assert process.handshake is not None and process.handshake.server_cert is not None
        assert process.relay is not None, "a P-521 certificate must go through the OpenSSL relay"
        relay_dir = process.relay.directory
        assert os.stat(relay_dir).st_mode & 0o777 == 0o700
        assert process.channel is not None
        assert [p.name for p in PluginListerClient(process.channel).list_plugins()] == [
            "example.io/raw-store"
        ]
        # a large streamed upload and download through the relay, byte for byte
        stub = ObjectStore_pb2_grpc.ObjectStoreStub(process.channel)
        body = os.urandom(1 << 20) * 4 + b"tail"
        chunks = [body[i : i + (256 << 10)] for i in range(0, len(body), 256 << 10)]
        stub.PutObject(
            iter(ObjectStore_pb2.PutObjectRequest(bucket="b", key="k", body=c) for c in chunks), timeout=20
        )
        got = b"".join(r.data for r in stub.GetObject(ObjectStore_pb2.GetObjectRequest(bucket="b", key="k")))
        assert got == body
    finally:
        started = time.monotonic()
        process.kill()
        elapsed = time.monotonic() - started
    assert process.returncode == 0  # Shutdown went through the relay
    assert elapsed < 1.5
    assert not os.path.exists(relay_dir), "the relay's private directory must be removed on kill"
    pidfile.assert_all_gone()


def test_refused_tls_fails_fast_naming_binary_and_tls_error(
    settings: PluginSettings, pidfile: PidFile
) -> None:
    settings = dataclasses.replace(
        settings, auto_mtls=True, extra_env={**settings.extra_env, "FIXTURE_TLS_REFUSE": "1"}
    )
    started = time.monotonic()
    with pytest.raises(PluginStartError) as info:
        PluginProcess.start(fixture_command("p521_plugin"), settings)
    elapsed = time.monotonic() - started
    message = str(info.value)
    assert "p521_plugin.py" in message
    assert "mTLS with it failed" in message and "ALERT" in message.upper(), message
    assert elapsed < 4.0, f"a refused TLS handshake took {elapsed:.1f}s to be reported"
    pidfile.assert_all_gone()
