"""Process-level duties of a plugin: the magic cookie, flags, signals, dying with the host, stdout."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence

from veloro_sdk.handshake import ENV_MAGIC_COOKIE_KEY, ENV_MAGIC_COOKIE_VALUE

COOKIE_MESSAGE = (
    "This binary is a plugin. These are not meant to be executed directly.\n"
    "Please execute the program that consumes these plugins (velero or veloro), which will load any "
    "plugins automatically.\n"
)
_PR_SET_PDEATHSIG = 1
PARENT_POLL_SECONDS = 0.2


def check_magic_cookie() -> None:
    """Exit 1 with a human message when not started by a plugin host (a UX guard, not security)."""
    if os.environ.get(ENV_MAGIC_COOKIE_KEY) != ENV_MAGIC_COOKIE_VALUE:
        sys.stderr.write(COOKIE_MESSAGE)
        sys.stderr.flush()
        sys.exit(1)


def log_level_from_argv(argv: Sequence[str]) -> str | None:
    """The value of `--log-level X` / `--log-level=X` (Velero passes it); every other flag is ignored."""
    for i, arg in enumerate(argv):
        if arg == "--log-level" and i + 1 < len(argv):
            return argv[i + 1].lower()
        if arg.startswith("--log-level="):
            return arg.split("=", 1)[1].lower()
    return None


def ignore_sigint() -> None:
    """Ctrl-C in the host's terminal reaches the whole process group; the host decides when we stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def die_with_parent(on_orphaned: Callable[[], None]) -> None:
    """Call `on_orphaned` (which must exit) when the host process dies.

    Two mechanisms: PR_SET_PDEATHSIG (immediate, Linux) and a thread watching getppid() (any POSIX, and
    covers a parent that died before prctl ran). PDEATHSIG fires when the *thread* that started us exits,
    not only the process, so it sends a dedicated real-time signal whose handler checks that the parent
    really changed before exiting.
    """
    parent = os.getppid()

    def orphaned() -> bool:
        return os.getppid() != parent

    if sys.platform.startswith("linux"):
        sig = signal.SIGRTMIN + 5

        def on_signal(signum: int, frame: object) -> None:
            if orphaned():
                on_orphaned()

        try:
            signal.signal(sig, on_signal)
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        except (OSError, AttributeError, ValueError):
            pass  # the watch thread still covers it

    def watch() -> None:
        stop = threading.Event()
        while not stop.wait(PARENT_POLL_SECONDS):
            if orphaned():
                on_orphaned()
                return

    threading.Thread(target=watch, name="veloro-parent-watch", daemon=True).start()
    if orphaned():  # the host died before we were watching
        on_orphaned()


def take_stdout() -> int:
    """Reserve the real stdout for the handshake alone: return a private duplicate of fd 1 and point fd 1
    and sys.stdout at stderr, so that stray prints (ours, a library's, a C extension's), before or after
    the handshake, can never corrupt the protocol."""
    if sys.stdout is not None:
        sys.stdout.flush()  # output printed before serve() was called is the plugin author's to answer for
    private = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return private


def write_handshake(fd: int, line: str) -> None:
    """Write the handshake line (with its newline) to the reserved stdout and close it: nothing else is
    ever written there."""
    data = (line + "\n").encode()
    try:
        while data:
            data = data[os.write(fd, data) :]
    finally:
        os.close(fd)
