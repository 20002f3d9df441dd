"""Two backup storage locations of one provider (filesystem) with different roots: each on its own plugin
instance, so they are used at the same time without waiting for or re-initialising each other.

In-process: Locations holds both stores open at once (this used to make the second one wait). Through
`veloro server`: two backups at once (--backup-concurrency 2) each land in their own root, both locations
are Available, and deleting a location stops its plugin instance process.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_helpers import NS, ServerProcess, backup, bsl, get, veloro, wait_for, wait_phase

from kubesim.testing import KubeSimProcess
from veloro_core.api import BackupStorageLocation
from veloro_core.kube import KubeClient
from veloro_core.plugins import PluginManager, PluginSettings
from veloro_core.server.stores import Locations

RUN_PLUGINS = [sys.executable, "-m", "veloro_core.cli", "run-plugins"]


@pytest.fixture
def locations(kube: KubeClient) -> Iterator[Locations]:
    settings = PluginSettings(builtin_commands=[RUN_PLUGINS], entry_point_group=None, auto_mtls=False)
    with PluginManager.discover(settings) as plugins:
        locations = Locations(kube, plugins, NS)
        yield locations
        locations.close()


def _location(name: str, root: Path) -> BackupStorageLocation:
    return BackupStorageLocation.from_dict(bsl(name, root))


def _instance_pid(locations: Locations, instance: str) -> int | None:
    for host in locations.plugins.instances():
        if host.instance == instance and host.process is not None and host.process.alive:
            return host.process.pid
    return None


def test_two_locations_of_one_provider_are_open_at_once(locations: Locations, tmp_path: Path) -> None:
    a, b = _location("a", tmp_path / "a"), _location("b", tmp_path / "b")
    errors: list[BaseException] = []
    both_open = threading.Barrier(2, timeout=10)

    def use(location: BackupStorageLocation) -> None:
        try:
            # a short timeout: waiting for the other location (the old shared-instance gate) fails here
            with locations.backup_store(location, timeout=0.5, reinit=True) as store:
                store.validate()
                both_open.wait()  # both stores are open at the same time
                for i in range(20):
                    store.store.put_object(store.bucket, f"k{i}", [location.name.encode()])
                    assert b"".join(store.store.get_object(store.bucket, f"k{i}")) == location.name.encode()
        except BaseException as exc:  # re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=use, args=(loc,)) for loc in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    for name in ("a", "b"):
        files = list((tmp_path / name / "bucket").glob("k*"))
        assert len(files) == 20 and {f.read_bytes() for f in files} == {name.encode()}


def test_a_deleted_location_is_released_after_its_last_user(locations: Locations, tmp_path: Path) -> None:
    a, b = _location("a", tmp_path / "a"), _location("b", tmp_path / "b")
    with locations.backup_store(a) as store_a:
        store_a.validate()
    with locations.backup_store(b) as store_b:
        store_b.validate()
        pid_a, pid_b = _instance_pid(locations, "bsl/a"), _instance_pid(locations, "bsl/b")
        assert pid_a is not None and pid_b is not None and pid_a != pid_b
        locations.forget_missing("bsl", [])  # both deleted; b is still in use here
        assert wait_for(lambda: _instance_pid(locations, "bsl/a") is None, 5, "instance a released")
        store_b.validate()  # b keeps working until its user is done
        assert _instance_pid(locations, "bsl/b") == pid_b
    assert _instance_pid(locations, "bsl/b") is None
    assert not locations.has_instances("bsl")


def _plugin_children(server: ServerProcess) -> int:
    """run-plugins processes started by the server (the shared one plus one per location instance)."""
    assert server.proc is not None
    count = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == server.proc.pid and stat[0] not in "ZX" and b"run-plugins" in cmdline:
            count += 1
    return count


def test_backups_to_two_roots_at_once(sim: KubeSimProcess, kube: KubeClient, tmp_path: Path) -> None:
    roots = {name: tmp_path / name for name in ("one", "two")}
    for name, root in roots.items():
        kube.create(veloro("backupstoragelocations"), bsl(name, root))
    server = ServerProcess(sim, "--backup-concurrency", "2").start()
    try:
        for name in roots:
            wait_phase(kube, "backupstoragelocations", name, ("Available",), timeout=20)
        for name in roots:
            spec = {"storageLocation": name, "includedNamespaces": ["app"]}
            kube.create(veloro("backups"), backup(f"to-{name}", **spec))
        for name in roots:
            done = wait_phase(kube, "backups", f"to-{name}", ("Completed", "PartiallyFailed", "Failed"))
            assert done["status"]["phase"] == "Completed", (done["status"], server.log())
        for name, root in roots.items():  # each backup in its own location's root only
            stored = {p.name for p in (root / "bucket" / "backups").iterdir()}
            assert stored == {f"to-{name}"}, stored
        for name in roots:  # validation of both kept working alongside
            assert (get(kube, "backupstoragelocations", name) or {})["status"]["phase"] == "Available"
        before = _plugin_children(server)
        assert before >= 2, server.log()  # at least one process per location instance
        kube.delete(veloro("backupstoragelocations"), "two", NS)
        wait_for(lambda: _plugin_children(server) == before - 1, 15, "the deleted location's process stopped")
    finally:
        assert server.stop() == 0, server.log()
        server.close()
