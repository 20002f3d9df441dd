"""One plugin binary kept running across operations: started on first use, restarted after a crash.

After a restart every ObjectStore/VolumeSnapshotter Init made on the old process is replayed with its
stored config, so callers keep their clients across crashes. A call in flight when the process dies
fails (PluginUnavailable); the next call restarts. After `max_restarts` consecutive failed (re)starts the
binary's error is permanent.

A host is either the binary's shared process (instance "") or one *instance* of it (see manager.py): the
same code, its own process and its own Init records. Calls mark the host busy, so the manager can stop an
idle instance's process (`park`) without cutting a call; the next call starts it again, Init replayed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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
    def __init__(
        self,
        command: Sequence[str],
        settings: PluginSettings,
        *,
        instance: str = "",
        on_start: Callable[[PluginHost], None] | None = None,
    ) -> None:
        self.command = tuple(command)
        self.instance = instance
        # error messages and logs name the instance too: two processes of one binary must be told apart
        self.binary = describe_command(command) + (f" [instance {instance}]" if instance else "")
        self.settings = settings
        self._on_start = on_start
        self._active = 0  # calls in progress (streams included)
        # A leaf lock (nothing else is taken under it) for _active: a dropped stream releases its mark
        # from __del__, which may run inside any other lock; re-entrant for a GC inside busy() itself.
        self._use_lock = threading.RLock()
        self.last_used = time.monotonic()
        self._closed_reason = "the plugin manager is closed"
        self._lock = threading.RLock()
        self._current: _Generation | None = None
        self._generations = 0
        self._failures = 0
        self._permanent: PluginRestartsExhausted | None = None
        self._inits: dict[tuple[PluginKind, str], dict[str, str]] = {}
        self._closed = False

    # ---------------------------------------------------------------------------------------- clients
    @contextmanager
    def busy(self) -> Iterator[None]:
        """Wrap every call (and every stream until it ends): a busy host is never parked."""
        with self._use_lock:
            self._active += 1
            self.last_used = time.monotonic()
        try:
            yield
        finally:
            with self._use_lock:
                self._active -= 1
                self.last_used = time.monotonic()

    @property
    def idle(self) -> bool:
        return self._active == 0

    def client(self, kind: PluginKind, name: str) -> tuple[BaseClient, int]:
        """The client of (kind, name) on the live process, (re)starting it if needed, and the process
        generation (pass it back to process_failed)."""
        gen = self._current
        if gen is None or not gen.process.alive:
            gen, started = self._ensure_started()
            if started and self._on_start is not None:
                self._on_start(self)  # outside our lock: the manager takes its own, then parks others
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
    def _ensure_started(self) -> tuple[_Generation, bool]:
        """The live generation, and whether this call started it."""
        with self._lock:
            if self._closed:
                raise PluginHostError(f"plugin {self.binary}: {self._closed_reason}")
            gen = self._current
            if gen is not None and gen.process.alive:
                return gen, False  # another thread restarted it meanwhile
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
            return new, True

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
    def running(self) -> bool:
        gen = self._current
        return gen is not None and gen.process.alive

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def park(self) -> PluginProcess | None:
        """Detach the process of an idle host (None if busy, closed or not running); the caller kills it.
        The Init records stay, so the next call starts a new process and replays them."""
        with self._lock, self._use_lock:  # a call counted busy after this sees no process and starts one
            gen = self._current
            if self._active or self._closed or gen is None:
                return None
            self._current = None
        _LOG.info("stopping an idle plugin instance", plugin=self.binary, pid=gen.process.pid)
        return gen.process

    def close(self, reason: str = "the plugin manager is closed") -> None:
        with self._lock:
            self._closed = True
            self._closed_reason = reason
            gen, self._current = self._current, None
        if gen is not None:
            gen.process.kill()
