"""The node agent: runs restic for the PodVolumeBackups/PodVolumeRestores of its node's pods and keeps
BackupRepositories initialised. Started by `veloro node-agent` (one per node, a DaemonSet in a cluster)."""

from veloro_core.nodeagent.agent import AgentSettings, NodeAgent
from veloro_core.nodeagent.volumes import find_volume_dir, volume_dir_name

__all__ = ["AgentSettings", "NodeAgent", "find_volume_dir", "volume_dir_name"]
