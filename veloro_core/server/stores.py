"""Backup stores and volume snapshotters for locations, each on its own plugin instance.

A plugin process holds one ObjectStore/VolumeSnapshotter per name, so its Init config is per process.
Every location therefore gets its own plugin instance (PluginManager instance "bsl/<name>" or
"vsl/<name>", a process of the provider's binary of its own): locations of one provider with different
configs never wait for each other nor re-Init each other. ConfigGate remains, per location, for what it
still guards: users of one location share its Init, and a user with a changed spec (the location was
edited) waits until the users of the old config are done, then re-runs Init. When a location is deleted
its instance is released (`forget_missing`), at once or when its last user is done. Credentials
referenced by a location (a Secret key) are written to a private file whose path is passed to the plugin
as `credentialsFile`, as Velero does.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from veloro_sdk.contracts import ObjectStore, VolumeSnapshotter

from veloro_core.api import BackupStorageLocation, SecretKeySelector, VolumeSnapshotLocation
from veloro_core.kube import GroupVersionResource, KubeClient, KubeError
from veloro_core.persistence import BackupStore
from veloro_core.plugins import PluginManager

SECRETS = GroupVersionResource("", "v1", "secrets")
log = structlog.get_logger("veloro.server")


class LocationError(Exception):
    """A location that cannot be used (bad spec, missing credential, plugin Init failed)."""


class StoreBusy(LocationError):
    """The location's plugin instance is in use with its previous config; try again later."""


class ConfigGate:
    """Shared use of one location's plugin instance while its config stays the same (see the module
    docstring)."""

    def __init__(self, init: Callable[[dict[str, str]], None]) -> None:
        self._init = init
        self._cond = threading.Condition()
        self._config: dict[str, str] | None = None
        self._holders = 0

    def set_init(self, init: Callable[[dict[str, str]], None]) -> None:
        """The latest wrapper (its error message names the location being opened)."""
        with self._cond:
            self._init = init

    @contextmanager
    def hold(
        self, config: dict[str, str], timeout: float | None = None, *, reinit: bool = False
    ) -> Iterator[None]:
        with self._cond:
            if not self._cond.wait_for(lambda: self._config == config or self._holders == 0, timeout):
                raise StoreBusy("the location's plugin is busy with the location's previous configuration")
            if self._config != config or (reinit and self._holders == 0):
                self._config = None
                self._init(config)  # under the lock: nobody uses the instance meanwhile
                self._config = dict(config)
            self._holders += 1
        try:
            yield
        finally:
            with self._cond:
                self._holders -= 1
                self._cond.notify_all()


class Locations:
    """Opens BackupStores (and VolumeSnapshotters) for locations; one per server."""

    def __init__(self, kube: KubeClient, plugins: PluginManager, namespace: str) -> None:
        self.kube = kube
        self.plugins = plugins
        self.namespace = namespace
        self._lock = threading.Lock()
        self._gates: dict[tuple[str, str], ConfigGate] = {}  # (instance, provider) -> gate
        self._users: dict[str, int] = {}  # instance -> open stores/snapshotters
        self._doomed: set[str] = set()  # deleted locations' instances, released when their users are done
        self._secret_dir = tempfile.mkdtemp(prefix="veloro-credentials-")  # mode 0700

    def _gate(
        self, instance_key: str, provider: str, instance: ObjectStore | VolumeSnapshotter, what: str
    ) -> ConfigGate:
        def init(config: dict[str, str]) -> None:
            try:
                instance.init(config)
            except Exception as exc:  # plugin errors of any kind: the location is unusable, say why
                # first line only: plugin errors carry a remote stack trace after it (kept in the log)
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                log.warning("plugin Init failed", location=what, error=str(exc))
                raise LocationError(f"{what}: initializing the {provider!r} plugin failed: {first}") from exc

        with self._lock:
            gate = self._gates.get((instance_key, provider))
            if gate is None:
                gate = self._gates[(instance_key, provider)] = ConfigGate(init)
            gate.set_init(init)
            return gate

    @contextmanager
    def _using(self, instance: str) -> Iterator[None]:
        """Count the users of an instance, so a deleted location's instance is released after the last."""
        with self._lock:
            self._users[instance] = self._users.get(instance, 0) + 1
            self._doomed.discard(instance)  # in use again (the location was re-created)
        try:
            yield
        finally:
            with self._lock:
                self._users[instance] -= 1
                if not self._users[instance]:
                    del self._users[instance]
                    if instance in self._doomed:
                        self._doomed.discard(instance)
                        self.plugins.release(instance)  # under our lock: no new user can slip in

    def forget_missing(self, kind: str, names: Iterable[str]) -> None:
        """Release the plugin instances of `kind` ("bsl" or "vsl") locations not in `names` (deleted)."""
        keep = {f"{kind}/{name}" for name in names}
        with self._lock:
            gone = {key[0] for key in self._gates if key[0].startswith(f"{kind}/") and key[0] not in keep}
            for instance in sorted(gone):
                for key in [key for key in self._gates if key[0] == instance]:
                    del self._gates[key]
                if self._users.get(instance):
                    self._doomed.add(instance)
                else:
                    self.plugins.release(instance)
                log.info("location deleted: its plugin instance is released", instance=instance)

    def has_instances(self, kind: str) -> bool:
        with self._lock:
            return any(key[0].startswith(f"{kind}/") for key in self._gates)

    def credentials_file(self, selector: SecretKeySelector) -> str:
        """The Secret key's value in a private file (named by content, so it is written once)."""
        try:
            secret = self.kube.get(SECRETS, selector.name, self.namespace)
        except KubeError as exc:
            raise LocationError(
                f"credential secret {selector.name!r} in namespace {self.namespace!r}: {exc}"
            ) from exc
        raw = (secret.get("data") or {}).get(selector.key)
        if raw is None:
            raise LocationError(
                f"credential secret {selector.name!r} has no key {selector.key!r}; fix spec.credential.key"
            )
        data = base64.b64decode(raw)
        path = os.path.join(self._secret_dir, hashlib.sha256(data).hexdigest()[:24])
        if not os.path.exists(path):
            fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(path + ".tmp", path)
        return path

    def store_config(self, bsl: BackupStorageLocation) -> dict[str, str]:
        spec = bsl.spec
        if not spec.provider:
            raise LocationError(f"backup storage location {bsl.name!r} has no spec.provider")
        if not spec.bucket:
            raise LocationError(f"backup storage location {bsl.name!r} has no spec.objectStorage.bucket")
        config = {**spec.config, "bucket": spec.bucket}
        if spec.prefix:  # an empty prefix is not sent: the filesystem store refuses "" (it checks "/")
            config["prefix"] = spec.prefix
        if spec.object_storage is not None and spec.object_storage.ca_cert:
            config["caCert"] = spec.object_storage.ca_cert
        if spec.credential is not None and spec.credential.name:
            config["credentialsFile"] = self.credentials_file(spec.credential)
        return config

    @contextmanager
    def backup_store(
        self, bsl: BackupStorageLocation, *, timeout: float | None = None, reinit: bool = False
    ) -> Iterator[BackupStore]:
        """A BackupStore on the location (raises LocationError when it cannot be set up)."""
        config = self.store_config(bsl)
        key = f"bsl/{bsl.name}"
        with self._using(key):
            try:
                instance = self.plugins.object_store(bsl.spec.provider, instance=key)
            except Exception as exc:
                raise LocationError(f"backup storage location {bsl.name!r}: {exc}") from exc
            what = f"backup storage location {bsl.name!r}"
            gate = self._gate(key, bsl.spec.provider, instance, what)
            with gate.hold(config, timeout, reinit=reinit):
                yield BackupStore(instance, bsl.spec.bucket, bsl.spec.prefix, location=bsl.name)

    @contextmanager
    def volume_snapshotter(self, vsl: VolumeSnapshotLocation) -> Iterator[VolumeSnapshotter]:
        config: dict[str, Any] = dict(vsl.spec.config)
        if vsl.spec.credential is not None and vsl.spec.credential.name:
            config["credentialsFile"] = self.credentials_file(vsl.spec.credential)
        key = f"vsl/{vsl.name}"
        with self._using(key):
            try:
                instance = self.plugins.volume_snapshotter(vsl.spec.provider, instance=key)
            except Exception as exc:
                raise LocationError(f"volume snapshot location {vsl.name!r}: {exc}") from exc
            gate = self._gate(key, vsl.spec.provider, instance, f"volume snapshot location {vsl.name!r}")
            with gate.hold(config):
                yield instance

    def close(self) -> None:
        for name in os.listdir(self._secret_dir):
            os.unlink(os.path.join(self._secret_dir, name))
        os.rmdir(self._secret_dir)
