"""`veloro backup ...` against kubesim over HTTP: the Backup objects the flags produce, -o without
creating, tables, --wait with a progress bar and exit codes, delete through DeleteBackupRequests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import pytest
import yaml
from cli_cluster import BACKUPS, DBRS, Veloro, background, set_status, wait_for

from veloro_core.kube import KubeClient, NotFound


def test_create_with_output_prints_and_creates_nothing(veloro: Veloro, kube: KubeClient, ns: str) -> None:
    result = veloro("backup", "create", "dry", "--include-namespaces", "app", "-o", "yaml")
    assert result.code == 0, result.output
    obj = yaml.safe_load(result.stdout)
    assert obj["apiVersion"] == "veloro.io/v1" and obj["kind"] == "Backup"
    assert obj["metadata"] == {"name": "dry", "namespace": ns}
    assert obj["spec"]["includedNamespaces"] == ["app"]
    with pytest.raises(NotFound):
        kube.get(BACKUPS, "dry", ns)
    as_json = veloro("backup", "create", "dry", "-o", "json")
    assert json.loads(as_json.stdout)["metadata"]["name"] == "dry"


def test_create_builds_the_spec_from_every_flag(veloro: Veloro, kube: KubeClient, ns: str) -> None:
    result = veloro(
        "backup",
        "create",
        "full",
        "--include-namespaces",
        "a,b",
        "--include-namespaces",
        "c",
        "--exclude-namespaces",
        "kube-system",
        "--include-resources",
        "deployments,configmaps",
        "--exclude-resources",
        "secrets",
        "--include-cluster-resources=false",
        "-l",
        "app=web,tier in (db,cache),!legacy",
        "--ordered-resources",
        "pods=a/p1,a/p2;persistentvolumeclaims=a/c1",
        "--ttl",
        "36h",
        "--labels",
        "team=x,env=prod",
        "--annotations",
        "note=hello",
        "--storage-location",
        "s3",
        "--volume-snapshot-locations",
        "ebs-1,ebs-2",
        "--snapshot-volumes=false",
        "--default-volumes-to-fs-backup",
        "--csi-snapshot-timeout",
        "5m",
        "--item-operation-timeout",
        "2h",
        "--resource-policies-configmap",
        "policies",
    )
    assert result.code == 0, result.output
    assert 'Backup request "full" submitted successfully.' in result.stdout
    obj = kube.get(BACKUPS, "full", ns)
    assert obj["metadata"]["labels"] == {"team": "x", "env": "prod"}
    assert obj["metadata"]["annotations"] == {"note": "hello"}
    assert obj["spec"] == {
        "includedNamespaces": ["a", "b", "c"],
        "excludedNamespaces": ["kube-system"],
        "includedResources": ["deployments", "configmaps"],
        "excludedResources": ["secrets"],
        "includeClusterResources": False,
        "labelSelector": {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["cache", "db"]},
                {"key": "legacy", "operator": "DoesNotExist"},
            ],
        },
        "orderedResources": {"pods": "a/p1,a/p2", "persistentvolumeclaims": "a/c1"},
        "ttl": "36h",
        "storageLocation": "s3",
        "volumeSnapshotLocations": ["ebs-1", "ebs-2"],
        "snapshotVolumes": False,
        "defaultVolumesToFsBackup": True,
        "csiSnapshotTimeout": "5m",
        "itemOperationTimeout": "2h",
        "resourcePolicy": {"kind": "configmap", "name": "policies"},
    }


def test_new_style_filters_and_or_selector(veloro: Veloro, kube: KubeClient, ns: str) -> None:
    result = veloro(
        "backup",
        "create",
        "newstyle",
        "--include-cluster-scoped-resources",
        "storageclasses",
        "--exclude-namespace-scoped-resources",
        "secrets",
        "--or-selector",
        "a=1 or b=2",
    )
    assert result.code == 0, result.output
    spec = kube.get(BACKUPS, "newstyle", ns)["spec"]
    assert spec["includedClusterScopedResources"] == ["storageclasses"]
    assert spec["excludedNamespaceScopedResources"] == ["secrets"]
    assert spec["orLabelSelectors"] == [{"matchLabels": {"a": "1"}}, {"matchLabels": {"b": "2"}}]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ttl", "forever"], "Invalid value for '--ttl'"),
        (
            ["--include-resources", "pods", "--include-cluster-scoped-resources", "nodes"],
            "cannot be combined",
        ),
        (["-l", "a=b", "--or-selector", "c=d"], "mutually exclusive"),
        (["-l", "a in ()"], "Invalid value for '--selector'"),
        (["--snapshot-volumes=maybe"], "not a valid boolean"),
        (["--labels", "novalue"], "is not KEY=VALUE"),
    ],
)
def test_bad_flags_are_usage_errors(
    veloro: Veloro, kube: KubeClient, ns: str, args: list[str], message: str
) -> None:
    result = veloro("backup", "create", "bad", *args)
    assert result.code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.stderr
    with pytest.raises(NotFound):
        kube.get(BACKUPS, "bad", ns)


def test_create_needs_a_name_and_refuses_duplicates(veloro: Veloro) -> None:
    missing = veloro("backup", "create")
    assert missing.code == 2 and "NAME is required" in missing.stderr
    assert veloro("backup", "create", "twice").code == 0
    again = veloro("backup", "create", "twice")
    assert again.code == 1 and "already exists" in again.stderr and "Traceback" not in again.stderr


def test_from_schedule_uses_the_template(veloro: Veloro, kube: KubeClient, ns: str) -> None:
    assert (
        veloro(
            "schedule",
            "create",
            "nightly",
            "--schedule",
            "0 1 * * *",
            "--include-namespaces",
            "web",
            "--ttl",
            "10h",
        ).code
        == 0
    )
    result = veloro("backup", "create", "--from-schedule", "nightly")
    assert result.code == 0, result.output
    backups = list(kube.list_items(BACKUPS, ns))
    assert len(backups) == 1
    made = backups[0]
    assert (
        made["metadata"]["name"].startswith("nightly-")
        and len(made["metadata"]["name"]) == len("nightly-") + 14
    )
    assert made["metadata"]["labels"]["veloro.io/schedule-name"] == "nightly"
    assert made["spec"] == {"includedNamespaces": ["web"], "ttl": "10h"}
    mixed = veloro("backup", "create", "--from-schedule", "nightly", "--ttl", "1h")
    assert mixed.code == 2 and "--from-schedule" in mixed.stderr


def test_get_table_json_and_kubectl_style_verbs(veloro: Veloro, kube: KubeClient, ns: str) -> None:
    for name in ("alpha", "beta"):
        assert veloro("backup", "create", name, "--labels", f"which={name}").code == 0
    set_status(
        kube,
        BACKUPS,
        "alpha",
        ns,
        {"phase": "Completed", "errors": 2, "warnings": 3, "startTimestamp": "2024-05-01T10:00:00Z"},
    )
    table = veloro("backup", "get")
    assert table.code == 0, table.output
    lines = table.stdout.strip().splitlines()
    assert lines[0].split()[:4] == ["NAME", "STATUS", "ERRORS", "WARNINGS"]
    alpha = next(line for line in lines if line.startswith("alpha")).split()
    assert alpha[1:4] == ["Completed", "2", "3"] and "2024-05-01" in alpha
    assert any(line.startswith("beta") and " New " in line for line in lines)
    as_list = json.loads(veloro("get", "backups", "-o", "json").stdout)
    assert as_list["kind"] == "List" and [i["metadata"]["name"] for i in as_list["items"]] == [
        "alpha",
        "beta",
    ]
    single = json.loads(veloro("get", "backup", "alpha", "-o", "json").stdout)
    assert single["kind"] == "Backup" and single["status"]["errors"] == 2
    selected = veloro("backup", "get", "-l", "which=beta", "-o", "yaml")
    assert [i["metadata"]["name"] for i in yaml.safe_load(selected.stdout)["items"]] == ["beta"]
    missing = veloro("backup", "get", "nope")
    assert missing.code == 3 and "'nope' not found" in missing.stderr


def test_describe_shows_spec_and_status(veloro: Veloro, kube: KubeClient, ns: str) -> None:
    veloro("backup", "create", "desc", "--include-namespaces", "shop", "-l", "app=web", "--ttl", "2h")
    set_status(
        kube,
        BACKUPS,
        "desc",
        ns,
        {
            "phase": "PartiallyFailed",
            "errors": 1,
            "warnings": 4,
            "formatVersion": "1.1.0",
            "validationErrors": [],
            "failureReason": "",
            "progress": {"totalItems": 10, "itemsBackedUp": 9},
        },
    )
    result = veloro("describe", "backups", "desc")
    assert result.code == 0, result.output
    text = result.stdout
    for expected in (
        "Name:\tdesc",
        "Phase:\tPartiallyFailed",
        "Errors:\t1",
        "Warnings:\t4",
        "Included:\tshop",
        "Label selector:\tapp=web",
        "TTL:\t2h",
        "Backup Format Version:\t1.1.0",
        "Total items to be backed up:\t10",
        "Items backed up:\t9",
    ):
        assert expected in text, expected


def _progress_then(
    kube: KubeClient, ns: str, name: str, final: dict[str, object]
) -> Callable[[threading.Event], None]:
    def run(stop: threading.Event) -> None:
        if not wait_for(kube, BACKUPS, name, ns, stop):
            return
        set_status(kube, BACKUPS, name, ns, {"phase": "InProgress", "progress": {"totalItems": 4}})
        for done in range(1, 5):
            time.sleep(0.15)
            set_status(kube, BACKUPS, name, ns, {"progress": {"totalItems": 4, "itemsBackedUp": done}})
        set_status(kube, BACKUPS, name, ns, final)

    return run


def test_wait_exits_0_when_completed(veloro: Veloro, kube: KubeClient, ns: str) -> None:
    with background(_progress_then(kube, ns, "waited", {"phase": "Completed"})):
        result = veloro("backup", "create", "waited", "--wait")
    assert result.code == 0, result.output
    assert "Waiting for backup waited to complete" in result.stderr
    assert "finished with phase Completed (4/4 items" in result.stdout


def test_wait_exits_1_on_failed_and_partially_failed(veloro: Veloro, kube: KubeClient, ns: str) -> None:
    failed = {"phase": "Failed", "failureReason": "bucket gone"}
    with background(_progress_then(kube, ns, "doomed", failed)):
        result = veloro("backup", "create", "doomed", "-w")
    assert result.code == 1, result.output
    assert "ended in phase Failed: bucket gone" in result.stderr
    partial = {"phase": "PartiallyFailed", "errors": 2}
    with background(_progress_then(kube, ns, "halfway", partial)):
        result = veloro("backup", "create", "halfway", "--wait")
    assert result.code == 1
    assert (
        "partially failed with 2 error(s)" in result.stderr and "veloro backup logs halfway" in result.stderr
    )


def test_delete_creates_delete_backup_requests(veloro: Veloro, kube: KubeClient, ns: str) -> None:
    for name in ("d1", "d2", "keep"):
        veloro("backup", "create", name, "--labels", f"group={'x' if name != 'keep' else 'y'}")
    refused = veloro("backup", "delete", "d1")  # no terminal, no --confirm: refuse rather than guess
    assert refused.code == 2 and "--confirm" in refused.stderr
    assert not list(kube.list_items(DBRS, ns))
    both = veloro("backup", "delete", "d1", "--all", "--confirm")
    assert both.code == 2
    result = veloro("delete", "backup", "-l", "group=x", "--confirm")
    assert result.code == 0, result.output
    requests = sorted(r["spec"]["backupName"] for r in kube.list_items(DBRS, ns))
    assert requests == ["d1", "d2"]
    label = next(iter(kube.list_items(DBRS, ns)))["metadata"]["labels"]["veloro.io/backup-name"]
    assert label in ("d1", "d2")
    kube.get(BACKUPS, "d1", ns)  # the server deletes the backup, not the CLI
