"""The order of the restore: CRDs (pass 1, then wait until Established and refresh discovery), target
namespaces, then pass 2 group by group (high priorities, the rest alphabetically, low priorities).

Within one resource type items do not depend on each other, so they are created concurrently on the
engine's bounded pool; groups run one after the other, which keeps the priority order meaningful.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from veloro_core.archive import ArchiveError, ItemRef
from veloro_core.kube import KubeError, NotFound
from veloro_core.restore.context import RestoreContext
from veloro_core.restore.items import ItemRestorer
from veloro_core.restore.namespaces import NamespaceEnsurer, NamespaceError
from veloro_core.restore.priorities import order_resources
from veloro_core.restore.validation import NON_RESTORABLE

CRDS = "customresourcedefinitions.apiextensions.k8s.io"
NAMESPACES = "namespaces"
CHUNK = 32  # items per pool task
BATCH = 500  # items per pool task at most when actions apply: one execute_batch call per action each


class RestorePasses:
    def __init__(self, ctx: RestoreContext, pool: ThreadPoolExecutor) -> None:
        self.ctx = ctx
        self.pool = pool
        self.namespaces = NamespaceEnsurer(ctx)
        self.items = ItemRestorer(ctx, self.namespaces)
        self._planned: dict[str, int] = {}
        self._refresh_filter()

    def _refresh_filter(self) -> None:
        self.filter = self.ctx.spec.selection.resource_filter(self.ctx.cluster.index)
        self.items.set_filter(self.filter)

    # ------------------------------------------------------------------------------ selection
    def _present(self) -> list[str]:
        present = []
        for gr in self.ctx.contents.group_resources():
            if gr in NON_RESTORABLE:
                self.ctx.log.info("resource is never restored; skipped", resource=gr)
            else:
                present.append(gr)
        return present

    def _refs(self, gr: str, warn: bool = False) -> list[ItemRef]:
        """The items of one resource the restore's filters select (labels are checked per item)."""
        ctx = self.ctx
        info = ctx.cluster.index.get(gr)
        if info is None:
            if warn:
                msg = (
                    f"resource {gr!r} in the backup is not served by the target cluster; its items are not "
                    "restored - install its CustomResourceDefinition or API service first"
                )
                ctx.warnings.add_velero(msg)
                ctx.log.warning(msg)
            return []
        if not self.filter.should_include(gr):
            return []
        try:
            refs = ctx.contents.items(gr)
        except ArchiveError as exc:
            ctx.errors.add_velero(f"cannot list {gr} in the backup: {exc}")
            return []
        nss = ctx.spec.selection.namespaces
        if info.namespaced:
            return [r for r in refs if r.namespace is not None and nss.should_include(r.namespace)]
        return [r for r in refs if r.namespace is None]

    def _plan_totals(self, present: list[str]) -> None:
        for gr in present:
            if gr == NAMESPACES:
                continue
            n = len(self._refs(gr)) if self.ctx.cluster.index.get(gr) is not None else self._count_raw(gr)
            self._planned[gr] = n
        self.ctx.progress.add_total(sum(self._planned.values()))

    def _count_raw(self, gr: str) -> int:
        """Items of a resource the cluster does not serve yet (custom resources before their CRD)."""
        nss = self.ctx.spec.selection.namespaces
        try:
            return sum(
                1
                for r in self.ctx.contents.items(gr)
                if r.namespace is None or nss.should_include(r.namespace)
            )
        except ArchiveError:
            return 0

    # ------------------------------------------------------------------------------------ run
    def run(self) -> None:
        present = self._present()
        self._plan_totals(present)
        if CRDS in present:
            self._group(CRDS)
            self._wait_established()
            try:
                self.ctx.cluster.load(refresh=True)
            except KubeError as exc:
                self.ctx.errors.add_velero(f"refreshing discovery after restoring CRDs failed: {exc}")
            self._refresh_filter()
        self._namespaces(present)
        rest = [gr for gr in present if gr not in (CRDS, NAMESPACES)]
        for gr in order_resources(rest, self.ctx.settings.priorities, self.ctx.cluster.resolve):
            self._group(gr)

    def _group(self, gr: str) -> None:
        refs = self._refs(gr, warn=True)
        planned = self._planned.pop(gr, len(refs))
        if len(refs) != planned:
            self.ctx.progress.add_total(len(refs) - planned)
        if not refs:
            return
        self.ctx.log.info("restoring resource", resource=gr, items=len(refs))
        self._concurrently(gr, refs)

    def _concurrently(self, gr: str, refs: list[ItemRef]) -> None:
        """Restore `refs` on the pool in chunks: one future per item costs more host CPU than the
        item's own work does, and the host CPU is what bounds a restore's throughput. When restore item
        actions apply, a chunk is also what goes through each action in one call, so chunks are bigger
        (still about two per worker, to keep the creates spread over the whole pool)."""
        workers = self.ctx.settings.workers
        batched = self.items.has_actions(gr)
        if workers == 1 or len(refs) == 1:
            size = BATCH if batched else CHUNK
            for i in range(0, len(refs), size):
                self.items.restore_many(refs[i : i + size])
            return
        if batched:
            size = max(1, min(BATCH, len(refs) // (workers * 2)))
        else:
            size = max(1, min(CHUNK, len(refs) // (workers * 4)))
        chunks = [refs[i : i + size] for i in range(0, len(refs), size)]
        for _ in self.pool.map(self.items.restore_many, chunks):
            pass

    def _namespaces(self, present: list[str]) -> None:
        """Every selected namespace of the backup first (also empty ones, as Velero), then the namespaces
        that hold selected items."""
        ctx = self.ctx
        nss = ctx.spec.selection.namespaces
        wanted: set[str] = set()
        if NAMESPACES in present and self.filter.should_include(NAMESPACES):
            wanted.update(
                r.name for r in ctx.contents.cluster_items(NAMESPACES) if nss.should_include(r.name)
            )
        for gr in present:
            info = ctx.cluster.index.get(gr)
            if info is not None and info.namespaced and self.filter.should_include(gr):
                wanted.update(ns for ns in ctx.contents.namespaces(gr) if nss.should_include(ns))
        for _ in self.pool.map(self._ensure, sorted(wanted)):
            pass

    def _ensure(self, source: str) -> None:
        try:
            self.namespaces.ensure(source)
        except NamespaceError:
            pass  # recorded by the ensurer; each item of it fails with the same reason

    def _wait_established(self) -> None:
        ctx = self.ctx
        crd_resource = ctx.cluster.preferred(CRDS)
        if crd_resource is None:
            return
        names = [r.name for r in self._refs(CRDS)]
        deadline = time.monotonic() + ctx.settings.crd_established_timeout
        for name in names:
            while True:
                try:
                    crd = ctx.kube.get(crd_resource, name)
                except NotFound:
                    break  # it was not restored (its error is recorded)
                except KubeError as exc:
                    ctx.errors.add(None, f"error waiting for CustomResourceDefinition {name}: {exc}")
                    break
                if _established(crd):
                    ctx.add_crd(name)
                    break
                if time.monotonic() >= deadline:
                    ctx.errors.add(
                        None,
                        f"CustomResourceDefinition {name} was not Established within "
                        f"{ctx.settings.crd_established_timeout:.0f}s; its custom resources may "
                        "fail to restore",
                    )
                    break
                time.sleep(ctx.settings.poll_interval)


def _established(crd: dict[str, object]) -> bool:
    status = crd.get("status")
    conditions = status.get("conditions") if isinstance(status, dict) else None
    return any(
        isinstance(c, dict) and c.get("type") == "Established" and c.get("status") == "True"
        for c in conditions or []
    )
