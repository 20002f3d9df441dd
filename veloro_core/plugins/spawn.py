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
_requests: SimpleQueue[tuple[_Start, Future[subprocess.Popen[bytes]]]] = SimpleQueue()
_spawner_lock = threading.Lock()
_spawner: threading.Thread | None = None
_live: weakref.WeakSet[_Killable] = weakref.WeakSet()
_live_lock = threading.Lock()


def _child_setup(parent_pid: int) -> Callable[[], None]:
    def setup() -> None:
        if _PRCTL is not None:
            _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent_pid:  # the host died before prctl took effect
            os._exit(1)

    return setup


def _spawner_loop() -> None:
    while True:
        start, future = _requests.get()
        try:
            future.set_result(start())
        except BaseException as exc:
            future.set_exception(exc)


def _submit(start: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    """Run `start` on the spawner: a daemon thread, so that it is not joined (and does not end, firing
    every child's PDEATHSIG) at interpreter shutdown before the atexit hook has stopped them gracefully."""
    global _spawner
    with _spawner_lock:
        if _spawner is None or not _spawner.is_alive():
            _spawner = threading.Thread(target=_spawner_loop, name="veloro-plugin-spawner", daemon=True)
            _spawner.start()
    future: Future[subprocess.Popen[bytes]] = Future()
    _requests.put((start, future))
    return future.result()


def spawn(argv: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Start `argv` with pipes on stdout/stderr, from the spawner thread, tied to the host's life.
    Raises OSError (missing binary, not executable) like Popen."""

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
