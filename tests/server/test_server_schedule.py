"""Schedules through the real server: `@every 2s` produces backups named <schedule>-<timestamp> with the
schedule label, a bad cron fails validation, a paused schedule makes none, and gc (short period) turns
expired backups into DeleteBackupRequests that remove them from the cluster and the store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from server_helpers import NS, ServerProcess, bsl, veloro, wait_for, wait_phase

from kubesim.testing import KubeSimProcess
from veloro_core.kube import KubeClient


@pytest.fixture(scope="module")
def store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("store")


@pytest.fixture(scope="module")
def server(sim: KubeSimProcess, kube: KubeClient, store_root: Path) -> Iterator[ServerProcess]:
    kube.create(veloro("backupstoragelocations"), bsl("default", store_root, default=True))
    process = ServerProcess(sim, "--garbage-collection-frequency", "500ms").start()
    yield process
    assert process.stop() == 0, process.log()
    process.close()


def schedule(name: str, cron: str, **spec: object) -> dict[str, object]:
    return {
        "apiVersion": "veloro.io/v1",
        "kind": "Schedule",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"schedule": cron, "template": {"includedNamespaces": ["app"], "ttl": "4s"}, **spec},
    }


def backups_of(kube: KubeClient, name: str) -> list[dict[str, object]]:
    return list(kube.list_items(veloro("backups"), NS, label_selector=f"velero.io/schedule-name={name}"))


def test_every_schedule_produces_backups_that_gc_collects(
    server: ServerProcess, kube: KubeClient, store_root: Path
) -> None:
    sched_obj = kube.create(veloro("schedules"), schedule("often", "@every 2s"))
    wait_phase(kube, "schedules", "often", ("Enabled",))
    assert backups_of(kube, "often") == []  # not immediately: at the next tick
    first = wait_for(lambda: backups_of(kube, "often"), 10, "a scheduled backup")[0]
    # The first run is one period after the schedule's creation (timestamps have whole seconds).
    created, started = (
        datetime.fromisoformat(str(o["metadata"]["creationTimestamp"]).replace("Z", "+00:00"))  # type: ignore[index]
        for o in (sched_obj, first)
    )
    assert (started - created).total_seconds() >= 2
    name = str(first["metadata"]["name"])  # type: ignore[index]
    assert name.startswith("often-") and len(name) == len("often-") + 14
    assert first["metadata"]["labels"]["veloro.io/schedule-name"] == "often"  # type: ignore[index]
    wait_phase(kube, "backups", name, ("Completed",))
    wait_for(lambda: len(backups_of(kube, "often")) >= 2, 10, "a second scheduled backup")
    sched = wait_phase(kube, "schedules", "often", ("Enabled",))
    assert sched["status"]["lastBackup"]
    assert server.metric("veloro_backup_success_total", 'schedule="often"')
    # ttl 4s + gc every 500 ms: the first backup goes from the cluster and the store
    kube.patch(veloro("schedules"), "often", {"spec": {"paused": True}}, NS)
    wait_for(
        lambda: not any(b["metadata"]["name"] == name for b in backups_of(kube, "often")),
        20,
        "gc to delete the expired backup",
    )
    assert not (store_root / "bucket" / "backups" / name).exists()
    requests = list(kube.list_items(veloro("deletebackuprequests"), NS))
    assert any(r["spec"]["backupName"] == name and r["status"]["phase"] == "Processed" for r in requests)


def test_bad_cron_fails_validation(server: ServerProcess, kube: KubeClient) -> None:
    kube.create(veloro("schedules"), schedule("broken", "every day at noon"))
    done = wait_phase(kube, "schedules", "broken", ("FailedValidation", "Enabled"))
    assert done["status"]["phase"] == "FailedValidation"
    assert "5 fields" in done["status"]["validationErrors"][0]
    kube.create(veloro("schedules"), schedule("bad-every", "@every soon"))
    done = wait_phase(kube, "schedules", "bad-every", ("FailedValidation", "Enabled"))
    assert "invalid duration" in done["status"]["validationErrors"][0]


def test_paused_schedule_makes_no_backups(server: ServerProcess, kube: KubeClient) -> None:
    kube.create(veloro("schedules"), schedule("resting", "@every 1s", paused=True))
    wait_phase(kube, "schedules", "resting", ("Enabled",))
    time.sleep(2.5)
    assert backups_of(kube, "resting") == []
