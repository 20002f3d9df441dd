"""The flags that describe a Backup spec, shared by `backup create` and `schedule create` (its template).

`backup_spec_options` adds them to a command; the command passes its keyword arguments to
`build_backup_spec`, which validates what click cannot (mixed filter styles, -l with --or-selector).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from veloro_core.api import BackupSpec, TypedLocalObjectReference
from veloro_core.cli.parsing import (
    DURATION,
    parse_label_selector,
    parse_or_selectors,
    parse_ordered_resources,
    split_list,
)

F = TypeVar("F", bound=Callable[..., Any])

OPTIONAL_BOOL: dict[str, Any] = {"type": click.BOOL, "is_flag": False, "flag_value": True, "default": None}


def _list_option(name: str, help_text: str) -> Callable[[F], F]:
    return click.option(name, multiple=True, metavar="A,B", help=help_text)


_OPTIONS: list[Callable[[Any], Any]] = [
    _list_option("--include-namespaces", "Namespaces to include (default: all; '*' allowed)."),
    _list_option("--exclude-namespaces", "Namespaces to exclude."),
    _list_option("--include-resources", "Resources to include, e.g. deployments,configmaps (default: all)."),
    _list_option("--exclude-resources", "Resources to exclude."),
    click.option(
        "--include-cluster-resources",
        **OPTIONAL_BOOL,
        help="Include cluster-scoped resources (true/false; default: only when all namespaces are included).",
    ),
    _list_option("--include-cluster-scoped-resources", "Cluster-scoped resources to include ('*' = all)."),
    _list_option("--exclude-cluster-scoped-resources", "Cluster-scoped resources to exclude."),
    _list_option("--include-namespace-scoped-resources", "Namespaced resources to include ('*' = all)."),
    _list_option("--exclude-namespace-scoped-resources", "Namespaced resources to exclude."),
    click.option("-l", "--selector", default=None, help="Only objects matching this label selector."),
    click.option("--or-selector", default=None, help='Objects matching any of the selectors: "a=b or c=d".'),
    click.option(
        "--ordered-resources",
        default=None,
        metavar="SPEC",
        help="Back up these objects first, in order: 'pods=ns/a,ns/b;persistentvolumeclaims=ns/c'.",
    ),
    click.option("--ttl", type=DURATION, default=None, help="How long to keep the backup (default: 720h)."),
    click.option(
        "--storage-location", default=None, help="Backup storage location (default: the default one)."
    ),
    _list_option("--volume-snapshot-locations", "Volume snapshot locations to use."),
    click.option(
        "--snapshot-volumes", **OPTIONAL_BOOL, help="Take volume snapshots (true/false; default true)."
    ),
    click.option(
        "--snapshot-move-data", **OPTIONAL_BOOL, help="Move CSI snapshot data to the backup storage."
    ),
    click.option(
        "--default-volumes-to-fs-backup",
        **OPTIONAL_BOOL,
        help="Back up every pod volume with the file-system backup unless it opts out.",
    ),
    click.option("--csi-snapshot-timeout", type=DURATION, default=None, help="Wait for CSI snapshots (10m)."),
    click.option(
        "--item-operation-timeout", type=DURATION, default=None, help="Wait for async plugin operations (4h)."
    ),
    click.option("--resource-policies-configmap", default=None, help="ConfigMap with resource policies."),
]

_OLD_FILTERS = ("include_resources", "exclude_resources", "include_cluster_resources")
_NEW_FILTERS = (
    "include_cluster_scoped_resources",
    "exclude_cluster_scoped_resources",
    "include_namespace_scoped_resources",
    "exclude_namespace_scoped_resources",
)


def backup_spec_options(func: F) -> F:
    """Adds every backup-spec flag (in the order of `veloro backup create --help`)."""
    for option in reversed(_OPTIONS):
        func = option(func)
    return func


def _given(flags: dict[str, Any], name: str) -> bool:
    value = flags.get(name)
    return value is not None and value != ()


def build_backup_spec(flags: dict[str, Any]) -> BackupSpec:
    """The BackupSpec the flags describe; usage errors (exit 2) for combinations that cannot work."""
    old = [n for n in _OLD_FILTERS if _given(flags, n)]
    new = [n for n in _NEW_FILTERS if _given(flags, n)]
    if old and new:
        raise click.UsageError(
            f"--{old[0].replace('_', '-')} cannot be combined with --{new[0].replace('_', '-')}: use either "
            "the resource filters or the cluster/namespace-scoped filters"
        )
    if flags.get("selector") and flags.get("or_selector"):
        raise click.UsageError("--selector and --or-selector are mutually exclusive")
    policy = flags.get("resource_policies_configmap")
    return BackupSpec(
        included_namespaces=split_list(flags.get("include_namespaces") or ()),
        excluded_namespaces=split_list(flags.get("exclude_namespaces") or ()),
        included_resources=split_list(flags.get("include_resources") or ()),
        excluded_resources=split_list(flags.get("exclude_resources") or ()),
        include_cluster_resources=flags.get("include_cluster_resources"),
        included_cluster_scoped_resources=split_list(flags.get("include_cluster_scoped_resources") or ()),
        excluded_cluster_scoped_resources=split_list(flags.get("exclude_cluster_scoped_resources") or ()),
        included_namespace_scoped_resources=split_list(flags.get("include_namespace_scoped_resources") or ()),
        excluded_namespace_scoped_resources=split_list(flags.get("exclude_namespace_scoped_resources") or ()),
        label_selector=parse_label_selector(flags.get("selector")),
        or_label_selectors=parse_or_selectors(flags.get("or_selector")),
        ordered_resources=parse_ordered_resources(flags.get("ordered_resources")),
        ttl=flags.get("ttl"),
        storage_location=flags.get("storage_location") or "",
        volume_snapshot_locations=split_list(flags.get("volume_snapshot_locations") or ()),
        snapshot_volumes=flags.get("snapshot_volumes"),
        snapshot_move_data=flags.get("snapshot_move_data"),
        default_volumes_to_fs_backup=flags.get("default_volumes_to_fs_backup"),
        csi_snapshot_timeout=flags.get("csi_snapshot_timeout"),
        item_operation_timeout=flags.get("item_operation_timeout"),
        resource_policy=(TypedLocalObjectReference(kind="configmap", name=policy) if policy else None),
    )


def metadata_options(func: F) -> F:
    """--labels and --annotations for the created object itself."""
    func = click.option(
        "--annotations", multiple=True, metavar="K=V,...", help="Annotations to put on the object."
    )(func)
    return click.option("--labels", multiple=True, metavar="K=V,...", help="Labels to put on the object.")(
        func
    )


def output_create_option(func: F) -> F:
    """`-o json|yaml` on create: print the object that would be created, without creating it."""
    return click.option(
        "-o",
        "--output",
        type=click.Choice(["json", "yaml"], case_sensitive=False),
        default=None,
        help="Print the object as json or yaml instead of creating it.",
    )(func)
