"""Wire compatibility with HashiCorp's own go-plugin (1.0.1, Debian), in both directions.

(a) gohost, a Velero-style host on go-plugin's client, loads veloro plugins: `veloro run-plugins`, the
    example plugin, and a plugin written here with veloro_sdk.serve; with and without AutoMTLS.
(b) veloro's host side loads goplugin, a Velero-style plugin on go-plugin's server.
gohost <-> goplugin runs first: it proves the Go programs themselves.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from interop_support import GO_MISSING, GO_MISSING_REASON, GoHost, GoPrograms

if TYPE_CHECKING:
    from veloro_sdk.contracts.object_store import ObjectStore

    from veloro_core.plugins import PluginManager

pytestmark = [pytest.mark.go, pytest.mark.skipif(GO_MISSING, reason=GO_MISSING_REASON)]

HERE = Path(__file__).resolve().parent
PY_PLUGIN = [sys.executable, str(HERE / "interop_py_plugin.py")]
RUN_PLUGINS = [sys.executable, "-m", "veloro_core.cli", "run-plugins"]
MTLS = pytest.mark.parametrize("mtls", [False, True], ids=["plain", "automtls"])
GO_ANNOTATION = "example.io/go-annotated"
EXAMPLE_SRC = HERE.parent.parent / "examples" / "annotate-plugin" / "src"


def _example_plugin() -> tuple[list[str], dict[str, str]]:
    """The example plugin's console script when installed (what a plugin image ships), else its module
    from the source tree."""
    script = shutil.which("veloro-example-annotate")
    if script:
        return [script], dict(os.environ)
    env = dict(os.environ)
    if importlib.util.find_spec("veloro_example_annotate") is None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(EXAMPLE_SRC), env.get("PYTHONPATH")]))
    return [sys.executable, "-m", "veloro_example_annotate"], env


def _annotations(check: dict[str, object]) -> dict[str, str]:
    info = check["info"]
    assert isinstance(info, dict)
    item = info.get("item") or {}
    return dict(item.get("metadata", {}).get("annotations", {}))


def _assert_transport(run_report: dict[str, object], mtls: bool) -> None:
    assert run_report["protocol"] == "grpc"
    assert run_report["negotiated_version"] == 2
    tls = run_report.get("tls")
    if mtls:
        assert isinstance(tls, dict) and tls["server_cn"] == "localhost", run_report
        assert tls["version"] in ("TLS1.2", "TLS1.3")
    else:
        assert not tls


# --- Go host <-> Go plugin: the baseline that proves the Go programs -----------------------------------


@MTLS
def test_gohost_loads_goplugin(gohost: GoHost, go_programs: GoPrograms, mtls: bool) -> None:
    run = gohost([str(go_programs.goplugin)], mtls=mtls, expect=["ObjectStore=example.io/go-store"])
    run.assert_ok()
    _assert_transport(run.report, mtls)
    if mtls:  # go-plugin's own server: P-521 cert, and it refuses clients without the host's cert
        assert run.report["tls"]["server_key"] == "ECDSA P-521"
        run.check("mtls.rejects_client_without_cert")
    names = {(p["kind"], p["name"]) for p in run.report["plugins"]}
    assert names == {
        ("ObjectStore", "example.io/go-store"),
        ("BackupItemAction", "example.io/go-annotate"),
        ("RestoreItemAction", "example.io/go-restore"),
    }
    put = run.check("objectstore.put_large_16k_chunks", "ObjectStore", "example.io/go-store")
    assert put["info"]["chunks"] > 100
    execute = run.check("action.execute", "BackupItemAction", "example.io/go-annotate")
    assert _annotations(execute)[GO_ANNOTATION] == "backup"
    assert run.report["kill_ms"] < 1900


def test_gohost_reports_failures(gohost: GoHost, go_programs: GoPrograms) -> None:
    """Negative controls: the harness itself fails when the plugin does not do what is expected."""
    missing = gohost([str(go_programs.goplugin)], expect=["ObjectStore=example.io/absent"])
    assert missing.returncode == 1 and missing.report["ok"] is False
    assert "example.io/absent" in missing.check("expected_plugins_listed")["error"]
    not_a_plugin = gohost([sys.executable, "-c", "print('hello')"])
    assert not_a_plugin.returncode == 1 and not_a_plugin.report["ok"] is False
    assert "Unrecognized remote plugin message" in not_a_plugin.report["fatal"]


# --- (a) Go host -> veloro plugins ---------------------------------------------------------------------


@MTLS
def test_gohost_loads_sdk_plugin(gohost: GoHost, mtls: bool) -> None:
    """A plugin written with veloro_sdk.serve, every action kind a go-plugin host has a client for."""
    run = gohost(PY_PLUGIN, mtls=mtls, expect=["ObjectStore=example.io/py-store"])
    run.assert_ok()
    _assert_transport(run.report, mtls)
    if mtls:
        run.check("mtls.rejects_plaintext_client")
        run.check("mtls.rejects_client_without_cert")
    kinds = {p["name"]: p["kind"] for p in run.report["plugins"]}
    assert kinds == {
        "example.io/py-store": "ObjectStore",
        "example.io/py-annotate": "BackupItemAction",
        "example.io/py-annotate-v2": "BackupItemActionV2",
        "example.io/py-restore": "RestoreItemAction",
        "example.io/py-restore-v2": "RestoreItemActionV2",
    }
    v1 = run.check("action.execute", "BackupItemAction", "example.io/py-annotate")
    assert _annotations(v1)["example.io/py-annotated"] == "backup"
    assert v1["info"]["additional_items"] == [
        {"group": "", "resource": "secrets", "namespace": "ns1", "name": "cm1-secret"}
    ]
    v2 = run.check("action.execute", "BackupItemActionV2", "example.io/py-annotate-v2")
    assert v2["info"]["operation_id"] == "op-1"
    selector = run.check("action.applies_to", "BackupItemAction", "example.io/py-annotate")["info"][
        "selector"
    ]
    assert selector["includedResources"] == ["configmaps"]
    assert selector["excludedNamespaces"] == ["kube-system"]
    # item None = unchanged: the SDK must send the input back, since Velero's Go client json-decodes the
    # returned item unconditionally (an empty item would fail there).
    unchanged = run.check("action.execute", "RestoreItemActionV2", "example.io/py-restore-v2")
    assert unchanged["info"]["item"]["metadata"] == {
        "name": "cm1",
        "namespace": "ns1",
        "labels": {"app": "demo"},
    }
    # go-plugin parsed the SDK's stderr as hclog JSON: fields re-emitted as key=value, no raw JSON lines.
    assert "@module=veloro_sdk" in run.stderr
    assert '"@message"' not in run.stderr
    missing = run.check("objectstore.get_missing_is_error", "ObjectStore", "example.io/py-store")
    assert missing["info"]["code"] == "Unknown"
    assert run.report["kill_ms"] < 1900


@MTLS
def test_gohost_loads_veloro_run_plugins(gohost: GoHost, tmp_path: Path, mtls: bool) -> None:
    """`veloro run-plugins` (the built-in plugin process) under a go-plugin host, with Velero's flags."""
    root = tmp_path / "store"
    (root / "interop").mkdir(parents=True)
    run = gohost(
        RUN_PLUGINS,
        mtls=mtls,
        tests=["veloro.io/filesystem"],
        expect=["ObjectStore=veloro.io/filesystem"],
        config={"root": str(root), "bucket": "interop"},
    )
    run.assert_ok()
    _assert_transport(run.report, mtls)
    run.check("objectstore.get_large_roundtrip", "ObjectStore", "veloro.io/filesystem")
    # What the Go host wrote went through to the real directory tree.
    written = list(root.glob("interop/interop-*/backups/b2/meta.json"))
    assert len(written) == 1 and written[0].read_text() == '{"b":2}'
    assert run.report["kill_ms"] < 1900


@MTLS
def test_gohost_loads_example_plugin(gohost: GoHost, mtls: bool) -> None:
    """The third-party example plugin (examples/annotate-plugin) under a go-plugin host."""
    command, env = _example_plugin()
    run = gohost(
        command,
        mtls=mtls,
        env=env,
        expect=["BackupItemAction=example.com/annotate", "RestoreItemAction=example.com/restore-label"],
    )
    run.assert_ok()
    _assert_transport(run.report, mtls)
    backup = run.check("action.execute", "BackupItemAction", "example.com/annotate")
    assert _annotations(backup)["example.com/backed-up-by"] == "b1"
    restore = run.check("action.execute", "RestoreItemAction", "example.com/restore-label")
    assert restore["info"]["item"]["metadata"]["labels"]["example.com/restored-by"] == "r1"
    assert run.report["kill_ms"] < 1900


# --- (b) veloro host side -> Go plugin -----------------------------------------------------------------


def _start_goplugin(goplugin: Path, **extra_env: str) -> subprocess.Popen[str]:
    env = {**os.environ, "VELERO_PLUGIN": "hello", "PLUGIN_PROTOCOL_VERSIONS": "2", **extra_env}
    return subprocess.Popen(
        [str(goplugin), "--log-level", "debug"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.kill()
    proc.communicate(timeout=5)


def test_goplugin_handshake_parsed_by_sdk(go_programs: GoPrograms) -> None:
    """go-plugin prints 6 fields with a trailing `|` (empty cert); veloro_sdk.handshake parses it."""
    from veloro_sdk.handshake import parse_handshake

    proc = _start_goplugin(go_programs.goplugin)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().rstrip("\n")
    finally:
        _stop(proc)
    assert line.count("|") == 5 and line.endswith("|"), line
    hs = parse_handshake(line, [2])
    assert (hs.core_version, hs.app_version, hs.network, hs.protocol) == (1, 2, "unix", "grpc")
    assert hs.server_cert is None
    assert Path(hs.address).is_absolute()


def test_goplugin_automtls_cert_field_parsed_by_sdk(go_programs: GoPrograms) -> None:
    """With PLUGIN_CLIENT_CERT, go-plugin answers with its DER cert, base64 without padding, in field 6."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from veloro_sdk.handshake import parse_handshake
    from veloro_sdk.tls import generate_certificate

    client = generate_certificate()
    proc = _start_goplugin(go_programs.goplugin, PLUGIN_CLIENT_CERT=client.cert_pem.decode())
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().rstrip("\n")
    finally:
        _stop(proc)
    assert "=" not in line.split("|")[5]
    hs = parse_handshake(line, [2])
    assert hs.server_cert is not None
    cert = x509.load_der_x509_certificate(hs.server_cert)
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp521r1"
    assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "localhost"


def test_goplugin_without_cookie_exits_with_message(go_programs: GoPrograms) -> None:
    env = {k: v for k, v in os.environ.items() if k != "VELERO_PLUGIN"}
    proc = subprocess.run([str(go_programs.goplugin)], env=env, capture_output=True, text=True, timeout=10)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "This binary is a plugin" in proc.stderr


def test_goplugin_exits_on_shutdown_quickly(go_programs: GoPrograms) -> None:
    """Timing reference for hosts: GRPCController.Shutdown makes a go-plugin process exit at once."""
    import grpc
    from veloro_sdk._proto.plugin import grpc_controller_pb2, grpc_controller_pb2_grpc
    from veloro_sdk.handshake import parse_handshake

    proc = _start_goplugin(go_programs.goplugin)
    try:
        assert proc.stdout is not None
        hs = parse_handshake(proc.stdout.readline(), [2])
        with grpc.insecure_channel(hs.target) as channel:
            stub = grpc_controller_pb2_grpc.GRPCControllerStub(channel)
            start = time.monotonic()
            try:
                stub.Shutdown(grpc_controller_pb2.Empty(), timeout=5)
            except grpc.RpcError:
                pass  # go-plugin stops its server inside the call; the reply may never arrive
            proc.wait(timeout=2)
            assert time.monotonic() - start < 2
    finally:
        if proc.poll() is None:
            _stop(proc)


@pytest.fixture
def go_plugin_dir(go_programs: GoPrograms, tmp_path: Path) -> Path:
    """A Velero-style plugin directory holding only the Go plugin binary."""
    plugin_dir = tmp_path / "plugins"
    plugin_dir.mkdir()
    shutil.copy2(go_programs.goplugin, plugin_dir / "goplugin")
    return plugin_dir


def _pid_alive(pid: int) -> bool:
    """Running (a zombie nobody reaped yet, e.g. under a container's bare PID 1, counts as exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _store_roundtrip(store: ObjectStore) -> None:
    """ObjectStore round trips through veloro's client against the Go in-memory store."""
    from veloro_sdk.client.errors import RemotePluginError

    store.init({"bucket": "bkt"})
    big = os.urandom(3 * 1024 * 1024 + 17)
    store.put_object("bkt", "backups/b1/data.bin", (big[i : i + 16384] for i in range(0, len(big), 16384)))
    store.put_object("bkt", "backups/b2/empty", iter(()))
    assert b"".join(store.get_object("bkt", "backups/b1/data.bin")) == big
    assert b"".join(store.get_object("bkt", "backups/b2/empty")) == b""
    assert store.object_exists("bkt", "backups/b1/data.bin")
    assert not store.object_exists("bkt", "backups/b1/nope")
    assert sorted(store.list_objects("bkt", "backups/")) == ["backups/b1/data.bin", "backups/b2/empty"]
    assert sorted(store.list_common_prefixes("bkt", "backups/", "/")) == ["backups/b1/", "backups/b2/"]
    store.delete_object("bkt", "backups/b1/data.bin")
    with pytest.raises(RemotePluginError) as missing:
        b"".join(store.get_object("bkt", "backups/b1/data.bin"))
    # Velero's convention, which a Go plugin follows: frame 0 of the Stack detail is where it failed.
    assert missing.value.stack and missing.value.stack[0].file.endswith(".go")
    assert "GetObject" in missing.value.stack[0].function
    assert "not found" in str(missing.value)


def _actions_roundtrip(manager: PluginManager) -> None:
    from veloro_sdk.contracts.backup_item_action import BackupItemActionExecuteRequest
    from veloro_sdk.contracts.common import ResourceIdentifier, ResourceSelector
    from veloro_sdk.contracts.restore_item_action import RestoreItemActionExecuteRequest

    item = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm1", "namespace": "ns1"}}
    backups = dict(manager.backup_item_actions())
    annotate = backups["example.io/go-annotate"]  # a v1 Go action, used through the v2 interface
    assert annotate.applies_to() == ResourceSelector(
        included_resources=["configmaps", "pods"], excluded_namespaces=["kube-system"], selector="app"
    )
    out = annotate.execute(BackupItemActionExecuteRequest(item=item, backup={"metadata": {"name": "b1"}}))
    assert out.item is not None and out.item["metadata"]["annotations"] == {GO_ANNOTATION: "backup"}
    assert out.additional_items == [ResourceIdentifier("", "serviceaccounts", "ns1", "cm1-sa")]
    # veloro's batch extension: a Go plugin does not advertise it (health NOT_FOUND), so execute_batch
    # falls back to one Execute per item with the same results
    second = {**item, "metadata": {"name": "cm2", "namespace": "ns1"}}
    batch = annotate.execute_batch(
        [BackupItemActionExecuteRequest(item=i, backup={"metadata": {"name": "b1"}}) for i in (item, second)]
    )
    assert [b.item["metadata"]["name"] for b in batch if not isinstance(b, Exception) and b.item] == [
        "cm1",
        "cm2",
    ]
    restores = dict(manager.restore_item_actions())
    skipped: dict[str, Any] = {
        **item,
        "metadata": {"name": "cm1", "namespace": "ns1", "labels": {"skip": "true"}},
    }
    res = restores["example.io/go-restore"].execute(
        RestoreItemActionExecuteRequest(
            item=skipped, restore={"metadata": {"name": "r1"}}, item_from_backup=item
        )
    )
    assert res.skip_restore is True


@MTLS
def test_veloro_manager_loads_goplugin(go_plugin_dir: Path, mtls: bool) -> None:
    """veloro's PluginManager discovers the Go plugin in a plugin dir, calls every kind, kills it."""
    from veloro_sdk.contracts import PluginKind

    from veloro_core.plugins import PluginManager, PluginSettings

    settings = PluginSettings(
        plugin_dirs=[go_plugin_dir],
        builtin_commands=[],
        entry_point_group=None,
        auto_mtls=mtls,
        call_timeout=30,
        start_timeout=15,
    )
    manager = PluginManager.discover(settings)
    try:
        listed = {(info.kind, info.name) for info in manager.list_plugins()}
        assert listed == {
            (PluginKind.OBJECT_STORE, "example.io/go-store"),
            (PluginKind.BACKUP_ITEM_ACTION, "example.io/go-annotate"),
            (PluginKind.RESTORE_ITEM_ACTION, "example.io/go-restore"),
        }
        _store_roundtrip(manager.object_store("example.io/go-store"))
        _actions_roundtrip(manager)
        (command,) = {info.command for info in manager.list_plugins()}
        process = manager.host(command).process
        assert process is not None and process.handshake is not None
        assert (process.handshake.server_cert is not None) is mtls
        pid = process.pid
    finally:
        start = time.monotonic()
        manager.close()
        elapsed = time.monotonic() - start
    assert not _pid_alive(pid)
    assert elapsed < 1.9, f"closing took {elapsed:.2f}s: the Go plugin was not stopped through Shutdown"


@MTLS
def test_veloro_plugin_verify_goplugin(go_programs: GoPrograms, mtls: bool) -> None:
    """`veloro plugin verify` (the conformance kit) passes against a plugin built on go-plugin."""
    import json

    proc = subprocess.run(
        [
            *RUN_PLUGINS[:-1],
            "plugin",
            "verify",
            "--mtls" if mtls else "--no-mtls",
            "--start-timeout",
            "15",
            "-o",
            "json",
            str(go_programs.goplugin),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["ok"] is True
    checked = {r["name"] for r in report["results"] if r["status"] == "pass"}
    assert {"example.io/go-store", "example.io/go-annotate", "example.io/go-restore"} <= checked


@pytest.mark.parametrize(
    "command",
    [pytest.param(PY_PLUGIN, id="sdk-plugin"), pytest.param(RUN_PLUGINS, id="run-plugins")],
)
def test_sdk_plugin_dies_with_its_go_host(go_programs: GoPrograms, command: list[str]) -> None:
    """go-plugin hosts do nothing for orphans: a veloro plugin must notice its host was SIGKILLed."""
    import json

    host = subprocess.Popen(
        [str(go_programs.gohost), "-hold", "--", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert host.stdout is not None
        pid = json.loads(host.stdout.readline())["plugin_pid"]
        assert _pid_alive(pid)
    finally:
        host.kill()
        host.wait(timeout=5)
    deadline = time.monotonic() + 5
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _pid_alive(pid), f"plugin {pid} outlived its SIGKILLed go-plugin host"


def test_go_sources_are_gofmt_clean(go_programs: GoPrograms) -> None:
    gofmt = shutil.which("gofmt") or "/usr/lib/go/bin/gofmt"
    proc = subprocess.run([gofmt, "-l", str(HERE / "go")], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and proc.stdout == "", f"run gofmt -w on:\n{proc.stdout}{proc.stderr}"
