"""The order of restore pass 2: high priorities, every other resource alphabetically, low priorities.

Velero's server flag `--restore-resource-priorities` is one comma-separated list where a lone `-` splits
the high priorities (before it) from the low ones (after it). A user value REPLACES the default list (it
is not merged with it), exactly as in Velero.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

SEPARATOR = "-"


@dataclass(frozen=True)
class Priorities:
    """High-priority resources (restored first, in this order) and low-priority ones (restored last)."""

    high: tuple[str, ...] = ()
    low: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str | Sequence[str]) -> Priorities:
        """From Velero's flag format: "a,b,c,-,x,y" (or the list already split)."""
        items = text.split(",") if isinstance(text, str) else list(text)
        names = [i.strip() for i in items if i.strip()]
        if names.count(SEPARATOR) > 1:
            raise ValueError(
                f"restore resource priorities {','.join(names)!r} have more than one '-' separator; use "
                "one '-' between the high and the low priorities"
            )
        if SEPARATOR in names:
            cut = names.index(SEPARATOR)
            high, low = names[:cut], names[cut + 1 :]
        else:
            high, low = names, []
        duplicates = sorted({n for n in high + low if (high + low).count(n) > 1})
        if duplicates:
            raise ValueError(f"restore resource priorities list {', '.join(duplicates)} more than once")
        return cls(tuple(high), tuple(low))

    def __str__(self) -> str:
        return ",".join([*self.high, SEPARATOR, *self.low] if self.low else self.high)


DEFAULT_PRIORITIES = Priorities(
    high=(
        "customresourcedefinitions",
        "namespaces",
        "storageclasses",
        "volumesnapshotclasses.snapshot.storage.k8s.io",
        "volumesnapshotcontents.snapshot.storage.k8s.io",
        "volumesnapshots.snapshot.storage.k8s.io",
        "persistentvolumes",
        "persistentvolumeclaims",
        "clusterroles",
        "roles",
        "serviceaccounts",
        "clusterrolebindings",
        "rolebindings",
        "secrets",
        "configmaps",
        "limitranges",
        "priorityclasses",
        "pods",
        # replica sets before deployments, so a deployment adopts its restored replica sets (as Velero)
        "replicasets.apps",
        "endpoints",
        "services",
    ),
    # Velero's default low priorities: Cluster API objects go last, after what they reference.
    low=(
        "clusterbootstraps.cluster.x-k8s.io",
        "clusters.cluster.x-k8s.io",
        "clusterresourcesets.addons.cluster.x-k8s.io",
    ),
)


def order_resources(
    present: Iterable[str], priorities: Priorities, resolve: Callable[[str], str | None]
) -> list[str]:
    """The pass-2 order of the group-resources `present` in the backup.

    `resolve` maps a priority name ("pods", "replicasets.apps", "volumesnapshotclass.snapshot...") to the
    group-resource folder name of the backup, or None when the cluster does not know it (then the name is
    used as written, which matches a folder of that exact name or nothing).
    """
    remaining = set(present)

    def take(names: Sequence[str]) -> list[str]:
        out: list[str] = []
        for name in names:
            gr = resolve(name) or name
            if gr in remaining:
                remaining.discard(gr)
                out.append(gr)
        return out

    high = take(priorities.high)
    low = take(priorities.low)
    return [*high, *sorted(remaining), *low]
