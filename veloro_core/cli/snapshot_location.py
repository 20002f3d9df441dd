"""`veloro snapshot-location create|get|set|delete` (VolumeSnapshotLocations)."""

from __future__ import annotations

from typing import Any

import click

from veloro_core.cli.backup_flags import output_create_option
from veloro_core.cli.backup_location import (
    CONFIG_OPTION,
    CREDENTIAL_OPTION,
    delete_locations,
    delete_options,
    parse_credential,
)
from veloro_core.cli.output import dump, output_option
from veloro_core.cli.parsing import parse_key_values


@click.group("snapshot-location")
def snapshot_location() -> None:
    """Work with volume snapshot locations."""


@snapshot_location.command("create")
@click.argument("name")
@click.option("--provider", required=True, help="VolumeSnapshotter plugin, e.g. aws.")
@CONFIG_OPTION
@CREDENTIAL_OPTION
@click.option("--labels", multiple=True, metavar="K=V,...", help="Labels to put on the location.")
@output_create_option
def create(
    name: str,
    provider: str,
    configs: tuple[str, ...],
    credential: str | None,
    labels: tuple[str, ...],
    output: str | None,
) -> None:
    """Create volume snapshot location NAME."""
    from veloro_core.api import VolumeSnapshotLocation, VolumeSnapshotLocationSpec
    from veloro_core.cli.cluster import Cluster
    from veloro_core.cli.options import server_namespace

    metadata: dict[str, Any] = {"name": name}
    label_map = parse_key_values(labels, "--labels", labels=True)
    if label_map:
        metadata["labels"] = label_map
    obj = VolumeSnapshotLocation(
        metadata=metadata,
        spec=VolumeSnapshotLocationSpec(
            provider=provider,
            config=parse_key_values(configs, "--config"),
            credential=parse_credential(credential),
        ),
    )
    if output:
        obj.namespace = server_namespace()
        dump(obj.to_dict(), output.lower())
        return
    Cluster.from_context().create(obj)
    click.echo(f'Volume snapshot location "{name}" configured successfully.')


@snapshot_location.command("get")
@click.argument("names", nargs=-1)
@click.option("-l", "--selector", default=None, help="Only locations with these labels.")
@output_option
def get(names: tuple[str, ...], selector: str | None, output: str) -> None:
    """List volume snapshot locations."""
    from veloro_core.api import VolumeSnapshotLocation
    from veloro_core.cli.cluster import Cluster
    from veloro_core.cli.tables import print_objects

    cluster = Cluster.from_context()
    objects = (
        [cluster.get(VolumeSnapshotLocation, n) for n in names]
        if names
        else cluster.list_all(VolumeSnapshotLocation, selector)
    )
    print_objects(objects, output.lower(), kind=VolumeSnapshotLocation, single=len(names) == 1)


@snapshot_location.command("set")
@click.argument("name")
@CREDENTIAL_OPTION
@CONFIG_OPTION
def set_location(name: str, credential: str | None, configs: tuple[str, ...]) -> None:
    """Change volume snapshot location NAME."""
    from veloro_core.api import VolumeSnapshotLocation
    from veloro_core.cli.cluster import Cluster

    spec: dict[str, Any] = {}
    if credential is not None:
        spec["credential"] = parse_credential(credential).to_dict()
    if configs:
        spec["config"] = parse_key_values(configs, "--config")
    if not spec:
        raise click.UsageError("nothing to set: give --credential or --config")
    Cluster.from_context().patch(VolumeSnapshotLocation, name, {"spec": spec})
    click.echo(f'Volume snapshot location "{name}" configured successfully.')


@snapshot_location.command("delete")
@delete_options
def delete(names: tuple[str, ...], all_: bool, selector: str | None, confirm: bool) -> None:
    """Delete volume snapshot locations (existing snapshots stay)."""
    from veloro_core.api import VolumeSnapshotLocation

    delete_locations(VolumeSnapshotLocation, "volume snapshot location", names, selector, all_, confirm)
