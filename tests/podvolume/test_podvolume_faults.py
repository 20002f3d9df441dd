"""What goes wrong, through the real path (kubesim, the node agent process, restic): each failure ends as a
Failed object or result whose message says what is wrong."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from pv_helpers import (
    BSLS,
    GROUP,
    NODE,
    REPOS,
    SERVER_NS,
    VERSION,
    empty_dir,
    make_app,
    make_backup,
    make_bsl,
    restic_env,
    run_agent,
    wait_until,
)

from kubesim.testing import KubeSimProcess
from veloro_core.kube import KubeClient
from veloro_core.podvolume import PVBS, PodVolumeBackupper


def test_wrong_repository_password_fails_the_backup_and_marks_the_repository_not_ready(
    kube: KubeClient, agent: object, store_root: Path, tmp_path: Path
) -> None:
    make_bsl(kube, "badpw", store_root, bucket="other", prefix="")
    repo = store_root / "other" / "restic" / "bad"
    repo.parent.mkdir(parents=True)
    subprocess.run(
        ["restic", "init", "-q"], env=restic_env(str(repo), "not-the-password", tmp_path), check=True
    )
    pod = make_app(kube, "bad", {"backup.velero.io/backup-volumes": "data"})

    backup = make_backup(kube, "b-badpw", "badpw")
    results = PodVolumeBackupper(kube, SERVER_NS, "badpw", backup, timeout=60, poll=0.2).backup_pod(pod)

    assert [r.phase for r in results] == ["Failed"]
    assert "wrong password" in results[0].message and str(repo) in results[0].message
    assert "repository password secret" in results[0].message
    status = kube.get(REPOS, "bad-badpw-restic", SERVER_NS)["status"]
    assert status["phase"] == "NotReady" and "wrong password" in status["message"]


def test_pod_without_a_node_is_not_handed_to_any_agent(kube: KubeClient, agent: object) -> None:
    pod = make_app(
        kube, "pending", {"backup.velero.io/backup-volumes": "data,cache"}, storage_class="no-such-class"
    )
    assert not pod["spec"].get("nodeName")
    backup = make_backup(kube, "b-pending", "default")

    results = PodVolumeBackupper(kube, SERVER_NS, "default", backup, timeout=10).backup_pod(pod)

    assert [(r.volume, r.phase, r.name) for r in results] == [("data", "Failed", ""), ("cache", "Failed", "")]
    assert "not scheduled on a node" in results[0].message
    assert list(kube.list_items(PVBS, SERVER_NS, label_selector="veloro.io/backup-name=b-pending")) == []


def test_missing_volume_directory_fails_with_the_path_it_looked_for(
    kube: KubeClient, agent: object, data_dir: Path
) -> None:
    pod = make_app(kube, "nodir", {"backup.velero.io/backup-volumes": "cache"})
    shutil.rmtree(empty_dir(data_dir, pod, "cache"))
    backup = make_backup(kube, "b-nodir", "default")

    results = PodVolumeBackupper(kube, SERVER_NS, "default", backup, timeout=60, poll=0.2).backup_pod(pod)

    assert [r.phase for r in results] == ["Failed"]
    assert "no directory for volume 'cache'" in results[0].message
    assert pod["metadata"]["uid"] in results[0].message


def test_location_without_a_restic_backend_fails_before_creating_anything(kube: KubeClient) -> None:
    kube.create(
        BSLS,
        {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "BackupStorageLocation",
            "metadata": {"name": "gcs", "namespace": SERVER_NS},
            "spec": {"provider": "gcp", "objectStorage": {"bucket": "b"}},
        },
    )
    pod = make_app(kube, "gcsapp", {"backup.velero.io/backup-volumes": "data"})
    backup = make_backup(kube, "b-gcs", "gcs")

    results = PodVolumeBackupper(kube, SERVER_NS, "gcs", backup, timeout=5).backup_pod(pod)

    assert [r.phase for r in results] == ["Failed"] and results[0].name == ""
    assert "does not support provider 'gcp'" in results[0].message


def test_unfinished_volume_backups_time_out_with_a_hint(kube: KubeClient, data_dir: Path) -> None:
    """No agent serves node 'elsewhere': the wait is bounded and says where to look."""
    pod = make_app(kube, "noagent", {"backup.velero.io/backup-volumes": "cache"})
    pod["spec"]["nodeName"] = "elsewhere"
    backup = make_backup(kube, "b-noagent", "default")

    results = PodVolumeBackupper(kube, SERVER_NS, "default", backup, timeout=1, poll=0.2).backup_pod(pod)

    assert [r.phase for r in results] == ["Failed"] and results[0].name
    assert "did not finish within 1s" in results[0].message and "node agent" in results[0].message
    obj = wait_until(lambda: kube.get(PVBS, results[0].name, SERVER_NS))
    assert (obj.get("status") or {}).get("phase") in (None, "New")


def test_work_cut_short_by_an_agent_restart_is_failed_with_a_reason(
    kube: KubeClient, sim: KubeSimProcess, data_dir: Path, tmp_path: Path
) -> None:
    pvb = kube.create(
        PVBS,
        {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "PodVolumeBackup",
            "metadata": {"name": "interrupted", "namespace": SERVER_NS},
            "spec": {
                "node": NODE,
                "volume": "data",
                "backupStorageLocation": "default",
                "pod": {"namespace": "x", "name": "y"},
            },
        },
    )
    kube.patch_status(PVBS, pvb["metadata"]["name"], {"status": {"phase": "InProgress"}}, SERVER_NS)

    # started the way `veloro install --use-node-agent` runs it
    with run_agent(sim.kubeconfig, data_dir / "kubelet", tmp_path / "agent.log", install_form=True):
        status = wait_until(
            lambda: (
                (s := kube.get(PVBS, "interrupted", SERVER_NS).get("status") or {})
                and s.get("phase") == "Failed"
                and s
            ),
            timeout=20,
            what="PVB failed",
        )
    assert "restarted while this was in progress" in status["message"]


def test_kopia_objects_fail_clearly_instead_of_waiting(kube: KubeClient, agent: object) -> None:
    kube.create(
        PVBS,
        {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "PodVolumeBackup",
            "metadata": {"name": "kopia-one", "namespace": SERVER_NS},
            "spec": {
                "node": NODE,
                "volume": "data",
                "uploaderType": "kopia",
                "backupStorageLocation": "default",
                "pod": {"namespace": "x", "name": "y"},
            },
        },
    )
    status = wait_until(
        lambda: (
            (s := kube.get(PVBS, "kopia-one", SERVER_NS).get("status") or {})
            and s.get("phase") == "Failed"
            and s
        ),
        what="PVB failed",
    )
    assert "uploader type 'kopia' is not supported" in status["message"]
