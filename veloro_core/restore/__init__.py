"""veloro_core.restore."""
