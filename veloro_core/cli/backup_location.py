"""`veloro backup-location create|get|set|delete` (BackupStorageLocations)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from veloro_core.cli.backup import confirm_or_abort
from veloro_core.cli.backup_flags import output_create_option
from veloro_core.cli.output import dump, output_option
from veloro_core.cli.parsing import DURATION, parse_key_values

if TYPE_CHECKING:
    from veloro_core.api import Resource

CONFIG_OPTION = click.option(
    "--config",
    "configs",
    multiple=True,
    metavar="K=V,...",
    help="Provider configuration, e.g. region=us-east-1,s3Url=http://minio:9000.",
)
CREDENTIAL_OPTION = click.option(
    "--credential",
    default=None,
    metavar="SECRET=KEY",
    help="Key of a Secret in the server namespace holding the credentials for this location.",
)


def parse_credential(value: str | None) -> Any:
    """`secret-name=key` as a SecretKeySelector (None when not given)."""
    from veloro_core.api import SecretKeySelector

    if value is None:
        return None
    name, sep, key = value.partition("=")
    if not sep or not name or not key or "," in value:
        raise click.BadParameter(f"{value!r} is not SECRET=KEY", param_hint="'--credential'")
    return SecretKeySelector(name=name, key=key)


def read_cacert(path: Path | None) -> str:
    """The CA bundle file, base64-encoded as objectStorage.caCert wants it."""
    if path is None:
        return ""
    return base64.b64encode(path.read_bytes()).decode()


@click.group("backup-location")
def backup_location() -> None:
    """Work with backup storage locations."""


@backup_location.command("create")
@click.argument("name")
@click.option("--provider", required=True, help="ObjectStore plugin, e.g. aws or veloro.io/filesystem.")
@click.option("--bucket", required=True, help="Bucket of the backups.")
@click.option("--prefix", default="", help="Prefix (folder) in the bucket.")
@CONFIG_OPTION
@CREDENTIAL_OPTION
@click.option(
    "--cacert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="PEM file of the CA that signed the object store's certificate.",
)
@click.option("--default", "default", is_flag=True, help="Make it the default location (unsets the others).")
@click.option(
    "--access-mode", type=click.Choice(["ReadWrite", "ReadOnly"]), default="ReadWrite", show_default=True
)
@click.option("--backup-sync-period", type=DURATION, default=None, help="How often to sync backups (1m).")
@click.option("--validation-frequency", type=DURATION, default=None, help="How often to validate (1m).")
@click.option("--labels", multiple=True, metavar="K=V,...", help="Labels to put on the location.")
@output_create_option
def create(
    name: str,
    provider: str,
    bucket: str,
    prefix: str,
    configs: tuple[str, ...],
    credential: str | None,
    cacert: Path | None,
    default: bool,
    access_mode: str,
    backup_sync_period: Any,
    validation_frequency: Any,
    labels: tuple[str, ...],
    output: str | None,
) -> None:
    """Create backup storage location NAME."""
    from veloro_core.api import (
        BackupStorageLocation,
        BackupStorageLocationAccessMode,
        BackupStorageLocationSpec,
        ObjectStorageLocation,
    )
    from veloro_core.cli.cluster import Cluster
    from veloro_core.cli.options import server_namespace

    metadata: dict[str, Any] = {"name": name}
    label_map = parse_key_values(labels, "--labels", labels=True)
    if label_map:
        metadata["labels"] = label_map
    obj = BackupStorageLocation(
        metadata=metadata,
        spec=BackupStorageLocationSpec(
            provider=provider,
            object_storage=ObjectStorageLocation(bucket=bucket, prefix=prefix, ca_cert=read_cacert(cacert)),
            config=parse_key_values(configs, "--config"),
            credential=parse_credential(credential),
            default=default,
            access_mode=BackupStorageLocationAccessMode(access_mode),
            backup_sync_period=backup_sync_period,
            validation_frequency=validation_frequency,
        ),
    )
    if output:
        obj.namespace = server_namespace()
        dump(obj.to_dict(), output.lower())
        return
    cluster = Cluster.from_context()
    if default:
        unset_other_defaults(cluster, name)
    cluster.create(obj)
    click.echo(f'Backup storage location "{name}" configured successfully.')


def unset_other_defaults(cluster: Any, keep: str) -> None:
    """Exactly one default location: clear the flag on every other one."""
    from veloro_core.api import BackupStorageLocation

    for other in cluster.list_all(BackupStorageLocation):
        if other.name != keep and other.spec.default:
            cluster.patch(BackupStorageLocation, other.name, {"spec": {"default": False}})
            click.echo(f'Backup storage location "{other.name}" is no longer the default.')


@backup_location.command("get")
@click.argument("names", nargs=-1)
@click.option("-l", "--selector", default=None, help="Only locations with these labels.")
@click.option("--default", "only_default", is_flag=True, help="Only the default location.")
@output_option
def get(names: tuple[str, ...], selector: str | None, only_default: bool, output: str) -> None:
    """List backup storage locations."""
    from veloro_core.api import BackupStorageLocation
    from veloro_core.cli.cluster import Cluster
    from veloro_core.cli.tables import print_objects

    cluster = Cluster.from_context()
    objects = (
        [cluster.get(BackupStorageLocation, n) for n in names]
        if names
        else cluster.list_all(BackupStorageLocation, selector)
    )
    if only_default:
        objects = [o for o in objects if o.spec.default]
    print_objects(objects, output.lower(), kind=BackupStorageLocation, single=len(names) == 1)


@backup_location.command("set")
@click.argument("name")
@click.option(
    "--default",
    "default",
    type=click.BOOL,
    is_flag=False,
    flag_value=True,
    default=None,
    help="Make it the default location (true) or not (false).",
)
@CREDENTIAL_OPTION
@click.option(
    "--cacert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="PEM file of the CA that signed the object store's certificate.",
)
@click.option("--access-mode", type=click.Choice(["ReadWrite", "ReadOnly"]), default=None)
@CONFIG_OPTION
def set_location(
    name: str,
    default: bool | None,
    credential: str | None,
    cacert: Path | None,
    access_mode: str | None,
    configs: tuple[str, ...],
) -> None:
    """Change backup storage location NAME."""
    from veloro_core.api import BackupStorageLocation
    from veloro_core.cli.cluster import Cluster

    spec: dict[str, Any] = {}
    if default is not None:
        spec["default"] = default
    if credential is not None:
        spec["credential"] = parse_credential(credential).to_dict()
    if cacert is not None:
        spec["objectStorage"] = {"caCert": read_cacert(cacert)}
    if access_mode is not None:
        spec["accessMode"] = access_mode
    if configs:
        spec["config"] = parse_key_values(configs, "--config")
    if not spec:
        raise click.UsageError(
            "nothing to set: give --default, --credential, --cacert, --access-mode or --config"
        )
    cluster = Cluster.from_context()
    cluster.get(BackupStorageLocation, name)
    if default:
        unset_other_defaults(cluster, name)
    cluster.patch(BackupStorageLocation, name, {"spec": spec})
    click.echo(f'Backup storage location "{name}" configured successfully.')


def delete_options(command: Callable[..., None]) -> Callable[..., None]:
    """The arguments and options of `delete` for either kind of location."""
    for decorate in (
        click.option("--confirm", is_flag=True, help="Do not ask for confirmation."),
        click.option("-l", "--selector", default=None, help="Delete the locations with these labels."),
        click.option("--all", "all_", is_flag=True, help="Delete every location."),
        click.argument("names", nargs=-1),
    ):
        command = decorate(command)
    return command


def delete_locations(
    kind: type[Resource], what: str, names: tuple[str, ...], selector: str | None, all_: bool, confirm: bool
) -> None:
    """Delete the locations named or selected, after confirmation; `what` names the kind in messages
    ("backup storage location")."""
    from veloro_core.cli.cluster import Cluster

    cluster = Cluster.from_context()
    locations = cluster.select(kind, names, selector, all_)
    if not locations:
        click.echo(f"No {what}s found.")
        return
    if not confirm_or_abort(f"Delete location(s) {', '.join(o.name for o in locations)}?", confirm):
        click.echo("Nothing deleted.")
        return
    for obj in locations:
        cluster.delete(kind, obj.name)
        click.echo(f'{what.capitalize()} "{obj.name}" deleted.')


@backup_location.command("delete")
@delete_options
def delete(names: tuple[str, ...], all_: bool, selector: str | None, confirm: bool) -> None:
    """Delete backup storage locations (the backups in their buckets stay)."""
    from veloro_core.api import BackupStorageLocation

    delete_locations(BackupStorageLocation, "backup storage location", names, selector, all_, confirm)
