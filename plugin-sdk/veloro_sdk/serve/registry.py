"""Registered (kind, name) -> factory, and the lazily created, cached implementations."""

from __future__ import annotations

import inspect
import threading
import typing
from collections.abc import Callable
from typing import Any

from veloro_sdk.contracts import CONTRACTS, PluginKind, validate_plugin_name
from veloro_sdk.serve.errors import UnknownPluginName

Factory = Callable[[], Any]


def _check_class(kind: PluginKind, name: str, cls: type) -> None:
    contract = CONTRACTS[kind]
    if not issubclass(cls, contract):
        raise TypeError(
            f"cannot register {cls.__qualname__} as {kind.value} {name!r}: it must subclass "
            f"{contract.__module__}.{contract.__qualname__}"
        )
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
        raise TypeError(
            f"cannot register {cls.__qualname__} as {kind.value} {name!r}: it does not implement {missing}"
        )


def _declared_return(factory: Factory) -> type | None:
    """A factory function's return annotation, when it is a class (checked at registration time)."""
    try:
        hint = typing.get_type_hints(factory).get("return")
    except Exception:  # unresolvable annotations: checked when the instance is created instead
        return None
    return hint if isinstance(hint, type) else None


class Registry:
    """Thread-safe: instances are created once per (kind, name), on first use, under a lock."""

    def __init__(self) -> None:
        self._factories: dict[PluginKind, dict[str, Factory]] = {}
        self._instances: dict[PluginKind, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def register(self, kind: PluginKind, name: str, factory: Any) -> None:
        if not isinstance(kind, PluginKind) or kind not in CONTRACTS:
            raise ValueError(f"cannot register {name!r}: {kind!r} is not a kind a plugin can implement")
        validate_plugin_name(name)
        contract = CONTRACTS[kind]
        if isinstance(factory, contract):  # an instance: served as is
            instance = factory
            _check_class(kind, name, type(instance))
            factory = lambda: instance  # noqa: E731 - a closure over this one instance
        elif inspect.isclass(factory):
            _check_class(kind, name, factory)
        elif callable(factory):
            declared = _declared_return(factory)
            if declared is not None:
                _check_class(kind, name, declared)
        else:
            raise TypeError(
                f"cannot register {name!r} as {kind.value}: expected a {contract.__qualname__} subclass, an "
                f"instance of one, or a zero-argument factory, got {factory!r}"
            )
        by_name = self._factories.setdefault(kind, {})
        if name in by_name:
            raise ValueError(f"{kind.value} {name!r} is registered twice; names must be unique per kind")
        by_name[name] = factory
        self._instances.setdefault(kind, {})

    def kinds(self) -> list[PluginKind]:
        return [kind for kind, names in self._factories.items() if names]

    def entries(self) -> list[tuple[PluginKind, str]]:
        return [(kind, name) for kind, names in self._factories.items() for name in names]

    def instance(self, kind: PluginKind, name: str) -> Any:
        """The implementation for `name`, created on first use. Fast path without the lock."""
        cached = self._instances.get(kind, {}).get(name)
        if cached is not None:
            return cached
        return self._create(kind, name)

    def _create(self, kind: PluginKind, name: str) -> Any:
        factory = self._factories.get(kind, {}).get(name)
        if factory is None:
            registered = sorted(self._factories.get(kind, {}))
            raise UnknownPluginName(
                f"this plugin process has no {kind.value} named {name!r}; its {kind.value} plugins are: "
                + (", ".join(registered) if registered else "(none)")
            )
        with self._lock:
            instances = self._instances.setdefault(kind, {})
            existing = instances.get(name)
            if existing is not None:
                return existing
            created = factory()
            contract = CONTRACTS[kind]
            if not isinstance(created, contract):
                raise TypeError(
                    f"the factory of {kind.value} {name!r} returned {type(created).__qualname__}, "
                    f"not a {contract.__qualname__}"
                )
            instances[name] = created
            return created
