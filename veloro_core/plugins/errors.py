"""Errors of the plugin host (starting, discovering, resolving plugins). Call errors are in
veloro_sdk.client.errors; every class here is also a veloro_sdk PluginError so engines can catch both."""

from __future__ import annotations

from veloro_sdk.contracts.common import PluginError


class PluginHostError(PluginError):
    """Base of the host-side plugin errors."""


class PluginStartError(PluginHostError):
    """A plugin binary could not be started, did not handshake, or failed its health check."""

    def __init__(self, binary: str, cause: str) -> None:
        super().__init__(f"plugin {binary}: {cause}")
        self.binary = binary
        self.cause = cause


class PluginDiscoveryError(PluginHostError):
    """Discovery found broken plugins (bad binaries, invalid or duplicate names). Lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            "plugin discovery failed:\n" + "\n".join(f"  - {p}" for p in problems) + "\n"
            "fix or remove the plugins named above"
        )
        self.problems = problems


class UnknownPluginError(PluginHostError, LookupError):
    """No plugin of the asked kind has the asked name."""


class PluginRestartsExhausted(PluginHostError):
    """A plugin binary failed to (re)start too many times in a row; it is not tried again."""
