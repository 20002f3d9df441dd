"""`describe` text for backups, restores and schedules (the layout of Velero's describe output).

--details adds what only the backup storage has (resource list, results, volume snapshots), fetched
through DownloadRequests; when the server cannot answer, the section says so instead of failing.
"""

from __future__ import annotations

from typing import Any

import click

from veloro_core.api import (
    Backup,
    BackupSpec,
    DownloadTargetKind,
    PodVolumeBackup,
    Restore,
    Schedule,
)
from veloro_core.cli.cluster import Cluster
from veloro_core.cli.downloads import fetch_json
from veloro_core.cli.errors import VeloroCLIError
from veloro_core.cli.parsing import format_label_selector
from veloro_core.cli.tables import show_time

BACKUP_NAME_LABEL = "veloro.io/backup-name"


def _line(label: str, value: Any = "", indent: int = 0) -> None:
    click.echo(f"{'  ' * indent}{label}:" + (f"\t{value}" if value != "" else ""))


def _names(values: list[str], empty: str = "*") -> str:
    return ", ".join(values) if values else empty


def _metadata(obj: Backup | Restore | Schedule) -> None:
    _line("Name", obj.name)
    _line("Namespace", obj.namespace)
    labels = obj.metadata.get("labels") or {}
    annotations = obj.metadata.get("annotations") or {}
    _line("Labels", ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "<none>")
    _line("Annotations", ",".join(f"{k}={v}" for k, v in sorted(annotations.items())) or "<none>")
    click.echo()


def _spec_lines(spec: BackupSpec, indent: int = 0) -> None:
    _line("Namespaces", indent=indent)
    _line("Included", _names(spec.included_namespaces), indent + 1)
    _line("Excluded", _names(spec.excluded_namespaces, "<none>"), indent + 1)
    click.echo()
    _line("Resources", indent=indent)
    if spec.uses_new_resource_filters:
        _line("Included cluster-scoped", _names(spec.included_cluster_scoped_resources, "<none>"), indent + 1)
        _line("Excluded cluster-scoped", _names(spec.excluded_cluster_scoped_resources, "<none>"), indent + 1)
        _line("Included namespace-scoped", _names(spec.included_namespace_scoped_resources), indent + 1)
        _line(
            "Excluded namespace-scoped",
            _names(spec.excluded_namespace_scoped_resources, "<none>"),
            indent + 1,
        )
    else:
        _line("Included", _names(spec.included_resources), indent + 1)
        _line("Excluded", _names(spec.excluded_resources, "<none>"), indent + 1)
        icr = spec.include_cluster_resources
        _line("Cluster-scoped", "auto" if icr is None else ("included" if icr else "excluded"), indent + 1)
    click.echo()
    _line("Label selector", format_label_selector(spec.label_selector), indent)
    if spec.or_label_selectors:
        _line(
            "Or label selector",
            " or ".join(format_label_selector(s) for s in spec.or_label_selectors),
            indent,
        )
    click.echo()
    _line("Storage Location", spec.storage_location or "<default>", indent)
    _line("Volume Snapshot Locations", _names(spec.volume_snapshot_locations, "<default>"), indent)
    snap = spec.snapshot_volumes
    _line("Velero-Native Snapshot PVs", "auto" if snap is None else str(snap).lower(), indent)
    fs = spec.default_volumes_to_fs_backup
    _line("File System Backup (Default)", "<not set>" if fs is None else str(fs).lower(), indent)
    _line("Snapshot Move Data", str(bool(spec.snapshot_move_data)).lower(), indent)
    click.echo()
    _line("TTL", str(spec.ttl or "720h0m0s (default)"), indent)
    _line("CSISnapshotTimeout", str(spec.csi_snapshot_timeout or "10m0s (default)"), indent)
    _line("ItemOperationTimeout", str(spec.item_operation_timeout or "4h0m0s (default)"), indent)
    if spec.resource_policy:
        _line("Resource policies", f"{spec.resource_policy.kind}/{spec.resource_policy.name}", indent)
    if spec.ordered_resources:
        _line("Ordered resources", indent=indent)
        for kind, names in sorted(spec.ordered_resources.items()):
            _line(kind, names, indent + 1)
    hooks = spec.hooks.resources if spec.hooks else []
    _line("Hooks", ", ".join(h.name for h in hooks) if hooks else "<none>", indent)


def describe_backup(cluster: Cluster, backup: Backup, details: bool, timeout: float) -> None:
    _metadata(backup)
    status = backup.status
    _line("Phase", str(backup.phase))
    if status.validation_errors:
        _line("Validation errors")
        for problem in status.validation_errors:
            click.echo(f"  * {problem}")
    if status.failure_reason:
        _line("Failure reason", status.failure_reason)
    click.echo()
    _line("Errors", status.errors)
    _line("Warnings", status.warnings)
    click.echo()
    _spec_lines(backup.spec)
    click.echo()
    _line("Backup Format Version", status.format_version or "<unknown>")
    _line("Started", show_time(status.start_timestamp))
    _line("Completed", show_time(status.completion_timestamp))
    _line("Expiration", show_time(status.expiration))
    if status.progress:
        _line("Total items to be backed up", status.progress.total_items)
        _line("Items backed up", status.progress.items_backed_up)
    _line(
        "Backup Item Operations",
        f"{status.backup_item_operations_completed} of "
        f"{status.backup_item_operations_attempted} completed, {status.backup_item_operations_failed} failed",
    )
    _line(
        "Volume snapshots",
        f"{status.volume_snapshots_completed} of {status.volume_snapshots_attempted} completed",
    )
    if status.hook_status:
        _line(
            "Hooks",
            f"{status.hook_status.hooks_attempted} attempted, {status.hook_status.hooks_failed} failed",
        )
    if details:
        _backup_details(cluster, backup, timeout)


def _section(cluster: Cluster, title: str, kind: DownloadTargetKind, name: str, timeout: float) -> Any:
    """Fetch one stored file for a --details section; print why it is missing instead of failing."""
    click.echo()
    _line(title)
    try:
        return fetch_json(cluster, kind, name, timeout)
    except VeloroCLIError as exc:
        click.echo(f"  <error getting {title.lower()}: {exc.render()}>")
        return None


def _print_resource_list(data: Any) -> None:
    if not isinstance(data, dict) or not data:
        click.echo("  <none>")
        return
    for gvk in sorted(data):
        click.echo(f"  {gvk}:")
        for item in data[gvk]:
            click.echo(f"    - {item}")


def _print_results(data: Any) -> None:
    if not isinstance(data, dict):
        click.echo("  <none>")
        return
    for kind in ("errors", "warnings"):
        result = data.get(kind) or {}
        lines = [f"Velero: {m}" for m in result.get("velero") or []]
        lines += [f"Cluster: {m}" for m in result.get("cluster") or []]
        for ns, messages in sorted((result.get("namespaces") or {}).items()):
            lines += [f"Namespace {ns}: {m}" for m in messages]
        _line(kind.capitalize(), "<none>" if not lines else "", 1)
        for text in lines:
            click.echo(f"    {text}")


def _backup_details(cluster: Cluster, backup: Backup, timeout: float) -> None:
    _print_resource_list(
        _section(cluster, "Resource List", DownloadTargetKind.BACKUP_RESOURCE_LIST, backup.name, timeout)
    )
    _print_results(_section(cluster, "Results", DownloadTargetKind.BACKUP_RESULTS, backup.name, timeout))
    snapshots = _section(
        cluster, "Volume Snapshots", DownloadTargetKind.BACKUP_VOLUME_SNAPSHOTS, backup.name, timeout
    )
    for snap in snapshots or []:
        spec, status = snap.get("spec") or {}, snap.get("status") or {}
        click.echo(
            f"  {spec.get('persistentVolumeName', '?')}: snapshot {status.get('providerSnapshotID', '?')} "
            f"({status.get('phase', '?')}, type {spec.get('volumeType') or 'n/a'}, "
            f"location {spec.get('location') or 'n/a'})"
        )
    if not snapshots:
        click.echo("  <none>")
    click.echo()
    _line("Pod Volume Backups")
    pvbs = cluster.list_all(PodVolumeBackup, f"{BACKUP_NAME_LABEL}={backup.name}")
    for pvb in pvbs:
        pod = pvb.spec.pod
        click.echo(
            f"  {pod.namespace}/{pod.name}: {pvb.spec.volume} ({pvb.status.phase or 'New'}"
            f"{', ' + pvb.status.message if pvb.status.message else ''})"
        )
    if not pvbs:
        click.echo("  <none>")


def describe_restore(cluster: Cluster, restore: Restore, details: bool, timeout: float) -> None:
    _metadata(restore)
    spec, status = restore.spec, restore.status
    _line("Phase", str(restore.phase))
    for problem in status.validation_errors:
        click.echo(f"  * {problem}")
    if status.failure_reason:
        _line("Failure reason", status.failure_reason)
    if status.progress:
        _line("Total items to be restored", status.progress.total_items)
        _line("Items restored", status.progress.items_restored)
    click.echo()
    _line("Started", show_time(status.start_timestamp))
    _line("Completed", show_time(status.completion_timestamp))
    click.echo()
    _line("Errors", status.errors)
    _line("Warnings", status.warnings)
    click.echo()
    _line("Backup", spec.backup_name or f"<newest of schedule {spec.schedule_name}>")
    click.echo()
    _line("Namespaces")
    _line("Included", _names(spec.included_namespaces), 1)
    _line("Excluded", _names(spec.excluded_namespaces, "<none>"), 1)
    click.echo()
    _line("Resources")
    _line("Included", _names(spec.included_resources), 1)
    _line("Excluded", _names(spec.excluded_resources, "<none>"), 1)
    icr = spec.include_cluster_resources
    _line("Cluster-scoped", "auto" if icr is None else ("included" if icr else "excluded"), 1)
    click.echo()
    mapping = ", ".join(f"{k}:{v}" for k, v in sorted(spec.namespace_mapping.items()))
    _line("Namespace mappings", mapping or "<none>")
    _line("Label selector", format_label_selector(spec.label_selector))
    if spec.or_label_selectors:
        _line("Or label selector", " or ".join(format_label_selector(s) for s in spec.or_label_selectors))
    _line("Restore PVs", "auto" if spec.restore_pvs is None else str(spec.restore_pvs).lower())
    _line("Existing Resource Policy", str(spec.existing_resource_policy or "<none>"))
    _line(
        "Preserve Service NodePorts",
        "auto" if spec.preserve_node_ports is None else str(spec.preserve_node_ports).lower(),
    )
    if spec.restore_status:
        _line("Restore status of", _names(spec.restore_status.included_resources, "<none>"))
    if spec.resource_modifier:
        _line("Resource modifier", f"{spec.resource_modifier.kind}/{spec.resource_modifier.name}")
    if details:
        _print_resource_list(
            _section(
                cluster, "Resource List", DownloadTargetKind.RESTORE_RESOURCE_LIST, restore.name, timeout
            )
        )
        _print_results(
            _section(cluster, "Results", DownloadTargetKind.RESTORE_RESULTS, restore.name, timeout)
        )


def describe_schedule(schedule: Schedule) -> None:
    _metadata(schedule)
    _line("Phase", str(schedule.phase))
    for problem in schedule.status.validation_errors:
        click.echo(f"  * {problem}")
    click.echo()
    _line("Paused", str(schedule.spec.paused).lower())
    _line("Schedule", schedule.spec.schedule)
    _line("Skip immediately", str(bool(schedule.spec.skip_immediately)).lower())
    _line("Use owner references in backup", str(bool(schedule.spec.use_owner_references_in_backup)).lower())
    click.echo()
    _line("Backup Template")
    _spec_lines(schedule.spec.template, 1)
    click.echo()
    _line("Last Backup", show_time(schedule.status.last_backup))
