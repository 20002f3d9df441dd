"""veloro_core.kube."""
