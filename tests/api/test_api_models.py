"""The typed models: round trips, Velero-format objects, clear errors, defaults left to controllers."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from api_helpers import MOMENT, populated

from veloro_core.api import (
    ALL_RESOURCES,
    API_VERSION,
    DEFAULT_BACKUP_TTL,
    DEFAULT_CSI_SNAPSHOT_TIMEOUT,
    DEFAULT_ITEM_OPERATION_TIMEOUT,
    VELERO_API_VERSION,
    ApiValidationError,
    Backup,
    BackupPhase,
    BackupSpec,
    BackupStorageLocation,
    DownloadRequest,
    DownloadTargetKind,
    Duration,
    ExistingResourcePolicy,
    HookErrorMode,
    LabelSelector,
    PodVolumeBackup,
    Resource,
    Restore,
    Schedule,
    ServerStatusRequest,
    parse_object,
    resource_for_name,
)

DATA = Path(__file__).parent / "data"


def velero_backup_json() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / "velero-backup.json").read_text())
    return loaded


@pytest.mark.parametrize("resource", ALL_RESOURCES, ids=lambda r: r.KIND)
def test_every_field_round_trips(resource: type[Resource]) -> None:
    obj = populated(resource)
    wire = obj.to_dict()
    assert wire["apiVersion"] == API_VERSION and wire["kind"] == resource.KIND
    text = json.dumps(wire)  # plain JSON, nothing Python-specific left
    again = resource.from_dict(json.loads(text))
    assert again == obj
    assert again.to_dict() == wire


def leaves(value: Any) -> set[Any]:
    if isinstance(value, dict):
        return set().union(*(leaves(item) for item in value.values()))
    return {value}


@pytest.mark.parametrize("resource", ALL_RESOURCES, ids=lambda r: r.KIND)
def test_empty_object_round_trips(resource: type[Resource]) -> None:
    obj = resource(metadata={"name": "x"})
    wire = obj.to_dict()
    assert list(wire) == ["apiVersion", "kind", "metadata", "spec"]  # no status until a controller sets one
    assert leaves(wire["spec"]) <= {""}  # only empty always-written (required) fields
    assert resource.from_dict(obj.to_dict()) == obj


def test_wire_names_are_camel_case_with_velero_spellings() -> None:
    spec = populated(Restore).to_dict()["spec"]
    assert "restorePVs" in spec and "namespaceMapping" in spec and "existingResourcePolicy" in spec
    pvb = populated(PodVolumeBackup).to_dict()
    assert "snapshotID" in pvb["status"] and "repoIdentifier" in pvb["spec"]
    assert "downloadURL" in populated(DownloadRequest).to_dict()["status"]
    bsl = populated(BackupStorageLocation).to_dict()["spec"]
    assert set(bsl["objectStorage"]) == {"bucket", "prefix", "caCert"}
    assert set(bsl["credential"]) == {"name", "key", "optional"}


def test_velero_backup_json_is_read() -> None:
    backup = Backup.from_dict(velero_backup_json())
    assert backup.api_version == VELERO_API_VERSION and backup.is_velero
    assert backup.name == "nginx-backup" and backup.namespace == "velero"
    assert backup.labels["velero.io/storage-location"] == "default"
    spec, status = backup.spec, backup.status
    assert spec.included_namespaces == ["nginx-example"]
    assert spec.ttl == DEFAULT_BACKUP_TTL and spec.csi_snapshot_timeout == Duration.parse("10m")
    assert spec.label_selector is not None and spec.label_selector.matches({"app": "nginx", "tier": "web"})
    assert not spec.label_selector.matches({"app": "nginx", "tier": "cache"})
    assert spec.hooks is not None
    pre = spec.hooks.resources[0].pre[0].exec
    assert pre.command[0] == "/sbin/fsfreeze" and pre.on_error is HookErrorMode.FAIL
    assert pre.timeout == Duration.parse("30s")
    assert spec.ordered_resources == {"pods": "nginx-example/web-0,nginx-example/web-1"}
    assert spec.resource_policy is not None and spec.resource_policy.name == "backup-policy"
    assert spec.default_volumes_to_fs_backup is False and spec.snapshot_volumes is None
    assert status.phase is BackupPhase.PARTIALLY_FAILED and status.phase.is_terminal
    assert status.format_version == "1.1.0" and status.errors == 1 and status.warnings == 3
    assert status.progress is not None and status.progress.items_backed_up == 24
    assert (
        status.start_timestamp is not None
        and status.start_timestamp.isoformat() == "2024-03-01T10:00:00+00:00"
    )
    assert status.hook_status is not None and status.hook_status.hooks_attempted == 2


def test_velero_backup_json_round_trips_exactly_including_unknown_fields() -> None:
    original = velero_backup_json()
    backup = Backup.from_dict(copy.deepcopy(original))
    assert backup.spec.extra == {"itemBlockWorkerCount": 1}  # a field we do not model survives
    assert backup.to_dict() == original


def test_velero_object_can_be_adopted_into_our_group() -> None:
    backup = Backup.from_dict(velero_backup_json())
    backup.api_version = API_VERSION
    assert backup.to_dict()["apiVersion"] == "veloro.io/v1"
    assert parse_object(velero_backup_json()).to_dict()["apiVersion"] == "velero.io/v1"


def test_bad_types_give_clear_messages_with_paths() -> None:
    with pytest.raises(ApiValidationError) as caught:
        Backup.from_dict({"metadata": {"name": "b1"}, "spec": {"ttl": 5}})
    assert str(caught.value) == "invalid Backup b1: spec.ttl: expected a duration string like 720h, got 5"
    assert caught.value.problems == ["spec.ttl: expected a duration string like 720h, got 5"]


def test_every_problem_is_listed_at_once() -> None:
    bad = {
        "apiVersion": "veloro.io/v1",
        "kind": "Backup",
        "metadata": {"name": "b2"},
        "spec": {
            "includedNamespaces": ["ok", 3],
            "ttl": "5 days",
            "snapshotVolumes": "yes",
            "labelSelector": ["app=x"],
            "hooks": {"resources": [{"name": "h", "pre": [{"exec": {"command": "ls", "onError": "Retry"}}]}]},
            "orderedResources": {"pods": ["a"]},
        },
        "status": {"startTimestamp": "yesterday", "errors": "1", "phase": "Exploded"},
    }
    with pytest.raises(ApiValidationError) as caught:
        Backup.from_dict(bad)
    problems = caught.value.problems
    assert "spec.includedNamespaces[1]: expected a string, got 3" in problems
    assert any(p.startswith("spec.ttl: invalid duration '5 days'") for p in problems)
    assert 'spec.snapshotVolumes: expected true or false, got "yes"' in problems
    assert 'spec.labelSelector: expected an object, got ["app=x"]' in problems
    assert 'spec.hooks.resources[0].pre[0].exec.command: expected a list, got "ls"' in problems
    assert (
        'spec.hooks.resources[0].pre[0].exec.onError: expected one of Continue, Fail, got "Retry"' in problems
    )
    assert 'spec.orderedResources.pods: expected a string, got ["a"]' in problems
    assert any(p.startswith("status.startTimestamp: expected an RFC 3339 timestamp") for p in problems)
    assert 'status.errors: expected an integer, got "1"' in problems
    assert any(p.startswith("status.phase: expected one of New, Queued") for p in problems)
    assert len(problems) == 10


def test_wrong_group_kind_and_shapes_are_refused() -> None:
    with pytest.raises(
        ApiValidationError, match=r"apiVersion: expected veloro.io/v1 \(or Velero's velero.io/v1\)"
    ):
        Backup.from_dict({"apiVersion": "apps/v1", "kind": "Backup"})
    with pytest.raises(ApiValidationError, match='kind: expected Restore, got "Backup"'):
        Restore.from_dict({"kind": "Backup"})
    with pytest.raises(ApiValidationError, match="metadata: expected an object"):
        Backup.from_dict({"metadata": "b"})
    with pytest.raises(ApiValidationError, match="spec: expected an object"):
        Schedule.from_dict({"spec": []})
    with pytest.raises(ApiValidationError, match="expected an object"):
        Backup.from_dict([])  # type: ignore[arg-type]
    with pytest.raises(ApiValidationError, match="kind: expected one of Backup"):
        parse_object({"kind": "Pod"})


def test_map_keys_with_dots_are_quoted_in_paths() -> None:
    with pytest.raises(ApiValidationError) as caught:
        BackupStorageLocation.from_dict({"spec": {"provider": "aws", "config": {"s3.url": 1}}})
    assert caught.value.problems == ['spec.config["s3.url"]: expected a string, got 1']


def test_defaults_are_not_applied_by_from_dict() -> None:
    backup = Backup.from_dict({"metadata": {"name": "b"}, "spec": {}})
    assert backup.spec.ttl is None and backup.status.phase is None
    assert backup.phase is BackupPhase.NEW
    filled = backup.spec.with_defaults()
    assert filled.ttl == DEFAULT_BACKUP_TTL == Duration.of(hours=720)
    assert filled.csi_snapshot_timeout == DEFAULT_CSI_SNAPSHOT_TIMEOUT == Duration.of(minutes=10)
    assert filled.item_operation_timeout == DEFAULT_ITEM_OPERATION_TIMEOUT == Duration.of(hours=4)
    assert backup.spec.ttl is None  # with_defaults copies
    kept = BackupSpec(ttl=Duration.parse("1h")).with_defaults()
    assert str(kept.ttl) == "1h"


def test_null_reads_as_absent_and_none_is_omitted() -> None:
    restore = Restore.from_dict({"spec": {"backupName": "b", "restorePVs": None, "namespaceMapping": None}})
    assert restore.spec.restore_pvs is None and restore.spec.namespace_mapping == {}
    assert restore.to_dict()["spec"] == {"backupName": "b"}
    restore.spec.restore_pvs = False  # *bool: false is meaningful and written
    restore.spec.existing_resource_policy = ExistingResourcePolicy.UPDATE
    assert restore.to_dict()["spec"] == {
        "backupName": "b",
        "restorePVs": False,
        "existingResourcePolicy": "update",
    }


def test_building_objects_in_python() -> None:
    schedule = Schedule(metadata={"name": "nightly", "namespace": "veloro"})
    schedule.spec.schedule = "@every 2s"
    schedule.spec.template.included_namespaces = ["app"]
    schedule.spec.template.ttl = Duration.parse("10m")
    schedule.labels["team"] = "a"
    assert schedule.to_dict() == {
        "apiVersion": "veloro.io/v1",
        "kind": "Schedule",
        "metadata": {"name": "nightly", "namespace": "veloro", "labels": {"team": "a"}},
        "spec": {"template": {"includedNamespaces": ["app"], "ttl": "10m"}, "schedule": "@every 2s"},
    }
    assert schedule.backup_name(MOMENT) == "nightly-20240301100005"
    assert schedule.key == "veloro/nightly"


def test_download_request_and_server_status() -> None:
    request = DownloadRequest.from_dict({"spec": {"target": {"kind": "BackupResults", "name": "b"}}})
    assert request.spec.target.kind is DownloadTargetKind.BACKUP_RESULTS
    status = ServerStatusRequest.from_dict(
        {
            "status": {
                "phase": "Processed",
                "serverVersion": "0.1.0",
                "processedTimestamp": "2024-03-01T10:00:05.250000Z",
                "plugins": [{"name": "veloro.io/aws", "kind": "ObjectStore"}],
            }
        }
    )
    assert status.status.plugins[0].kind == "ObjectStore"
    assert status.to_dict()["status"]["processedTimestamp"] == "2024-03-01T10:00:05.250000Z"


def test_label_selector_operators() -> None:
    selector = LabelSelector.from_dict(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["prod", "stage"]},
                {"key": "legacy", "operator": "DoesNotExist"},
            ],
        }
    )
    assert selector.matches({"app": "web", "env": "prod"})
    assert not selector.matches({"app": "web", "env": "dev"})
    assert not selector.matches({"app": "web", "env": "prod", "legacy": "1"})
    assert LabelSelector().matches({})


def test_resource_lookup_by_kubectl_names() -> None:
    assert resource_for_name("bsl") is BackupStorageLocation
    assert resource_for_name("backups") is Backup
    assert resource_for_name("Schedule") is Schedule
    with pytest.raises(KeyError, match="unknown resource"):
        resource_for_name("pods")


def test_list_responses() -> None:
    items = Backup.from_list(
        {"kind": "BackupList", "items": [{"metadata": {"name": "a"}}, velero_backup_json()]}
    )
    assert [item.name for item in items] == ["a", "nginx-backup"]


def test_timestamps_accept_kubernetes_spellings() -> None:
    status = Restore.from_dict(
        {
            "status": {
                "startTimestamp": "2024-03-01T10:00:05.123456789Z",  # RFC3339Nano (MicroTime-like)
                "completionTimestamp": "2024-03-01T12:00:05+02:00",
            }
        }
    ).to_dict()["status"]
    assert status == {
        "startTimestamp": "2024-03-01T10:00:05.123456Z",
        "completionTimestamp": "2024-03-01T10:00:05Z",
    }
