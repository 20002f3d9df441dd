"""In-process unit tests of the serve building blocks (the real path is covered by the process tests)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from veloro_sdk.contracts import BackupItemAction, PluginError, PluginKind, ResourceSelector
from veloro_sdk.rpc_status import AnyDetail, RpcStatus, decode_status, encode_status
from veloro_sdk.serve import PluginServer
from veloro_sdk.serve.errors import status_for
from veloro_sdk.serve.log import HclogFormatter
from veloro_sdk.serve.servicers.object_store import rechunk


def test_rpc_status_round_trip() -> None:
    status = RpcStatus(
        code=10, message="héllo", details=[AnyDetail("type.googleapis.com/x", b"\x00\x01" * 200)]
    )
    assert decode_status(encode_status(status)) == status
    assert decode_status(encode_status(RpcStatus(code=-1, message=""))).code == -1
    with pytest.raises(ValueError):
        decode_status(b"\x12\x05ab")


def test_error_mapping() -> None:
    def raise_(exc: BaseException) -> BaseException:
        try:
            raise exc
        except BaseException as caught:
            return caught

    assert status_for(raise_(PluginError("boom")))[:2] == (grpc.StatusCode.UNKNOWN, "boom")
    assert status_for(raise_(KeyError("k")))[:2] == (grpc.StatusCode.UNKNOWN, "KeyError: 'k'")
    assert status_for(raise_(AttributeError("x")))[:2] == (
        grpc.StatusCode.ABORTED,
        "plugin panicked: AttributeError: x",
    )
    assert status_for(raise_(SystemExit(3)))[0] == grpc.StatusCode.ABORTED


def test_rechunk() -> None:
    assert list(rechunk(iter([b"a"] * 5), size=2)) == [b"aa", b"aa", b"a"]
    assert list(rechunk(iter([b"x" * 20]), size=4)) == [b"xxxx"] * 5
    assert list(rechunk(iter([]), size=4)) == []


class _Action(BackupItemAction):
    def applies_to(self) -> ResourceSelector:
        return ResourceSelector()

    def execute(self, request):  # type: ignore[no-untyped-def]
        raise NotImplementedError


def test_registration_checks() -> None:
    server = PluginServer(command="/bin/plugin")
    server.register_backup_item_action("example.com/a", _Action)
    with pytest.raises(ValueError, match="registered twice"):
        server.register_backup_item_action("example.com/a", _Action)
    with pytest.raises(ValueError, match="invalid plugin name"):
        server.register_backup_item_action("Example/a", _Action)
    with pytest.raises(TypeError, match="must subclass"):
        server.register_object_store("example.com/a", _Action)
    with pytest.raises(TypeError, match="expected a"):
        server.register_object_store("example.com/b", 42)
    with pytest.raises(ValueError, match="not a kind"):
        server.register(PluginKind.PLUGIN_LISTER, "example.com/c", _Action)

    def factory() -> _Action:
        return _Action()

    server.register_backup_item_action_v2("example.com/a", lambda: _Action())  # unchecked until created
    with pytest.raises(TypeError, match="must subclass"):
        server.register_restore_item_action("example.com/f", factory)  # annotation checked now
    assert server.command == "/bin/plugin"
    assert server.registered() == [
        (PluginKind.BACKUP_ITEM_ACTION, "example.com/a"),
        (PluginKind.BACKUP_ITEM_ACTION_V2, "example.com/a"),
    ]


def test_hclog_formatter() -> None:
    record = logging.LogRecord("mod", logging.WARNING, __file__, 1, "hi %s", ("x",), None)
    record.bucket = "b"
    out = json.loads(HclogFormatter().format(record))
    assert (out["@level"], out["@message"], out["@module"], out["bucket"]) == ("warn", "hi x", "mod", "b")
    assert out["@timestamp"].endswith("Z")


def test_launch_runs_a_function(tmp_path: Path) -> None:
    (tmp_path / "launchme.py").write_text("import sys\ndef run():\n    print('ran', sys.argv[1:])\n")
    env = {"PYTHONPATH": str(tmp_path)}
    import os

    result = subprocess.run(
        [sys.executable, "-m", "veloro_sdk.launch", "launchme:run", "--log-level", "debug"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.stdout.strip() == "ran ['--log-level', 'debug']"
    bad = subprocess.run(
        [sys.executable, "-m", "veloro_sdk.launch", "launchme:nope"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad.returncode == 2 and "has no attribute 'nope'" in bad.stderr
