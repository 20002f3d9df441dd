"""The error tree every Kubernetes API failure is translated into at the client boundary.

Callers never see urllib3 or kubernetes-client exceptions: they catch ``NotFound``, ``AlreadyExists``,
``Conflict``... and read ``code``/``reason``/``message`` taken from the server's metav1.Status body.
Each class carries a short hint saying what to do, appended to the message shown to users.
"""

from __future__ import annotations

from typing import Any

import orjson

Obj = dict[str, Any]


class KubeError(Exception):
    """Base of every error raised by veloro_core.kube."""

    hint = ""

    def __init__(self, message: str, *, code: int | None = None, reason: str = "",
                 details: Obj | None = None, status: Obj | None = None) -> None:
        self.code = code
        self.reason = reason
        self.message = message
        self.details: Obj = details or {}
        self.status: Obj = status or {}
        super().__init__(message)

    def __str__(self) -> str:
        where = f" (HTTP {self.code} {self.reason})" if self.code is not None else ""
        hint = f"; {self.hint}" if self.hint else ""
        return f"{self.message}{where}{hint}"


class ConfigError(KubeError):
    hint = "check the kubeconfig file and context, or run inside a pod with a service account"


class Unreachable(KubeError):
    hint = "check the API server address in the kubeconfig and that the server is running"


class BadRequest(KubeError):
    """400 and other client mistakes that have no class of their own (405, 406, 413, 415)."""


class Unauthorized(KubeError):
    hint = "the credentials were refused: refresh the token or certificate in the kubeconfig"


class Forbidden(KubeError):
    hint = "grant the user or service account the RBAC permission for this verb and resource"


class NotFound(KubeError):
    pass


class AlreadyExists(KubeError):
    pass


class Conflict(KubeError):
    hint = "read the object again and retry the change on its latest resourceVersion"


class Gone(KubeError):
    """410: a continue token or watch resourceVersion is too old."""

    hint = "start the list or watch again from the beginning"


class Invalid(KubeError):
    """422: the object failed validation; ``causes`` lists field-level reasons."""

    @property
    def causes(self) -> list[Obj]:
        causes = self.details.get("causes") or []
        return [c for c in causes if isinstance(c, dict)]


class TooManyRequests(KubeError):
    hint = "the API server is overloaded; lower the client QPS or retry later"


class ServerError(KubeError):
    hint = "the API server failed; see its logs, or retry later"


class UnknownResource(KubeError):
    """A resource name that discovery does not know (raised by Discovery.resolve)."""

    hint = "check the spelling (kubectl api-resources lists the names) or refresh discovery"


_BY_CODE: dict[int, type[KubeError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 410: Gone, 422: Invalid,
    429: TooManyRequests,
}


def error_class(code: int, reason: str) -> type[KubeError]:
    if code == 409:
        return AlreadyExists if reason == "AlreadyExists" else Conflict
    if code >= 500:
        return ServerError
    return _BY_CODE.get(code, BadRequest)


def from_response(code: int, body: bytes, method: str = "", url: str = "") -> KubeError:
    """Build the error for a non-2xx answer from its metav1.Status body (or the raw text if it has none)."""
    status: Obj = {}
    try:
        parsed = orjson.loads(body) if body else None
        if isinstance(parsed, dict):
            status = parsed
    except orjson.JSONDecodeError:
        pass
    reason = str(status.get("reason") or "")
    message = str(status.get("message") or "")
    if not message:
        text = body[:300].decode("utf-8", errors="replace").strip()
        message = f"{method} {url} failed" + (f": {text}" if text else "")
    details = status.get("details")
    cls = error_class(code, reason)
    return cls(message, code=code, reason=reason or cls.__name__,
               details=details if isinstance(details, dict) else None, status=status)


def from_api_exception(exc: Any) -> KubeError:
    """Translate a kubernetes.client ApiException (for code that went through the generated client)."""
    code = int(getattr(exc, "status", 0) or 0)
    body = getattr(exc, "body", None) or b""
    if isinstance(body, str):
        body = body.encode()
    if code == 0:
        return Unreachable(str(getattr(exc, "reason", None) or exc))
    return from_response(code, body)
