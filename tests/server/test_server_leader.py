"""Two servers on one cluster: exactly one holds the Lease and acts; when it stops (SIGTERM releases the
lease) or dies (SIGKILL: the lease expires), the standby takes over and processes new work."""

from __future__ import annotations

from pathlib import Path

from server_helpers import (
    LEASES,
    NS,
    ServerProcess,
    backup,
    bsl,
    veloro,
    wait_for,
    wait_phase,
)

from kubesim.testing import KubeSimProcess
from veloro_core.kube import GroupVersionResource, KubeClient

EVENTS = GroupVersionResource("", "v1", "events")


def _started_events(kube: KubeClient, name: str) -> int:
    return sum(
        1
        for e in kube.list_items(EVENTS, NS)
        if e["involvedObject"]["name"] == name and e["reason"] == "BackupStarted"
    )


def test_only_the_leader_acts_and_a_standby_takes_over(
    sim: KubeSimProcess, kube: KubeClient, tmp_path: Path
) -> None:
    kube.create(veloro("backupstoragelocations"), bsl("default", tmp_path))
    first, second = ServerProcess(sim).start(), ServerProcess(sim).start()
    try:
        leader = wait_for(lambda: [s for s in (first, second) if s.is_leader()], 10, "a leader")
        assert len(leader) == 1
        leader_proc = leader[0]
        standby = second if leader_proc is first else first
        assert standby.metric("veloro_server_leader") == 0.0
        assert standby.http("/readyz")[0] == 200  # a standby is ready (it serves health and metrics)
        lease = kube.get(LEASES, "veloro-server", NS)["spec"]
        assert lease["holderIdentity"] and lease["leaseDurationSeconds"] == 3 and lease["renewTime"]

        kube.create(veloro("backups"), backup("once", includedNamespaces=["app"]))
        wait_phase(kube, "backups", "once", ("Completed",))
        assert _started_events(kube, "once") == 1
        assert leader_proc.metric("veloro_backup_attempt_total", 'schedule=""') == 1.0
        assert standby.metric("veloro_backup_attempt_total", 'schedule=""') is None

        # SIGTERM releases the lease: the standby leads within a few retry periods
        assert leader_proc.stop() == 0, leader_proc.log()
        wait_for(standby.is_leader, 10, "the standby to lead")
        kube.create(veloro("backups"), backup("after-handover", includedNamespaces=["app"]))
        wait_phase(kube, "backups", "after-handover", ("Completed",))

        # SIGKILL: the lease is not released; a new server waits for it to expire (3 s), then leads
        leader_proc.start()
        assert not leader_proc.is_leader()
        standby.kill()
        wait_for(leader_proc.is_leader, 15, "the restarted server to lead after the lease expired")
        kube.create(veloro("backups"), backup("after-kill", includedNamespaces=["app"]))
        wait_phase(kube, "backups", "after-kill", ("Completed",))
    finally:
        for server in (first, second):
            server.stop()
            server.close()
