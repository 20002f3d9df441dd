"""What `veloro install` was asked for, as one dataclass passed to the manifest builders."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import metadata

DEFAULT_NAMESPACE = "veloro"
SERVICE_ACCOUNT = "veloro"
DEPLOYMENT = "veloro"
NODE_AGENT = "node-agent"
CREDENTIALS_SECRET = "cloud-credentials"
CREDENTIALS_KEY = "cloud"
DEFAULT_LOCATION = "default"
COMPONENT_LABELS = {"component": "veloro"}
PLUGIN_DIR = "/plugins"
METRICS_PORT = 8085


def default_image() -> str:
    """The server image of this client's version (what Velero does: client and server versions match)."""
    try:
        version = metadata.version("veloro")
    except metadata.PackageNotFoundError:
        version = "latest"
    return f"ghcr.io/veloro/veloro:v{version}"


@dataclass
class InstallOptions:
    namespace: str = DEFAULT_NAMESPACE
    image: str = field(default_factory=default_image)
    image_pull_policy: str = "IfNotPresent"
    provider: str = ""
    bucket: str = ""
    prefix: str = ""
    backup_location_config: dict[str, str] = field(default_factory=dict)
    snapshot_location_config: dict[str, str] = field(default_factory=dict)
    create_backup_location: bool = True
    create_snapshot_location: bool = False
    secret_data: bytes | None = None  # the --secret-file contents; None = --no-secret
    plugin_images: list[str] = field(default_factory=list)
    use_node_agent: bool = False
    privileged_node_agent: bool = False
    default_volumes_to_fs_backup: bool = False
    pod_labels: dict[str, str] = field(default_factory=dict)
    pod_annotations: dict[str, str] = field(default_factory=dict)
    server_args: list[str] = field(default_factory=list)
    crds_only: bool = False
