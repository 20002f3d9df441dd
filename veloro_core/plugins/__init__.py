"""The plugin host: start plugin processes (go-plugin protocol), discover them, call them, restart them.

Public API for the engines and the CLI: PluginManager, PluginSettings, PluginInfo, PluginRegistry and the
errors below (call errors come from veloro_sdk.client).
"""

from veloro_core.plugins.errors import (
    PluginDiscoveryError,
    PluginHostError,
    PluginRestartsExhausted,
    PluginStartError,
    UnknownPluginError,
)
from veloro_core.plugins.manager import PluginManager
from veloro_core.plugins.process import PluginProcess
from veloro_core.plugins.registry import PluginInfo, PluginRegistry
from veloro_core.plugins.settings import PluginSettings, default_builtin_commands

__all__ = [
    "PluginDiscoveryError",
    "PluginHostError",
    "PluginInfo",
    "PluginManager",
    "PluginProcess",
    "PluginRegistry",
    "PluginRestartsExhausted",
    "PluginSettings",
    "PluginStartError",
    "UnknownPluginError",
    "default_builtin_commands",
]
