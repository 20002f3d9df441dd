"""`veloro server` as a subprocess against kubesim (real HTTP) with the filesystem store: backups,
validation, locations, deletion, downloads, status requests, metrics and health endpoints."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_helpers import (
    NS,
    ServerProcess,
    backup,
    bsl,
    free_port,
    get,
    install_test_plugins,
    veloro,
    wait_for,
    wait_phase,
)

from kubesim.testing import KubeSimProcess
from veloro_core.kube import GroupVersionResource, KubeClient

EVENTS = GroupVersionResource("", "v1", "events")


@pytest.fixture(scope="module")
def store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("store")


@pytest.fixture(scope="module")
def record_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("records") / "deleted.txt"


@pytest.fixture(scope="module")
def server(
    sim: KubeSimProcess,
    kube: KubeClient,
    store_root: Path,
    record_file: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerProcess]:
    kube.create(veloro("backupstoragelocations"), bsl("default", store_root))
    plugin_dir = tmp_path_factory.mktemp("plugins")
    install_test_plugins(plugin_dir, record_file)
    process = ServerProcess(sim, "--download-url-ttl", "3s", plugin_dir=plugin_dir).start()
    yield process
    assert process.stop() == 0, process.log()
    process.close()


def test_backup_completes_with_store_contents_metrics_and_events(
    server: ServerProcess, kube: KubeClient, store_root: Path
) -> None:
    kube.create(veloro("backups"), backup("first", includedNamespaces=["app"]))
    done = wait_phase(kube, "backups", "first", ("Completed", "PartiallyFailed", "Failed"))
    status = done["status"]
    assert status["phase"] == "Completed", f"{status.get('failureReason')}\n{status}\n{server.log()}"
    # defaults written into the Backup, labels in both spellings
    assert done["spec"]["storageLocation"] == "default"
    assert done["spec"]["ttl"] == "720h0m0s"
    assert done["metadata"]["labels"]["velero.io/storage-location"] == "default"
    assert done["metadata"]["labels"]["veloro.io/storage-location"] == "default"
    assert done["status"]["progress"]["itemsBackedUp"] >= 3  # namespace + two config maps
    folder = store_root / "bucket" / "backups" / "first"
    assert {"velero-backup.json", "first.tar.gz", "first-logs.gz", "first-resource-list.json.gz"} <= {
        p.name for p in folder.iterdir()
    }
    stored = json.loads((folder / "velero-backup.json").read_text())
    assert stored["status"]["phase"] == "Completed"
    resources = json.loads(gzip.decompress((folder / "first-resource-list.json.gz").read_bytes()))
    assert {"app/one", "app/two"} <= set(resources["v1/ConfigMap"])
    assert server.metric("veloro_backup_success_total", 'schedule=""') == 1.0
    assert server.metric("veloro_backup_attempt_total", 'schedule=""') == 1.0
    assert server.metric("veloro_backup_location_status_gauge", 'backup_location_name="default"') == 1.0
    reasons = {
        e["reason"]
        for e in kube.list_items(EVENTS, NS)
        if e["involvedObject"]["name"] == "first" and e["involvedObject"]["kind"] == "Backup"
    }
    assert {"BackupStarted", "BackupCompleted"} <= reasons
    assert server.http("/healthz")[0] == 200
    assert server.http("/readyz") == (200, "ok\n")


def test_invalid_spec_lists_every_problem(server: ServerProcess, kube: KubeClient) -> None:
    kube.create(
        veloro("backups"),
        backup(
            "invalid",
            ttl="forever",
            includedResources=["pods"],
            includedClusterScopedResources=["nodes"],
            labelSelector={"matchLabels": {"a": "b"}},
            orLabelSelectors=[{"matchLabels": {"c": "d"}}],
            storageLocation="nowhere",
            volumeSnapshotLocations=["no-vsl"],
        ),
    )
    done = wait_phase(kube, "backups", "invalid", ("FailedValidation", "Completed", "Failed"))
    assert done["status"]["phase"] == "FailedValidation"
    problems = "\n".join(done["status"]["validationErrors"])
    assert len(done["status"]["validationErrors"]) >= 5, problems
    for fragment in ("ttl", "nowhere", "no-vsl", "orLabelSelectors"):
        assert fragment in problems, problems
    assert "cannot be used together" in problems, problems
    assert server.metric("veloro_backup_validation_failure_total", 'schedule=""') is not None


def test_unknown_location_fails_validation(server: ServerProcess, kube: KubeClient) -> None:
    kube.create(veloro("backups"), backup("to-unknown", storageLocation="missing"))
    done = wait_phase(kube, "backups", "to-unknown", ("FailedValidation", "Completed", "Failed"))
    assert done["status"]["phase"] == "FailedValidation"
    assert "'missing' does not exist" in done["status"]["validationErrors"][0]


def test_unreachable_location_is_unavailable_and_backups_to_it_fail_validation(
    server: ServerProcess, kube: KubeClient
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    kube.create(
        veloro("backupstoragelocations"),
        bsl(
            "dead-s3",
            "",
            provider="aws",
            config={"region": "us-east-1", "s3Url": dead, "s3ForcePathStyle": "true"},
        ),
    )
    location = wait_phase(kube, "backupstoragelocations", "dead-s3", ("Available", "Unavailable"))
    assert location["status"]["phase"] == "Unavailable"
    assert location["status"]["message"] and "\n" not in location["status"]["message"]
    assert location["status"]["lastValidationTime"]
    kube.create(veloro("backups"), backup("to-dead", storageLocation="dead-s3"))
    done = wait_phase(kube, "backups", "to-dead", ("FailedValidation", "Completed", "Failed"))
    assert done["status"]["phase"] == "FailedValidation"
    assert "Unavailable" in done["status"]["validationErrors"][0]
    assert server.metric("veloro_backup_location_status_gauge", 'backup_location_name="dead-s3"') == 0.0


def _download_request(kube: KubeClient, name: str, kind: str, target: str) -> dict[str, object]:
    kube.create(
        veloro("downloadrequests"),
        {
            "apiVersion": "veloro.io/v1",
            "kind": "DownloadRequest",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"target": {"kind": kind, "name": target}},
        },
    )
    return wait_phase(kube, "downloadrequests", name, ("Processed",))


def test_download_request_is_served_over_http_behind_an_expiring_token(
    server: ServerProcess, kube: KubeClient
) -> None:
    kube.create(veloro("backups"), backup("for-download", includedNamespaces=["app"]))
    wait_phase(kube, "backups", "for-download", ("Completed",))
    done = _download_request(kube, "dl-1", "BackupResourceList", "for-download")
    url = str(done["status"]["downloadURL"])  # type: ignore[index]
    assert url.startswith(f"http://127.0.0.1:{server.download_port}/download/"), url
    assert done["status"]["expiration"]  # type: ignore[index]
    with urllib.request.urlopen(url, timeout=5) as response:
        listing = json.loads(gzip.decompress(response.read()))
    assert "app/one" in listing["v1/ConfigMap"]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url.rsplit("/", 1)[0] + "/not-a-token", timeout=5)
    assert refused.value.code == 404
    # the server runs with --download-url-ttl 3s: the token dies, then the request is deleted
    wait_for(lambda: _status(url) == 404, 10, "the token to expire")
    wait_for(lambda: get(kube, "downloadrequests", "dl-1") is None, 10, "the expired request to go")
    missing = _download_request(kube, "dl-2", "BackupLog", "no-such-backup")
    assert missing["status"].get("downloadURL", "") == ""  # type: ignore[attr-defined]


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_server_status_request_lists_plugins(server: ServerProcess, kube: KubeClient) -> None:
    kube.create(
        veloro("serverstatusrequests"),
        {
            "apiVersion": "veloro.io/v1",
            "kind": "ServerStatusRequest",
            "metadata": {"name": "ssr", "namespace": NS},
            "spec": {},
        },
    )
    done = wait_phase(kube, "serverstatusrequests", "ssr", ("Processed",))
    status = done["status"]
    assert status["serverVersion"]
    assert status["processedTimestamp"]
    plugins = {(p["kind"], p["name"]) for p in status["plugins"]}
    assert ("ObjectStore", "veloro.io/filesystem") in plugins
    assert ("ObjectStore", "veloro.io/aws") in plugins
    assert ("DeleteItemAction", "test.veloro.io/record-delete") in plugins  # from --plugin-dir


def test_delete_backup_request_deletes_store_objects_restores_and_the_backup(
    server: ServerProcess, kube: KubeClient, store_root: Path, record_file: Path
) -> None:
    kube.create(veloro("backups"), backup("doomed", includedNamespaces=["app"]))
    wait_phase(kube, "backups", "doomed", ("Completed",))
    # a restore of it, with a file in the store, both must go with the backup
    kube.create(
        veloro("restores"),
        {
            "apiVersion": "veloro.io/v1",
            "kind": "Restore",
            "metadata": {"name": "doomed-restore", "namespace": NS},
            "spec": {"backupName": "missing-so-it-fails-validation"},
        },
    )
    wait_phase(kube, "restores", "doomed-restore", ("FailedValidation",))
    kube.patch(veloro("restores"), "doomed-restore", {"spec": {"backupName": "doomed"}}, NS)
    restore_dir = store_root / "bucket" / "restores" / "doomed-restore"
    restore_dir.mkdir(parents=True)
    (restore_dir / "restore-doomed-restore-logs.gz").write_bytes(gzip.compress(b"log\n"))
    assert (store_root / "bucket" / "backups" / "doomed").is_dir()
    kube.create(
        veloro("deletebackuprequests"),
        {
            "apiVersion": "veloro.io/v1",
            "kind": "DeleteBackupRequest",
            "metadata": {"name": "delete-doomed", "namespace": NS},
            "spec": {"backupName": "doomed"},
        },
    )
    done = wait_phase(kube, "deletebackuprequests", "delete-doomed", ("Processed",))
    assert done["status"].get("errors", []) == [], done["status"]
    assert get(kube, "backups", "doomed") is None
    assert get(kube, "restores", "doomed-restore") is None
    assert not (store_root / "bucket" / "backups" / "doomed").exists()
    assert not restore_dir.exists()
    assert {"app/one", "app/two"} <= set(record_file.read_text().split())  # the DeleteItemAction ran
    assert server.metric("veloro_backup_deletion_success_total", 'schedule=""') == 1.0


def test_restore_brings_deleted_objects_back_and_validates_its_source(
    server: ServerProcess, kube: KubeClient
) -> None:
    from server_helpers import CONFIGMAPS

    kube.create(veloro("backups"), backup("to-restore", includedNamespaces=["app"]))
    wait_phase(kube, "backups", "to-restore", ("Completed",))
    kube.delete(CONFIGMAPS, "one", "app")
    kube.create(veloro("restores"), _restore("put-back", backupName="to-restore"))
    done = wait_phase(
        kube, "restores", "put-back", ("Completed", "PartiallyFailed", "Failed", "FailedValidation")
    )
    assert done["status"]["phase"] in ("Completed", "PartiallyFailed"), (done["status"], server.log())
    restored = kube.get(CONFIGMAPS, "one", "app")
    assert restored["data"] == {"k": "one"}
    assert restored["metadata"]["labels"]["veloro.io/restore-name"] == "put-back"
    reasons = {e["reason"] for e in kube.list_items(EVENTS, NS) if e["involvedObject"]["name"] == "put-back"}
    assert "RestoreStarted" in reasons
    for name, spec, fragment in (
        ("both-names", {"backupName": "to-restore", "scheduleName": "s"}, "exactly one"),
        ("no-name", {}, "exactly one"),
        ("unknown-backup", {"backupName": "nope"}, "'nope' was not found"),
        ("no-schedule-backup", {"scheduleName": "never-ran"}, "no Completed backup"),
        ("failed-backup", {"backupName": "invalid"}, "only a Completed or PartiallyFailed"),
    ):
        kube.create(veloro("restores"), _restore(name, **spec))
        bad = wait_phase(kube, "restores", name, ("FailedValidation", "Completed", "Failed"))
        assert bad["status"]["phase"] == "FailedValidation", name
        assert fragment in bad["status"]["validationErrors"][0], (name, bad["status"])


def _restore(name: str, **spec: object) -> dict[str, object]:
    return {
        "apiVersion": "veloro.io/v1",
        "kind": "Restore",
        "metadata": {"name": name, "namespace": NS},
        "spec": spec,
    }
