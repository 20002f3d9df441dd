"""Controllers run in-process against kubesim with a controlled clock: schedule ticks, gc expiry,
start-up recovery, and leader election between two electors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from server_helpers import LEASES, NS, backup, get, veloro, wait_for

from veloro_core.controllers.base import ControllerContext
from veloro_core.controllers.gc import GCController
from veloro_core.controllers.schedule import ScheduleController
from veloro_core.kube import KubeClient
from veloro_core.plugins import PluginManager, PluginRegistry, PluginSettings
from veloro_core.server.events import EventRecorder
from veloro_core.server.leader import LeaderElector
from veloro_core.server.metrics import Metrics
from veloro_core.server.recovery import BACKUP_REASON, fail_in_progress
from veloro_core.server.settings import LeaderSettings, ServerSettings
from veloro_core.server.stores import Locations


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ctx(kube: KubeClient, clock: Clock) -> Iterator[ControllerContext]:
    plugins = PluginManager(PluginRegistry([]), PluginSettings())  # these controllers call no plugin
    context = ControllerContext(
        kube=kube,
        settings=ServerSettings(namespace=NS),
        plugins=plugins,
        locations=Locations(kube, plugins, NS),
        metrics=Metrics(),
        events=EventRecorder(kube),
        clock=clock,
    )
    yield context
    context.locations.close()


def _backups_of(kube: KubeClient, schedule: str) -> list[str]:
    return sorted(
        b["metadata"]["name"]
        for b in kube.list_items(veloro("backups"), NS, label_selector=f"veloro.io/schedule-name={schedule}")
    )


def test_schedule_runs_at_the_next_tick_once_and_skips_while_one_is_in_flight(
    kube: KubeClient, ctx: ControllerContext, clock: Clock
) -> None:
    kube.create(
        veloro("schedules"),
        {
            "apiVersion": "veloro.io/v1",
            "kind": "Schedule",
            "metadata": {"name": "hourly", "namespace": NS},
            "spec": {"schedule": "0 * * * *", "template": {"ttl": "1h"}},
        },
    )
    created = datetime.fromisoformat(get(kube, "schedules", "hourly")["metadata"]["creationTimestamp"])
    controller = ScheduleController(ctx)
    clock.now = created.replace(minute=0, second=0) + timedelta(minutes=59, seconds=58)
    if clock.now < created:
        clock.now += timedelta(hours=1)
    controller.reconcile("hourly")
    assert get(kube, "schedules", "hourly")["status"]["phase"] == "Enabled"
    assert _backups_of(kube, "hourly") == []  # not immediately
    clock.now = clock.now.replace(second=0) + timedelta(minutes=1)  # the top of the hour
    controller.reconcile("hourly")
    controller.reconcile("hourly")  # same tick: no second backup
    expected = f"hourly-{clock.now.strftime('%Y%m%d%H%M%S')}"
    assert _backups_of(kube, "hourly") == [expected]
    made = get(kube, "backups", expected)
    assert made["spec"] == {"ttl": "1h"}
    assert made["metadata"]["labels"]["velero.io/schedule-name"] == "hourly"
    # an hour later the first backup is still New (nobody runs it here): skipped, recorded
    clock.now += timedelta(hours=1)
    controller.reconcile("hourly")
    assert _backups_of(kube, "hourly") == [expected]
    assert get(kube, "schedules", "hourly")["status"]["lastSkipped"]


def test_gc_requests_deletion_of_expired_backups_once(
    kube: KubeClient, ctx: ControllerContext, clock: Clock
) -> None:
    for name, hours in (("old", -1), ("fresh", 5)):
        kube.create(veloro("backups"), backup(name, storageLocation="default"))
        kube.patch_status(
            veloro("backups"),
            name,
            {
                "status": {
                    "phase": "Completed",
                    "expiration": (clock.now + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            },
            NS,
        )
    gc = GCController(ctx)
    gc.tick()
    gc.tick()
    requests = [r["spec"]["backupName"] for r in kube.list_items(veloro("deletebackuprequests"), NS)]
    assert requests == ["old"]
    request = next(iter(kube.list_items(veloro("deletebackuprequests"), NS)))
    assert request["metadata"]["labels"]["velero.io/backup-name"] == "old"


def test_recovery_marks_in_progress_backups_failed(kube: KubeClient, ctx: ControllerContext) -> None:
    kube.create(veloro("backups"), backup("orphan"))
    kube.patch_status(veloro("backups"), "orphan", {"status": {"phase": "InProgress"}}, NS)
    assert "Backup/orphan" in fail_in_progress(ctx)
    status = get(kube, "backups", "orphan")["status"]
    assert status["phase"] == "Failed" and status["failureReason"] == BACKUP_REASON


def test_leader_election_one_leader_then_handover(kube: KubeClient) -> None:
    events: list[str] = []

    def elector(identity: str) -> LeaderElector:
        settings = LeaderSettings(
            lease_name="test-lease", lease_duration=2, renew_deadline=1.5, retry_period=0.1, identity=identity
        )
        return LeaderElector(
            kube,
            NS,
            settings,
            lambda: events.append(f"start {identity}"),
            lambda: events.append(f"stop {identity}"),
        )

    a, b = elector("a"), elector("b")
    a.start()
    wait_for(lambda: a.leading, 5, "a to lead")
    b.start()
    time.sleep(0.5)
    assert not b.leading and events == ["start a"]
    lease = kube.get(LEASES, "test-lease", NS)["spec"]
    assert lease["holderIdentity"] == "a" and lease["leaseDurationSeconds"] == 2
    a.stop(release=True)
    wait_for(lambda: b.leading, 5, "b to take over the released lease")
    assert kube.get(LEASES, "test-lease", NS)["spec"]["leaseTransitions"] >= 1
    b.stop(release=True)
