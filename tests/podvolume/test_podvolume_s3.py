"""File-level backup into an S3 location (moto server): the `s3:<s3Url>/<bucket>/<prefix>/restic/<ns>`
repository, credentials from the location's Secret reaching restic through its environment only."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import boto3
from pv_helpers import (
    BSLS,
    GROUP,
    SECRETS,
    SERVER_NS,
    VERSION,
    make_app,
    make_backup,
    make_restore,
    pv_dir,
    read_tree,
    run_moto,
    write_tree,
)

from veloro_core.kube import KubeClient
from veloro_core.podvolume import PodVolumeBackupper, PodVolumeRestorer, pod_volume_backups_document

ACCESS_KEY, SECRET_KEY = "AKIAPODVOLUMETEST001", "podvolume-secret-do-not-log"


def test_backup_and_restore_through_an_s3_location(
    kube: KubeClient, agent: object, agent_log: Path, data_dir: Path, tmp_path: Path
) -> None:
    with run_moto(tmp_path) as url:
        s3 = boto3.client(
            "s3",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )
        s3.create_bucket(Bucket="velobucket")
        cloud = f"[default]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
        kube.create(
            SECRETS,
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "cloud-credentials", "namespace": SERVER_NS},
                "data": {"cloud": base64.b64encode(cloud.encode()).decode()},
            },
        )
        kube.create(
            BSLS,
            {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": "BackupStorageLocation",
                "metadata": {"name": "s3", "namespace": SERVER_NS},
                "spec": {
                    "provider": "aws",
                    "objectStorage": {"bucket": "velobucket", "prefix": "cl1"},
                    "credential": {"name": "cloud-credentials", "key": "cloud"},
                    "config": {"region": "us-east-1", "s3Url": url, "s3ForcePathStyle": "true"},
                },
            },
        )
        pod = make_app(kube, "s3app", {"backup.velero.io/backup-volumes": "data"})
        volume = pv_dir(kube, data_dir, "s3app", pod).resolve()
        files = write_tree(volume, seed=11)

        backup = make_backup(kube, "b-s3", "s3")
        results = PodVolumeBackupper(kube, SERVER_NS, "s3", backup, timeout=60, poll=0.2).backup_pod(pod)

        assert [r.phase for r in results] == ["Completed"], [r.message for r in results]
        assert results[0].obj["spec"]["repoIdentifier"] == f"s3:{url}/velobucket/cl1/restic/s3app"
        keys = [
            o["Key"] for o in s3.list_objects_v2(Bucket="velobucket", Prefix="cl1/restic/s3app/")["Contents"]
        ]
        assert "cl1/restic/s3app/config" in keys and any(
            k.startswith("cl1/restic/s3app/snapshots/") for k in keys
        )

        shutil.rmtree(volume)
        volume.mkdir()
        restore = make_restore(kube, "r-s3", "b-s3", {})
        restored = PodVolumeRestorer(kube, SERVER_NS, restore, timeout=60, poll=0.2).restore_pod(
            pod, pod_volume_backups_document(results)
        )

        assert [r.phase for r in restored] == ["Completed"], [r.message for r in restored]
        assert read_tree(volume) == files
    # the secret went to restic through its environment: never into objects or logs
    assert SECRET_KEY not in agent_log.read_text() and SECRET_KEY not in str(results[0].obj)
