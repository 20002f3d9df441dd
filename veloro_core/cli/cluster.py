"""The CLI's way to the cluster: a KubeClient built from the global options, and typed access to veloro's
custom resources in the server namespace.

Everything goes through veloro_core.kube (the only package allowed to use the kubernetes client). Errors
of the kube layer that a command does not handle itself are translated by main() (errors.translate).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import click

from veloro_core.api import GROUP, VERSION, ApiValidationError, Resource
from veloro_core.cli.errors import NotFoundError, OperationFailed
from veloro_core.cli.options import global_options, server_namespace
from veloro_core.kube import GroupVersionResource, KubeClient, KubeError, KubeSettings, NotFound

R = TypeVar("R", bound=Resource)

# An interactive tool: fail fast on an unreachable server instead of retrying for long.
CLI_KUBE_SETTINGS = KubeSettings(qps=0, max_attempts=2, connect_timeout=5.0, read_timeout=30.0)


def gvr_of(resource: type[Resource]) -> GroupVersionResource:
    return GroupVersionResource(GROUP, VERSION, resource.PLURAL)


def connect(ctx: click.Context | None = None) -> KubeClient:
    """A client for the cluster the global options (--kubeconfig, --kubecontext) point at."""
    opts = global_options(ctx)
    return KubeClient.auto(opts.kubeconfig, opts.kubecontext, CLI_KUBE_SETTINGS)


class Cluster:
    """veloro's custom resources in one namespace, as typed models."""

    def __init__(self, client: KubeClient, namespace: str) -> None:
        self.client = client
        self.namespace = namespace

    @classmethod
    def from_context(cls, ctx: click.Context | None = None) -> Cluster:
        cluster = cls(connect(ctx), server_namespace(ctx))
        (ctx or click.get_current_context()).call_on_close(cluster.client.close)
        return cluster

    def _decode(self, resource: type[R], data: dict[str, Any]) -> R:
        try:
            return resource.from_dict(data)
        except ApiValidationError as exc:
            raise OperationFailed(f"the cluster holds a malformed {resource.KIND}: {exc}") from exc

    def get(self, resource: type[R], name: str) -> R:
        try:
            data = self.client.get(gvr_of(resource), name, self.namespace)
        except NotFound as exc:
            raise self._not_found(resource, name, exc) from exc
        return self._decode(resource, data)

    def _not_found(self, resource: type[Resource], name: str, exc: NotFound) -> NotFoundError:
        """A missing object, or (no name in the Status details) a missing resource type: not installed."""
        if not exc.details.get("name"):
            return NotFoundError(
                f"the cluster does not serve {resource.PLURAL}.{GROUP}",
                hint="install veloro first: `veloro install ...` (see docs/install.md)",
            )
        return NotFoundError(
            f"{resource.KIND} {name!r} not found in namespace {self.namespace!r}",
            hint=f"list them with `veloro get {resource.PLURAL} -n {self.namespace}`",
        )

    def list_all(self, resource: type[R], label_selector: str | None = None) -> list[R]:
        items = self.client.list_items(gvr_of(resource), self.namespace, label_selector=label_selector)
        objects = [self._decode(resource, item) for item in items]
        return sorted(objects, key=lambda o: o.name)

    def select(self, resource: type[R], names: tuple[str, ...], selector: str | None, all_: bool) -> list[R]:
        """The objects named, or matching -l, or all of them with --all (exactly one way must be used)."""
        ways = sum((bool(names), selector is not None, all_))
        if ways != 1:
            raise click.UsageError("give NAMEs, or --selector, or --all (exactly one of them)")
        if names:
            return [self.get(resource, name) for name in names]
        return self.list_all(resource, selector)

    def create(self, obj: R) -> R:
        obj.namespace = self.namespace
        created = self.client.create(gvr_of(type(obj)), obj.to_dict(), self.namespace)
        return self._decode(type(obj), created)

    def update(self, obj: R) -> R:
        updated = self.client.update(gvr_of(type(obj)), obj.to_dict(), self.namespace)
        return self._decode(type(obj), updated)

    def patch(self, resource: type[R], name: str, patch: dict[str, Any]) -> R:
        try:
            data = self.client.patch(gvr_of(resource), name, patch, self.namespace)
        except NotFound as exc:
            raise self._not_found(resource, name, exc) from exc
        return self._decode(resource, data)

    def delete(self, resource: type[Resource], name: str, *, missing_ok: bool = False) -> None:
        try:
            self.client.delete(gvr_of(resource), name, self.namespace)
        except NotFound as exc:
            if not missing_ok:
                raise NotFoundError(
                    f"{resource.KIND} {name!r} not found in namespace {self.namespace!r}"
                ) from exc

    def poll(self, resource: type[R], name: str, interval: float = 0.5) -> Iterator[R]:
        """The object, fetched again every `interval` seconds, for as long as the caller iterates."""
        while True:
            yield self.get(resource, name)
            time.sleep(interval)

    def request(
        self, obj: R, done: Callable[[R], bool], *, timeout: float, what: str, interval: float = 0.25
    ) -> R:
        """Create a request object (DownloadRequest, ServerStatusRequest), wait until `done`, delete it.

        A TimeoutError says the server did not answer: usually it is not running.
        """
        created = self.create(obj)
        deadline = time.monotonic() + timeout
        try:
            for current in self.poll(type(obj), created.name, interval):
                if done(current):
                    return current
                if time.monotonic() >= deadline:
                    raise TimeoutError(
                        f"no answer from the veloro server to the {what} within {timeout:g}s (is the server "
                        f"running and watching namespace {self.namespace!r}?)"
                    )
        finally:
            try:
                self.delete(type(obj), created.name, missing_ok=True)
            except KubeError:
                pass  # tidying up only; the server also expires old requests
        raise AssertionError("unreachable: poll() never ends")
