"""The plugin side of the go-plugin protocol: `PluginServer` and `get_logger`.

from veloro_sdk.serve import PluginServer, get_logger
"""

from veloro_sdk.serve.log import PluginLogger, get_logger
from veloro_sdk.serve.server import PluginServer

__all__ = ["PluginLogger", "PluginServer", "get_logger"]
