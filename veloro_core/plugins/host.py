"""One plugin binary kept running across operations: started on first use, restarted after a crash.

After a restart every ObjectStore/VolumeSnapshotter Init made on the old process is replayed with its
stored config, so callers keep their clients across crashes. A call in flight when the process dies
fails (PluginUnavailable); the next call restarts. After `max_restarts` consecutive failed (re)starts the
binary's error is permanent.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import structlog
from veloro_sdk.client import CLIENTS, BaseClient, ObjectStoreClient, PluginCallError
from veloro_sdk.contracts.common import PluginKind

from veloro_core.plugins.errors import PluginHostError, PluginRestartsExhausted
from veloro_core.plugins.process import PluginProcess, describe_command
from veloro_core.plugins.settings import PluginSettings

_LOG = structlog.get_logger("veloro.plugins")
_INIT_KINDS = (PluginKind.OBJECT_STORE, PluginKind.VOLUME_SNAPSHOTTER)


class _Generation:
    """A started process and the clients made on its channel; replaced wholesale on restart."""

    def __init__(self, number: int, process: PluginProcess) -> None:
        self.number = number
        self.process = process
        self.clients: dict[tuple[PluginKind, str], BaseClient] = {}


class PluginHost:
    def __init__(self, command: Sequence[str], settings: PluginSettings) -> None:
        self.command = tuple(command)
        self.binary = describe_command(command)
        self.settings = settings
        self._lock = threading.RLock()
        self._current: _Generation | None = None
        self._generations = 0
        self._failures = 0
        self._permanent: PluginRestartsExhausted | None = None
        self._inits: dict[tuple[PluginKind, str], dict[str, str]] = {}
        self._closed = False

    # ---------------------------------------------------------------------------------------- clients
    def client(self, kind: PluginKind, name: str) -> tuple[BaseClient, int]:
        """The client of (kind, name) on the live process, (re)starting it if needed, and the process
        generation (pass it back to process_failed)."""
        gen = self._current
        if gen is None or not gen.process.alive:
            gen = self._ensure_started()
        client = gen.clients.get((kind, name))
        if client is None:
            client = self._make_client(gen, kind, name)
            gen.clients[(kind, name)] = client
        return client, gen.number

    def _make_client(self, gen: _Generation, kind: PluginKind, name: str) -> BaseClient:
        assert gen.process.channel is not None
        cls: Any = CLIENTS[kind]
        if cls is ObjectStoreClient:
            return ObjectStoreClient(
                gen.process.channel,
                name,
                timeout=self.settings.call_timeout,
                transfer_timeout=self.settings.transfer_timeout,
            )
        client: BaseClient = cls(gen.process.channel, name, timeout=self.settings.call_timeout)
        return client

    def record_init(self, kind: PluginKind, name: str, config: dict[str, str]) -> None:
        """Remember a successful Init so that a restarted process gets it again."""
        with self._lock:
            self._inits[(kind, name)] = dict(config)

    # ---------------------------------------------------------------------------------------- restart
    def _ensure_started(self) -> _Generation:
        with self._lock:
            if self._closed:
                raise PluginHostError(f"plugin {self.binary}: the plugin manager is closed")
            gen = self._current
            if gen is not None and gen.process.alive:
                return gen  # another thread restarted it meanwhile
            if self._permanent is not None:
                raise self._permanent
            if gen is not None:
                _LOG.warning(
                    "plugin process is gone; restarting it",
                    plugin=self.binary,
                    pid=gen.process.pid,
                    exit_code=gen.process.returncode,
                )
                gen.process.kill()
            try:
                new = self._start_and_replay()
            except PluginHostError as exc:
                self._failures += 1
                if self._failures >= self.settings.max_restarts:
                    self._permanent = PluginRestartsExhausted(
                        f"plugin {self.binary} failed to start {self._failures} times in a row; giving up "
                        f"until the server restarts. Last error: {exc}"
                    )
                    raise self._permanent from exc
                raise
            self._failures = 0
            self._current = new
            return new

    def _start_and_replay(self) -> _Generation:
        process = PluginProcess.start(self.command, self.settings)
        self._generations += 1
        gen = _Generation(self._generations, process)
        for (kind, name), config in self._inits.items():
            client = self._make_client(gen, kind, name)
            try:
                client.init(config)  # type: ignore[attr-defined]
            except PluginCallError as exc:
                process.kill()
                raise PluginHostError(
                    f"plugin {self.binary}: replaying {kind.value} {name!r} Init after a restart "
                    f"failed: {exc}"
                ) from exc
            gen.clients[(kind, name)] = client
        if self._inits:
            _LOG.info("plugin Init replayed", plugin=self.binary, count=len(self._inits))
        return gen

    def process_failed(self, generation: int, *, kill: bool) -> str:
        """A call on `generation` failed with Unavailable (or timed out with kill=True): make sure that
        process is gone so the next call restarts. Returns a description for the error message."""
        with self._lock:
            gen = self._current
            if gen is None or gen.number != generation:
                return "the process was already restarted"
            process = gen.process
            if kill or process.alive:
                process.kill()
            code = process.returncode
            return f"process {self.binary} (pid {process.pid}) exit code {code}; restarted on the next call"

    # ---------------------------------------------------------------------------------------- status
    @property
    def process(self) -> PluginProcess | None:
        gen = self._current
        return gen.process if gen is not None else None

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def close(self) -> None:
        with self._lock:
            self._closed = True
            gen, self._current = self._current, None
        if gen is not None:
            gen.process.kill()
