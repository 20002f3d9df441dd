"""The CRD manifests generated from the models: structural, complete, and current on disk."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from api_helpers import populated, validate

from veloro_core.api import ALL_RESOURCES, Resource
from veloro_core.api.crdgen import CRDS_DIR, all_crds, check_crds, crd_for, write_crds

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gen_crds.py"
DATA = Path(__file__).parent / "data"


# Fields engine.md lists for each kind (wire names), by section.
def names(text: str) -> set[str]:
    return set(text.split())


ENGINE_FIELDS: dict[str, dict[str, set[str]]] = {
    "Backup": {
        "spec": names(
            "includedNamespaces excludedNamespaces includedResources excludedResources"
            " includeClusterResources includedClusterScopedResources excludedClusterScopedResources"
            " includedNamespaceScopedResources"
            " excludedNamespaceScopedResources labelSelector orLabelSelectors snapshotVolumes ttl"
            " storageLocation volumeSnapshotLocations defaultVolumesToFsBackup orderedResources hooks"
            " csiSnapshotTimeout itemOperationTimeout resourcePolicy snapshotMoveData datamover"
        ),
        "status": names(
            "phase formatVersion expiration startTimestamp completionTimestamp validationErrors failureReason"
            " warnings errors progress volumeSnapshotsAttempted volumeSnapshotsCompleted"
            " csiVolumeSnapshotsAttempted csiVolumeSnapshotsCompleted backupItemOperationsAttempted"
            " backupItemOperationsCompleted backupItemOperationsFailed hookStatus"
        ),
    },
    "Restore": {
        "spec": names(
            "backupName scheduleName includedNamespaces excludedNamespaces includedResources"
            " excludedResources includeClusterResources namespaceMapping labelSelector orLabelSelectors"
            " restorePVs restoreStatus preserveNodePorts existingResourcePolicy hooks resourceModifier"
            " itemOperationTimeout"
        ),
        "status": names(
            "phase validationErrors warnings errors failureReason startTimestamp completionTimestamp progress"
            " hookStatus"
        ),
    },
    "Schedule": {
        "spec": names("template schedule useOwnerReferencesInBackup paused skipImmediately"),
        "status": names("phase lastBackup lastSkipped validationErrors"),
    },
    "BackupStorageLocation": {
        "spec": names(
            "provider config credential objectStorage default accessMode backupSyncPeriod validationFrequency"
        ),
        "status": names("phase lastSyncedTime lastValidationTime message"),
    },
    "VolumeSnapshotLocation": {"spec": names("provider config credential"), "status": names("phase")},
    "DeleteBackupRequest": {"spec": names("backupName"), "status": names("phase errors")},
    "DownloadRequest": {"spec": names("target"), "status": names("phase downloadURL expiration")},
    "ServerStatusRequest": {"spec": set(), "status": names("phase processedTimestamp serverVersion plugins")},
    "PodVolumeBackup": {
        "spec": names("node pod volume backupStorageLocation repoIdentifier uploaderType tags"),
        "status": names("phase path snapshotID message progress"),
    },
    "PodVolumeRestore": {
        "spec": names(
            "pod volume backupStorageLocation repoIdentifier uploaderType snapshotID sourceNamespace"
        ),
        "status": names("phase message progress"),
    },
    "BackupRepository": {
        "spec": names(
            "volumeNamespace backupStorageLocation repositoryType resticIdentifier maintenanceFrequency"
        ),
        "status": names("phase"),
    },
}


def schema_of(crd: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def structural_problems(node: dict[str, Any], path: str = "") -> list[str]:
    """Kubernetes' structural schema rules that a generator can get wrong."""
    problems = []
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    if "type" not in node and not preserve:
        problems.append(f"{path or '<root>'}: no type")
    if "properties" in node and "additionalProperties" in node:
        problems.append(f"{path}: both properties and additionalProperties")
    if node.get("type") == "array" and "items" not in node:
        problems.append(f"{path}: array without items")
    for key in ("allOf", "anyOf", "oneOf", "not", "$ref"):
        if key in node:
            problems.append(f"{path}: {key} is not generated structurally")
    for name, child in node.get("properties", {}).items():
        problems += structural_problems(child, f"{path}.{name}")
    if isinstance(node.get("additionalProperties"), dict):
        problems += structural_problems(node["additionalProperties"], f"{path}{{*}}")
    if "items" in node:
        problems += structural_problems(node["items"], f"{path}[*]")
    return problems


@pytest.mark.parametrize("crd", all_crds(), ids=lambda c: c["metadata"]["name"])
def test_schemas_are_structural(crd: dict[str, Any]) -> None:
    schema = schema_of(crd)
    assert structural_problems(schema) == []
    assert schema["properties"]["metadata"] == {"type": "object"}
    assert set(schema["properties"]) == {"apiVersion", "kind", "metadata", "spec", "status"}


@pytest.mark.parametrize("resource", ALL_RESOURCES, ids=lambda r: r.KIND)
def test_every_engine_field_is_in_the_schema(resource: type[Resource]) -> None:
    properties = schema_of(crd_for(resource))["properties"]
    for section, expected in ENGINE_FIELDS[resource.KIND].items():
        present = set(properties[section].get("properties", {}))
        assert expected <= present, f"{resource.KIND}.{section} lacks {sorted(expected - present)}"


def test_crd_metadata_names_and_subresources() -> None:
    crds = {crd["spec"]["names"]["kind"]: crd for crd in all_crds()}
    assert len(crds) == 11
    for kind, crd in crds.items():
        spec = crd["spec"]
        assert crd["metadata"]["name"] == f"{spec['names']['plural']}.veloro.io"
        assert spec["group"] == "veloro.io" and spec["scope"] == "Namespaced"
        assert spec["names"]["categories"] == ["veloro"] and spec["names"]["listKind"] == f"{kind}List"
        (version,) = spec["versions"]
        assert version["name"] == "v1" and version["served"] and version["storage"]
        assert version["subresources"] == {"status": {}}
    assert crds["BackupStorageLocation"]["spec"]["names"]["shortNames"] == ["bsl"]
    assert crds["VolumeSnapshotLocation"]["spec"]["names"]["shortNames"] == ["vsl"]


def columns(crd: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {
        c["name"]: (c["jsonPath"], c["type"]) for c in crd["spec"]["versions"][0]["additionalPrinterColumns"]
    }


def test_printer_columns_like_velero() -> None:
    crds = {crd["spec"]["names"]["kind"]: crd for crd in all_crds()}
    backup = columns(crds["Backup"])
    assert backup["Status"] == (".status.phase", "string")
    assert backup["Errors"] == (".status.errors", "integer")
    assert backup["Warnings"] == (".status.warnings", "integer")
    assert backup["Created"] == (".status.startTimestamp", "date")
    assert backup["Expires"] == (".status.expiration", "date")
    assert backup["Storage Location"] == (".spec.storageLocation", "string")
    assert backup["Selector"] == (".spec.labelSelector", "string")
    restore = columns(crds["Restore"])
    assert list(restore)[:5] == ["Backup", "Status", "Errors", "Warnings", "Created"]
    schedule = columns(crds["Schedule"])
    assert schedule["Schedule"] == (".spec.schedule", "string")
    assert schedule["Paused"] == (".spec.paused", "boolean")
    assert schedule["Last Backup"] == (".status.lastBackup", "date")
    bsl = columns(crds["BackupStorageLocation"])
    assert list(bsl)[:4] == ["Phase", "Last Validated", "Access Mode", "Default"]
    # every printer column points at a field the schema has
    for crd in crds.values():
        schema = schema_of(crd)
        for path, _ in columns(crd).values():
            if path.startswith(".metadata."):
                continue  # metadata's schema belongs to the API server
            node = schema
            for part in path.strip(".").split("."):
                node = node["properties"][part] if "properties" in node else {}
            assert node, f"{crd['metadata']['name']}: column {path} names no field"


@pytest.mark.parametrize("resource", ALL_RESOURCES, ids=lambda r: r.KIND)
def test_model_output_validates_against_its_own_schema(resource: type[Resource]) -> None:
    schema = schema_of(crd_for(resource))
    assert validate(schema, populated(resource).to_dict()) == []
    empty_problems = validate(schema, resource(metadata={"name": "x"}).to_dict())
    # Required fields are written even when empty, so only a required enum left unset is reported.
    assert empty_problems == ([".spec.target.kind: required"] if resource.KIND == "DownloadRequest" else [])


def test_velero_backup_validates_except_for_unmodelled_fields() -> None:
    from veloro_core.api import Backup

    schema = schema_of(crd_for(Backup))
    velero = json.loads((DATA / "velero-backup.json").read_text())
    velero["apiVersion"] = "veloro.io/v1"
    assert validate(schema, velero) == [".spec.itemBlockWorkerCount: unknown field (would be pruned)"]


def test_schema_enums_and_required() -> None:
    from veloro_core.api import Backup, DownloadRequest

    spec = schema_of(crd_for(Backup))["properties"]["spec"]["properties"]
    hook_spec = spec["hooks"]["properties"]["resources"]["items"]
    exec_hook = hook_spec["properties"]["pre"]["items"]["properties"]["exec"]
    assert exec_hook["properties"]["onError"]["enum"] == ["Continue", "Fail"]
    assert exec_hook["required"] == ["command"]
    assert spec["orderedResources"] == {"type": "object", "additionalProperties": {"type": "string"}}
    assert spec["snapshotVolumes"] == {"type": "boolean", "nullable": True}
    target = schema_of(crd_for(DownloadRequest))["properties"]["spec"]["properties"]["target"]
    assert "RestoreLog" in target["properties"]["kind"]["enum"] and target["required"] == ["kind", "name"]


def test_committed_files_are_current_and_equal_all_crds() -> None:
    assert check_crds() == [], "run `python scripts/gen_crds.py`"
    loaded = [yaml.safe_load(path.read_text()) for path in sorted(CRDS_DIR.glob("*.yaml"))]
    by_name = {crd["metadata"]["name"]: crd for crd in all_crds()}
    assert {crd["metadata"]["name"]: crd for crd in loaded} == by_name


def test_check_mode_detects_stale_missing_and_extra_files(tmp_path: Path) -> None:
    target = tmp_path / "crds"
    shutil.copytree(CRDS_DIR, target)
    command = [sys.executable, str(SCRIPT), "--check", "--dir", str(target)]
    ok = subprocess.run(command, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    stale = target / "backups.veloro.io.yaml"
    stale.write_text(stale.read_text().replace("Storage Location", "Location"))
    (target / "schedules.veloro.io.yaml").unlink()
    (target / "old.veloro.io.yaml").write_text("{}\n")
    bad = subprocess.run(command, capture_output=True, text=True)
    assert bad.returncode == 1
    assert "backups.veloro.io.yaml is stale" in bad.stderr
    assert "schedules.veloro.io.yaml is missing" in bad.stderr
    assert "old.veloro.io.yaml is not generated" in bad.stderr
    assert "run `python scripts/gen_crds.py`" in bad.stderr
    assert len(write_crds(target)) == 3
    assert check_crds(target) == []
