"""The rich error a plugin returns: google.rpc.Status in the `grpc-status-details-bin` trailer, carrying a
`generated.Stack` packed as google.protobuf.Any. Shared by the plugin side (encode) and the host (decode).

google.rpc.Status is encoded by hand (three fields) instead of from a generated google/rpc/status.proto:
a vendor's plugin that also uses googleapis-common-protos (any Google Cloud client does) would otherwise
get two different definitions of `google/rpc/status.proto` in one protobuf descriptor pool.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from veloro_sdk._proto.generated import Shared_pb2

STATUS_DETAILS_KEY = "grpc-status-details-bin"
STACK_TYPE_URL = "type.googleapis.com/generated.Stack"


@dataclass(frozen=True)
class AnyDetail:
    type_url: str
    value: bytes


@dataclass(frozen=True)
class RpcStatus:
    """google.rpc.Status: code, message, details (each a packed Any)."""

    code: int
    message: str
    details: list[AnyDetail] = field(default_factory=list)

    def stack(self) -> Shared_pb2.Stack | None:
        """The generated.Stack detail, if the plugin sent one."""
        for detail in self.details:
            if detail.type_url == STACK_TYPE_URL:
                return Shared_pb2.Stack.FromString(detail.value)
        return None


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int32 codes are sign-extended to 10 bytes, as protobuf does
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _len_field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def encode_status(status: RpcStatus) -> bytes:
    out = bytearray()
    if status.code:
        out += _varint(1 << 3) + _varint(status.code)
    if status.message:
        out += _len_field(2, status.message.encode("utf-8"))
    for detail in status.details:
        any_bytes = _len_field(1, detail.type_url.encode("utf-8")) + _len_field(2, detail.value)
        out += _len_field(3, any_bytes)
    return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated or oversized varint in google.rpc.Status")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, pos


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, value) pairs of a message; unknown wire types are an error, unknown fields kept."""
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(data, pos)
            out.append((number, value))
        elif wire == 2:
            length, pos = _read_varint(data, pos)
            if pos + length > len(data):
                raise ValueError("truncated length-delimited field in google.rpc.Status")
            out.append((number, data[pos : pos + length]))
            pos += length
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            raise ValueError(f"unsupported wire type {wire} in google.rpc.Status")
    return out


def decode_status(data: bytes) -> RpcStatus:
    """Parse the trailer value; raises ValueError on malformed bytes."""
    code, message, details = 0, "", []
    for number, value in _fields(data):
        if number == 1 and isinstance(value, int):
            code = value - (1 << 64) if value >= 1 << 63 else value
        elif number == 2 and isinstance(value, bytes):
            message = value.decode("utf-8", errors="replace")
        elif number == 3 and isinstance(value, bytes):
            type_url, payload = "", b""
            for sub_number, sub_value in _fields(value):
                if sub_number == 1 and isinstance(sub_value, bytes):
                    type_url = sub_value.decode("utf-8", errors="replace")
                elif sub_number == 2 and isinstance(sub_value, bytes):
                    payload = sub_value
            details.append(AnyDetail(type_url, payload))
    return RpcStatus(code=code, message=message, details=details)


def stack_detail(stack: Shared_pb2.Stack) -> AnyDetail:
    return AnyDetail(STACK_TYPE_URL, stack.SerializeToString())
