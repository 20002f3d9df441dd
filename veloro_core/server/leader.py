"""Leader election with a coordination.k8s.io/v1 Lease, so two servers never both run the controllers.

The algorithm is client-go's: the holder renews `renewTime` every retry period; a candidate takes the
lease over when it has seen no renewal for `leaseDurationSeconds` (by its own clock, so clock skew between
machines does not matter) or when the recorded renewTime is older than that (a holder that died long
ago). Every write carries the resourceVersion it read: of two candidates racing, one gets Conflict.
A leader that cannot renew within `renew_deadline` steps down (its controllers stop).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from veloro_core.kube import Conflict, GroupVersionResource, KubeClient, KubeError, NotFound
from veloro_core.server.settings import LeaderSettings

LEASES = GroupVersionResource("coordination.k8s.io", "v1", "leases")
log = structlog.get_logger("veloro.server")


def _micro_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_micro_time(text: str) -> datetime | None:
    for fmt in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


class LeaderElector:
    def __init__(
        self,
        kube: KubeClient,
        namespace: str,
        settings: LeaderSettings,
        on_started: Callable[[], None],
        on_stopped: Callable[[], None],
    ) -> None:
        self.kube = kube
        self.namespace = namespace
        self.settings = settings
        self.identity = settings.identity
        self.on_started = on_started
        self.on_stopped = on_stopped
        self.leading = False
        self.last_error = ""
        self._observed: tuple[str, str] | None = None  # (holder, renewTime) last seen
        self._observed_at = 0.0
        self._last_renew = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="veloro-leader", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            ok = self._try_acquire_or_renew()
            now = time.monotonic()
            if ok:
                self._last_renew = now
                if not self.leading:
                    self.leading = True
                    log.info("became the leader", identity=self.identity, lease=self.settings.lease_name)
                    self.on_started()
            elif self.leading and now - self._last_renew > self.settings.renew_deadline:
                self.leading = False
                log.error("lost the leader lease; stopping the controllers", identity=self.identity)
                self.on_stopped()
            self._stop.wait(self.settings.retry_period)

    def _lease_body(self, acquire: datetime | None, transitions: int) -> dict[str, Any]:
        now = datetime.now(UTC)
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": max(1, round(self.settings.lease_duration)),
            "acquireTime": _micro_time(acquire or now),
            "renewTime": _micro_time(now),
            "leaseTransitions": transitions,
        }

    def _try_acquire_or_renew(self) -> bool:
        name = self.settings.lease_name
        try:
            lease = self.kube.get(LEASES, name, self.namespace)
        except NotFound:
            return self._create(name)
        except KubeError as exc:
            self.last_error = str(exc)
            return False
        spec = lease.get("spec") or {}
        holder = str(spec.get("holderIdentity") or "")
        renew = str(spec.get("renewTime") or "")
        if (holder, renew) != self._observed:
            self._observed = (holder, renew)
            self._observed_at = time.monotonic()
        transitions = int(spec.get("leaseTransitions") or 0)
        if holder == self.identity:
            acquire = _parse_micro_time(str(spec.get("acquireTime") or ""))
            lease["spec"] = self._lease_body(acquire, transitions)
        elif holder and not self._expired(spec):
            return False
        else:
            lease["spec"] = self._lease_body(None, transitions + 1)
        try:
            self.kube.update(LEASES, lease, self.namespace)  # carries the resourceVersion we read
        except Conflict:
            return False
        except KubeError as exc:
            self.last_error = str(exc)
            return False
        self.last_error = ""
        return True

    def _expired(self, spec: dict[str, Any]) -> bool:
        duration = float(spec.get("leaseDurationSeconds") or self.settings.lease_duration)
        if time.monotonic() - self._observed_at > duration:
            return True
        renewed = _parse_micro_time(str(spec.get("renewTime") or ""))
        return renewed is not None and datetime.now(UTC) - renewed > timedelta(seconds=duration)

    def _create(self, name: str) -> bool:
        lease = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": name, "namespace": self.namespace},
            "spec": self._lease_body(None, 0),
        }
        try:
            self.kube.create(LEASES, lease, self.namespace)
        except KubeError as exc:  # AlreadyExists: another candidate was faster
            self.last_error = str(exc)
            return False
        return True

    def stop(self, release: bool = True) -> None:
        """Stop campaigning; a leader releases the lease so a standby takes over at once."""
        self._stop.set()
        self._thread.join(timeout=self.settings.retry_period + 5)
        if release and self.leading:
            self.leading = False
            try:
                lease = self.kube.get(LEASES, self.settings.lease_name, self.namespace)
                if (lease.get("spec") or {}).get("holderIdentity") == self.identity:
                    lease["spec"]["holderIdentity"] = ""
                    lease["spec"]["leaseDurationSeconds"] = 1
                    self.kube.update(LEASES, lease, self.namespace)
            except KubeError as exc:
                log.warning("could not release the leader lease", error=str(exc))
