"""veloro_core.backup."""
