"""The handshake line: format, parse (5, 6, 7 fields) and version negotiation."""

from __future__ import annotations

import pytest
from veloro_sdk.handshake import (
    Handshake,
    HandshakeError,
    decode_cert_field,
    encode_cert_field,
    format_offered_versions,
    negotiate_app_version,
    parse_handshake,
)


def test_format_without_cert_ends_with_pipe() -> None:
    hs = Handshake(network="unix", address="/tmp/plugin1/sock")
    assert hs.format() == "1|2|unix|/tmp/plugin1/sock|grpc|"
    assert hs.target == "unix:/tmp/plugin1/sock"


def test_format_with_cert_and_mux_round_trips() -> None:
    der = bytes(range(256)) + b"x"  # length not a multiple of 3: base64 would pad
    hs = Handshake(network="tcp", address="127.0.0.1:10001", server_cert=der, multiplex=True)
    line = hs.format()
    assert "=" not in line
    assert line.endswith("|true")
    assert parse_handshake(line + "\n") == hs
    assert hs.target == "127.0.0.1:10001"


@pytest.mark.parametrize(
    ("line", "network", "cert"),
    [
        ("1|2|unix|/tmp/x/sock|grpc", "unix", None),  # 5 fields (old plugins)
        ("1|2|unix|/tmp/x/sock|grpc|", "unix", None),  # 6 fields, empty cert (Go plugins)
        ("1|2|tcp|127.0.0.1:12345|grpc|", "tcp", None),
        ("1|2|unix|/tmp/x/sock|grpc|AQID", "unix", b"\x01\x02\x03"),
        ("1|2|unix|/tmp/x/sock|grpc|AQI", "unix", b"\x01\x02"),  # unpadded
        ("1|2|unix|/tmp/x/sock|grpc||false", "unix", None),  # 7 fields
    ],
)
def test_parse_good_lines(line: str, network: str, cert: bytes | None) -> None:
    hs = parse_handshake(line)
    assert hs.network == network
    assert hs.app_version == 2
    assert hs.core_version == 1
    assert hs.server_cert == cert
    assert hs.multiplex is False


def test_parse_mux_flag() -> None:
    assert parse_handshake("1|2|unix|/s|grpc||true").multiplex is True


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("", "unrecognized handshake line"),
        ("hello world", "unrecognized handshake line"),
        ("1|2|unix|/s", "unrecognized handshake line"),
        ("1|2|unix|/s|grpc||true|extra", "unrecognized handshake line"),
        ("x|2|unix|/s|grpc|", "core protocol version 'x' is not a number"),
        ("2|2|unix|/s|grpc|", "incompatible core protocol version 2"),
        ("1|1|unix|/s|grpc|", "incompatible API version 1"),
        ("1|3|unix|/s|grpc|", "incompatible API version 3"),
        ("1|two|unix|/s|grpc|", "app protocol version 'two' is not a number"),
        ("1|2|udp|/s|grpc|", "unknown network 'udp'"),
        ("1|2|unix||grpc|", "empty address"),
        ("1|2|unix|/s|netrpc|", "unsupported protocol 'netrpc'"),
        ("1|2|unix|/s|grpc|!!!notbase64", "not valid base64"),
    ],
)
def test_parse_bad_lines(line: str, needle: str) -> None:
    with pytest.raises(HandshakeError, match=needle):
        parse_handshake(line)


def test_parse_checks_against_host_supported_versions() -> None:
    assert parse_handshake("1|3|unix|/s|grpc|", supported_app_versions=[2, 3]).app_version == 3


def test_long_garbage_is_truncated_in_message() -> None:
    with pytest.raises(HandshakeError) as info:
        parse_handshake("x" * 5000)
    assert len(str(info.value)) < 600


@pytest.mark.parametrize(
    ("offered", "expected"),
    [(None, 2), ("", 2), ("2", 2), ("1,2", 2), (" 2 , 1 ", 2), ("1,2,3", 2), ("bogus,2", 2)],
)
def test_negotiate(offered: str | None, expected: int) -> None:
    assert negotiate_app_version(offered) == expected


def test_negotiate_picks_highest_common() -> None:
    assert negotiate_app_version("1,2,3,5", supported=[2, 3, 4]) == 3


@pytest.mark.parametrize("offered", ["1", "3,4", "junk"])
def test_negotiate_none_in_common(offered: str) -> None:
    with pytest.raises(HandshakeError, match="incompatible API version"):
        negotiate_app_version(offered)


def test_cert_field_helpers() -> None:
    for n in range(10):
        data = bytes(range(n))
        assert decode_cert_field(encode_cert_field(data)) == data
    assert format_offered_versions([3, 2, 2]) == "2,3"
