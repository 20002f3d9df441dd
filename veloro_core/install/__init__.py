"""`veloro install`: the manifests that put veloro into a cluster, and applying/removing them.

manifests.py builds plain dicts (no cluster needed: `--dry-run -o yaml`); rbac.py holds the rules with
their reasons; apply.py sends them through veloro_core.kube (server-side apply) and waits.
"""

from veloro_core.install.manifests import build_manifests, plugin_container_name, plugin_init_container
from veloro_core.install.options import InstallOptions

__all__ = ["InstallOptions", "build_manifests", "plugin_container_name", "plugin_init_container"]
