"""The same disaster-recovery flow against S3 (moto in server mode): `veloro install --provider aws` with
a credentials --secret-file, backup -> delete the namespace -> restore, the files visible in the bucket.

The server runs locally (not in the cluster), so it cannot mount the credentials Secret as the installed
Deployment would; it gets the same file through AWS_SHARED_CREDENTIALS_FILE, which is exactly what the
Deployment sets (see veloro_core/install/manifests.py)."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from e2e_helpers import NS, Stack, app_snapshot, deploy_sample_app, moto_server, start_stack

ACCESS_KEY = "AKIAE2ETESTKEY000001"
SECRET_KEY = "e2e-secret-key-0001"
BUCKET = "veloro-e2e"


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, object, Path]]:
    tmp = tmp_path_factory.mktemp("aws")
    creds = tmp / "credentials-veloro"
    creds.write_text(f"[default]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n")
    with moto_server(tmp) as url:
        client = boto3.client(
            "s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY, config=Config(s3={"addressing_style": "path"}),
        )  # fmt: skip
        client.create_bucket(Bucket=BUCKET)
        install = [
            "--provider", "aws", "--bucket", BUCKET, "--prefix", "cluster-a",
            "--backup-location-config", f"region=us-east-1,s3ForcePathStyle=true,s3Url={url}",
            "--secret-file", str(creds),
        ]  # fmt: skip
        # nothing but the file may supply credentials
        env = {"AWS_SHARED_CREDENTIALS_FILE": str(creds), "AWS_CONFIG_FILE": os.devnull}
        with pytest.MonkeyPatch.context() as patch:
            for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
                patch.delenv(key, raising=False)
            with start_stack(tmp / "home", install, [], env) as stack:
                yield stack, client, creds


def test_backup_and_restore_through_s3(s3: tuple[Stack, object, Path]) -> None:
    stack, client, creds = s3
    secret = stack.kget("secret", "cloud-credentials", "-n", NS)
    assert base64.b64decode(secret["data"]["cloud"]) == creds.read_bytes()
    bsl = stack.veloro_obj("backupstoragelocations", "default")
    assert bsl is not None and bsl["spec"]["provider"] == "aws"

    ns = "e2e-s3"
    deploy_sample_app(stack, ns)
    before = app_snapshot(stack, ns)
    stack.cli.run("backup", "create", "s3-1", "--include-namespaces", ns, "--wait")
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix="cluster-a/backups/s3-1/")  # type: ignore[attr-defined]
    keys = {o["Key"].rsplit("/", 1)[1] for o in listed.get("Contents", [])}
    assert {"velero-backup.json", "s3-1.tar.gz", "s3-1-logs.gz", "s3-1-resource-list.json.gz"} <= keys, keys

    stack.kubectl("delete", "namespace", ns, "--wait=true", "--timeout=60s")
    stack.cli.run("restore", "create", "s3-1-r", "--from-backup", "s3-1", "--wait")
    assert app_snapshot(stack, ns) == before

    # logs come through a presigned S3 URL
    assert "restore=s3-1-r" in stack.cli.run("restore", "logs", "s3-1-r").stdout
    details = stack.cli.run("backup", "describe", "s3-1", "--details").stdout
    assert f"- {ns}/web-config" in details
