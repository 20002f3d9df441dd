"""ServerSettings: everything `veloro server` is told on its command line, grouped and passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from veloro_core.kube import KubeSettings

# Every controller the server runs, by the name --disable-controllers uses (Velero's names).
CONTROLLERS = (
    "backup",
    "restore",
    "schedule",
    "gc",
    "backup-deletion",
    "backup-sync",
    "backup-storage-location",
    "download-request",
    "server-status-request",
)


def parse_address(text: str, default_host: str = "") -> tuple[str, int]:
    """ ":8085" / "127.0.0.1:8086" -> (host, port); an empty host means every interface (as Go's net)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"invalid address {text!r}: expected HOST:PORT or :PORT, e.g. 127.0.0.1:8085")
    return (host.strip("[]") or default_host), int(port)


@dataclass
class LeaderSettings:
    """Lease timings (client-go's defaults: 15 s lease, renew within 10 s, retry every 2 s)."""

    enabled: bool = True
    lease_name: str = "veloro-server"
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    identity: str = ""


@dataclass
class ServerSettings:
    namespace: str = "veloro"
    kubeconfig: str | None = None
    kubecontext: str | None = None
    kube: KubeSettings = field(default_factory=KubeSettings)
    plugin_dirs: list[str] = field(default_factory=lambda: ["/plugins"])
    # Python distributions declaring plugins in the `veloro.plugins` entry-point group are loaded too.
    entry_point_plugins: bool = True
    metrics_address: str = ":8085"
    download_address: str = "127.0.0.1:8086"
    # The base URL the CLI uses to reach the download server (default: http://<download-address>).
    download_url_base: str = ""
    default_backup_ttl: timedelta = timedelta(hours=720)
    backup_sync_period: timedelta = timedelta(minutes=1)
    store_validation_frequency: timedelta = timedelta(minutes=1)
    gc_frequency: timedelta = timedelta(hours=1)
    download_url_ttl: timedelta = timedelta(minutes=10)
    restore_resource_priorities: list[str] | None = None
    # provider -> VolumeSnapshotLocation name (--default-volume-snapshot-locations aws:vsl1,...).
    default_volume_snapshot_locations: dict[str, str] = field(default_factory=dict)
    disabled_controllers: frozenset[str] = frozenset()
    backup_concurrency: int = 1
    restore_concurrency: int = 1
    # How often the controllers' lists are refreshed besides the watch (the watch gives the latency).
    resync_period: float = 30.0
    # Ticks of the time-driven controllers (schedule, bsl, sync, gc) are checked this often.
    tick_period: float = 1.0
    terminating_timeout: float = 30.0
    status_request_ttl: timedelta = timedelta(minutes=1)
    leader: LeaderSettings = field(default_factory=LeaderSettings)
    log_level: str = "info"
    log_format: str = "text"

    def enabled(self, controller: str) -> bool:
        return controller not in self.disabled_controllers
