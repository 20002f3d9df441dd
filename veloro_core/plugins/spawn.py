"""Start plugin processes so that they never outlive the host.

Two guards: the kernel's PR_SET_PDEATHSIG (SIGKILL to the child when its parent goes away, even on the
host's SIGKILL) and an atexit hook that stops every live plugin on a normal interpreter exit.

PR_SET_PDEATHSIG fires when the *thread* that forked the child exits, not the process. Plugins are started
lazily from whichever thread first needs them (an engine worker, a discovery pool), so every fork happens
on one long-lived spawner thread; otherwise a plugin would be SIGKILLed when its starter thread ends.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import signal
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from queue import SimpleQueue
from typing import Protocol

_PR_SET_PDEATHSIG = 1


class _Killable(Protocol):
    def kill(self) -> None: ...


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl: Callable[..., int] = libc.prctl
        return prctl
    except (OSError, AttributeError):
        return None


# Resolved in the parent: the child between fork and exec must not load libraries.
_PRCTL = _load_prctl()
_Start = Callable[[], "subprocess.Popen[bytes]"]
_Request = tuple[_Start, "Future[subprocess.Popen[bytes]]"]
_spawner_lock = threading.Lock()
_spawner: _Spawner | None = None
_live: weakref.WeakSet[_Killable] = weakref.WeakSet()
_live_lock = threading.Lock()
# Starting a process takes milliseconds; a start that has not returned after this is stuck in fork/exec
# (seen with gRPC's fork handlers): the caller gets an error and later starts use a fresh spawner thread.
SPAWN_TIMEOUT_S = 30.0


class SpawnTimeout(OSError):
    """The spawner thread did not start the process in time."""


def _child_setup(parent_pid: int) -> Callable[[], None]:
    def setup() -> None:
        if _PRCTL is not None:
            _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent_pid:  # the host died before prctl took effect
            os._exit(1)

    return setup


class _Spawner:
    """One daemon thread with its own queue: a stuck thread is abandoned with its queue, never shared."""

    def __init__(self) -> None:
        self.requests: SimpleQueue[_Request] = SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name="veloro-plugin-spawner", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            start, future = self.requests.get()
            try:
                future.set_result(start())
            except BaseException as exc:
                future.set_exception(exc)


def _submit(start: _Start, timeout: float = SPAWN_TIMEOUT_S) -> subprocess.Popen[bytes]:
    """Run `start` on the spawner: a daemon thread, so that it is not joined (and does not end, firing
    every child's PDEATHSIG) at interpreter shutdown before the atexit hook has stopped them gracefully."""
    global _spawner
    with _spawner_lock:
        if _spawner is None or not _spawner.thread.is_alive():
            _spawner = _Spawner()
        spawner = _spawner
    future: Future[subprocess.Popen[bytes]] = Future()
    spawner.requests.put((start, future))
    try:
        return future.result(timeout=timeout)
    except TimeoutError as exc:
        with _spawner_lock:
            if _spawner is spawner:
                _spawner = None  # abandon the stuck thread; the next start gets a new one
        raise SpawnTimeout(f"the process did not start within {timeout:.0f} s (fork/exec hung)") from exc


def spawn(argv: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Start `argv` with pipes on stdout/stderr, from the spawner thread, tied to the host's life.
    Raises OSError (missing binary, not executable, a start that hung) like Popen."""

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env),
            close_fds=True,
            preexec_fn=_child_setup(os.getpid()),  # only prctl runs there
        )

    return _submit(start)


def track(process: _Killable) -> None:
    """Remember a live plugin so that interpreter exit kills it."""
    with _live_lock:
        _live.add(process)


def untrack(process: _Killable) -> None:
    with _live_lock:
        _live.discard(process)


def kill_all() -> None:
    """Stop every live plugin process (atexit; also usable by a server's signal handler)."""
    with _live_lock:
        processes = list(_live)
    for process in processes:
        try:
            process.kill()
        except Exception:  # at exit, keep going: every other child must still die
            pass


atexit.register(kill_all)
