"""An object that already exists in the cluster (AlreadyExists on create). A restore never deletes it:

- equal to the backed-up object apart from server-set fields, status and the restore labels -> skipped;
- different, existingResourcePolicy none -> Velero's warning, left alone;
- different, update -> merge patch towards the backed-up object; if that is refused, patch only the
  restore labels (so the object still shows which restore touched it) and warn.
"""

from __future__ import annotations

from typing import Any

from veloro_core.kube import APIResource, KubeError, PatchType
from veloro_core.restore.context import RestoreContext
from veloro_core.restore.objects import equal_ignoring_server_fields, merge_patch, object_ref

Obj = dict[str, Any]


def _kind(resource: APIResource, obj: Obj) -> str:
    return str(obj.get("kind") or resource.kind)


def already_exists_warning(kind: str, namespace: str | None, name: str) -> str:
    """Velero's wording, kept so tooling that greps restore warnings keeps working."""
    return (
        f'could not restore, {kind} "{object_ref(namespace, name)}" already exists. Warning: the in-cluster '
        "version is different than the backed-up version"
    )


def handle_existing(ctx: RestoreContext, resource: APIResource, obj: Obj, namespace: str | None) -> str:
    """Decide and act; returns the resource-list outcome (skipped, updated or failed)."""
    name = str((obj.get("metadata") or {}).get("name") or "")
    ident = f"{resource.group_resource} {object_ref(namespace, name)}"
    try:
        live = ctx.kube.get(resource, name, namespace)
    except KubeError as exc:
        ctx.errors.add(namespace, f"error restoring {ident}: it already exists and could not be read: {exc}")
        return "failed"
    if equal_ignoring_server_fields(obj, live):
        ctx.log.info(
            "already exists and is identical; skipped",
            resource=resource.group_resource,
            name=object_ref(namespace, name),
        )
        return "skipped"
    kind = _kind(resource, obj)
    if ctx.spec.policy != "update":
        warning = already_exists_warning(kind, namespace, name)
        ctx.warnings.add(namespace, warning)
        ctx.log.warning(warning, resource=resource.group_resource)
        return "skipped"
    patch = merge_patch(live, obj)
    try:
        ctx.kube.patch(
            resource,
            name,
            patch,
            namespace,
            patch_type=PatchType.MERGE,
            field_manager=ctx.settings.field_manager,
        )
        ctx.log.info(
            "existing object updated", resource=resource.group_resource, name=object_ref(namespace, name)
        )
        return "updated"
    except KubeError as exc:
        first = exc
    try:
        ctx.kube.patch(
            resource,
            name,
            {"metadata": {"labels": ctx.labels}},
            namespace,
            patch_type=PatchType.MERGE,
            field_manager=ctx.settings.field_manager,
        )
    except KubeError as exc:
        ctx.warnings.add(
            namespace,
            f"could not update existing {kind} {object_ref(namespace, name)!r}: {first}; "
            f"patching only its restore labels failed too: {exc}",
        )
        return "failed"
    ctx.warnings.add(
        namespace,
        f"could not update existing {kind} {object_ref(namespace, name)!r}: {first}; "
        "only its restore labels were patched",
    )
    return "updated"
