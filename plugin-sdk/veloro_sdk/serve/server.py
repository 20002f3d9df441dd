"""PluginServer: register implementations, then serve() the go-plugin protocol until the host stops us."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from concurrent import futures
from typing import Any, NoReturn

import grpc

from veloro_sdk.contracts import PluginKind
from veloro_sdk.handshake import ENV_CLIENT_CERT, ENV_PROTOCOL_VERSIONS, Handshake, HandshakeError
from veloro_sdk.handshake import negotiate_app_version as _negotiate
from veloro_sdk.serve import listen, process
from veloro_sdk.serve.control import ControlServicers
from veloro_sdk.serve.log import LEVEL_NAMES, configure, get_logger
from veloro_sdk.serve.registry import Registry
from veloro_sdk.serve.servicers import servicer_for

MAX_MESSAGE = 2**31 - 1
# Kinds whose processes also serve the veloro.batch.v1 services (many items per call).
BATCH_KINDS = frozenset(
    {
        PluginKind.BACKUP_ITEM_ACTION,
        PluginKind.BACKUP_ITEM_ACTION_V2,
        PluginKind.RESTORE_ITEM_ACTION,
        PluginKind.RESTORE_ITEM_ACTION_V2,
    }
)
SERVER_OPTIONS: tuple[tuple[str, int], ...] = (
    ("grpc.max_send_message_length", MAX_MESSAGE),
    ("grpc.max_receive_message_length", MAX_MESSAGE),
    ("grpc.so_reuseport", 0),  # two plugins must never share a TCP port
)
# Long-lived streams (stdio, broker, health watch) hold a worker each; the rest serve calls.
DEFAULT_WORKERS = 16
STOP_GRACE_SECONDS = 0.05


def _fail(message: str) -> NoReturn:
    sys.stderr.write(message.rstrip("\n") + "\n")
    sys.stderr.flush()
    os._exit(1)


class PluginServer:
    """Many (kind, name) implementations served by one plugin process.

        server = PluginServer()
        server.register_object_store("example.com/store", MyStore)
        server.serve()

    `command` is what ListPlugins reports as the command to run this plugin (default: this program's
    absolute path, sys.argv[0]); a plugin started through an interpreter (`python -m ...`) should set it.
    """

    def __init__(self, command: str | None = None, max_workers: int = DEFAULT_WORKERS) -> None:
        self._registry = Registry()
        self._command = command
        self._max_workers = max_workers

    @property
    def command(self) -> str:
        return self._command or os.path.abspath(sys.argv[0] if sys.argv and sys.argv[0] else sys.executable)

    def register(self, kind: PluginKind, name: str, factory: Any) -> PluginServer:
        """Register `factory` (a contract subclass, an instance, or a zero-argument callable returning one)
        as `name` of `kind`. Raises ValueError/TypeError at once on a bad name, a duplicate or a class that
        does not implement the contract. Instances are created on first use, once."""
        self._registry.register(kind, name, factory)
        return self

    def register_object_store(self, name: str, factory: Any) -> PluginServer:
        return self.register(PluginKind.OBJECT_STORE, name, factory)

    def register_volume_snapshotter(self, name: str, factory: Any) -> PluginServer:
        return self.register(PluginKind.VOLUME_SNAPSHOTTER, name, factory)

    def register_backup_item_action(self, name: str, factory: Any) -> PluginServer:
        return self.register(PluginKind.BACKUP_ITEM_ACTION, name, factory)

    def register_backup_item_action_v2(self, name: str, factory: Any) -> PluginServer:
        return self.register(PluginKind.BACKUP_ITEM_ACTION_V2, name, factory)

    def register_restore_item_action(self, name: str, factory: Any) -> PluginServer:
        return self.register(PluginKind.RESTORE_ITEM_ACTION, name, factory)

    def register_restore_item_action_v2(self, name: str, factory: Any) -> PluginServer:
        return self.register(PluginKind.RESTORE_ITEM_ACTION_V2, name, factory)

    def register_delete_item_action(self, name: str, factory: Any) -> PluginServer:
        return self.register(PluginKind.DELETE_ITEM_ACTION, name, factory)

    def register_item_block_action(self, name: str, factory: Any) -> PluginServer:
        return self.register(PluginKind.ITEM_BLOCK_ACTION, name, factory)

    def registered(self) -> list[tuple[PluginKind, str]]:
        return self._registry.entries()

    def serve(self, argv: Sequence[str] | None = None) -> NoReturn:
        """Run the plugin until the host calls Shutdown, sends SIGTERM or dies; then exit the process."""
        args = sys.argv[1:] if argv is None else list(argv)
        level = process.log_level_from_argv(args)
        configure(LEVEL_NAMES.get(level or "info", logging.INFO))
        process.check_magic_cookie()
        try:
            app_version = _negotiate(os.environ.get(ENV_PROTOCOL_VERSIONS))
        except HandshakeError as exc:
            _fail(f"{exc}. Upgrade the plugin or the host so that they share a plugin API version.")
        _Running(self, app_version).run()


class _Running:
    """One serve() run: builds the gRPC server, listens, handshakes, waits, exits."""

    def __init__(self, owner: PluginServer, app_version: int) -> None:
        self.owner = owner
        self.app_version = app_version
        self.stopping = threading.Event()
        self.cleanups: list[Any] = []
        self.log = get_logger("veloro_sdk.serve")

    def run(self) -> NoReturn:
        stdout_fd = process.take_stdout()
        process.ignore_sigint()
        signal.signal(signal.SIGTERM, lambda signum, frame: self.stopping.set())
        process.die_with_parent(self.exit)
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=self.owner._max_workers, thread_name_prefix="veloro-rpc"),
            options=list(SERVER_OPTIONS),
        )
        self._add_services(server)
        try:
            handshake = self._listen(server)
        except (listen.ListenError, ValueError) as exc:
            _fail(f"plugin {self.owner.command} cannot start: {exc}")
        server.start()
        process.write_handshake(stdout_fd, handshake.format())
        self.log.debug(
            "plugin started",
            network=handshake.network,
            address=handshake.address,
            pid=os.getpid(),
            tls=handshake.server_cert is not None,
            plugins=len(self.owner.registered()),
        )
        while not self.stopping.wait(3600):
            pass
        server.stop(STOP_GRACE_SECONDS).wait(STOP_GRACE_SECONDS * 4)
        self.exit()

    def exit(self) -> NoReturn:
        for cleanup in self.cleanups:
            try:
                cleanup()
            except Exception:  # exiting anyway; never let cleanup keep the process alive
                pass
        logging.shutdown()
        # os._exit: interpreter teardown with gRPC threads alive is slow and can hang; the host is
        # waiting for this process to go away.
        os._exit(0)

    def _add_services(self, server: grpc.Server) -> None:
        registry = self.owner._registry
        kind_servicers = [servicer_for(kind, registry) for kind in registry.kinds()]
        if any(kind in BATCH_KINDS for kind in registry.kinds()):
            # imported only by processes with item actions (see servicers/__init__)
            from veloro_sdk.serve.servicers.batch import batch_servicers

            kind_servicers.extend(batch_servicers(registry))
        served = frozenset(servicer.service for servicer in kind_servicers)
        services = ControlServicers(registry, self.owner.command, self.stopping, served).services()
        for servicer in kind_servicers:
            services[servicer.service] = servicer.handlers()
        for service, handlers in services.items():
            server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))
            if hasattr(server, "add_registered_method_handlers"):  # faster dispatch on grpcio >= 1.63
                server.add_registered_method_handlers(service, handlers)

    def _listen(self, server: grpc.Server) -> Handshake:
        client_pem = os.environ.get(ENV_CLIENT_CERT, "").strip().encode()
        if client_pem:
            from veloro_sdk.serve.mtls import listen_mtls  # cryptography is imported only when needed

            endpoint, der, cleanups = listen_mtls(server, client_pem, self.log)
            self.cleanups.extend(cleanups)
        else:
            endpoint, der = self._listen_plain(server), None
        self.cleanups.append(endpoint.cleanup)
        return Handshake(
            network=endpoint.network, address=endpoint.address, app_version=self.app_version, server_cert=der
        )

    def _listen_plain(self, server: grpc.Server) -> listen.Endpoint:
        if listen.wants_tcp():
            return listen.bind_tcp(lambda address: _try_add(server, address, None))
        endpoint = listen.private_socket_path()
        server.add_insecure_port(endpoint.target)
        return endpoint


def _try_add(server: grpc.Server, address: str, credentials: grpc.ServerCredentials | None) -> bool:
    try:
        if credentials is None:
            return bool(server.add_insecure_port(address))
        return bool(server.add_secure_port(address, credentials))
    except RuntimeError:
        return False
