"""veloro_core.controllers."""
