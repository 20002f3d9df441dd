"""The CLI's error classes: each says what went wrong (and what to do) and carries its exit code.

Commands raise these (or translate third-party exceptions into them with `raise ... from`); `main()`
prints the message on one line and exits with the code. A traceback is only ever shown for a bug, and
only with VELORO_DEBUG=1.

Exit codes: 0 ok, 1 the operation failed, 2 usage (bad flags or arguments), 3 not found,
4 cluster unreachable, 5 plugin failure, 70 internal error, 130 interrupted.
"""

from __future__ import annotations

import sys

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_CLUSTER = 4
EXIT_PLUGIN = 5
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


class VeloroCLIError(Exception):
    """Base class: an error the user should read, not a bug. `hint` is an optional "what to do"."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message


class OperationFailed(VeloroCLIError):
    """The command ran and its operation did not succeed (e.g. conformance checks failed)."""


class UsageError(VeloroCLIError):
    """A value that parsed but makes no sense (an unknown output format, a malformed k=v)."""

    exit_code = EXIT_USAGE


class NotFoundError(VeloroCLIError):
    """A named thing (backup, plugin, file) does not exist."""

    exit_code = EXIT_NOT_FOUND


class ClusterUnreachable(VeloroCLIError):
    """The Kubernetes API server cannot be reached or refused the credentials."""

    exit_code = EXIT_CLUSTER


class PluginFailure(VeloroCLIError):
    """A plugin could not be started, did not answer the handshake, or failed a call."""

    exit_code = EXIT_PLUGIN


def translate(exc: BaseException) -> VeloroCLIError | None:
    """The CLI error for an exception of the kube layer, or None when `exc` is not one.

    Looked up through sys.modules so that importing this module never imports veloro_core.kube (and
    the kubernetes package behind it): commands that never talk to a cluster stay fast.
    """
    kube_errors = sys.modules.get("veloro_core.kube.errors")
    if kube_errors is None or not isinstance(exc, kube_errors.KubeError):
        return None
    text = " ".join(str(exc).split())
    name = type(exc).__name__
    if name in ("ConfigError", "Unreachable", "Unauthorized"):
        return ClusterUnreachable(
            f"cannot reach the Kubernetes cluster: {text}",
            hint="check --kubeconfig/--kubecontext (or $KUBECONFIG) and that the API server is up",
        )
    if name == "NotFound":
        return NotFoundError(text, hint="is veloro installed in this namespace (veloro install, -n)?")
    if name == "AlreadyExists":
        return OperationFailed(text, hint="choose another name or delete the existing object first")
    if name == "Invalid":
        return UsageError(f"the cluster refused the object: {text}")
    return OperationFailed(f"the Kubernetes API failed: {text}")
