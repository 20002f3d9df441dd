"""Built-in RestoreItemActions for storage: claims, volumes, and the storage-class mapping.

Whether a claim is re-provisioned (its volumeName cleared) is decided from what reaches the action:
- the claim carries the annotation or label `veloro.io/dynamic-pv-restore` (the restore engine sets it when
  it does not restore the claim's PV: file-system or CSI backups, Delete policy without a snapshot; the
  veloro annotation is an instruction to this action and is removed) or Velero's
  `velero.io/dynamic-pv-restore` label (set on claims of data-mover restores; left in place), or
- the Restore sets `restorePVs: false`: no volume is restored, so a claim naming one would stay Pending.
Otherwise the claim keeps its volumeName and the bound PV (from the backed-up claim) is returned as an
additional item, so restoring a claim alone restores its volume too.
"""

from __future__ import annotations

from veloro_sdk.contracts import (
    JSONDict,
    ResourceIdentifier,
    ResourceSelector,
    RestoreItemAction,
    RestoreItemActionExecuteRequest,
    RestoreItemActionExecuteResponse,
)

from veloro_plugins.actions.fields import (
    annotations_of,
    child,
    dict_list,
    drop_keys,
    labels_of,
    namespace_mapping,
)
from veloro_plugins.actions.pluginconfig import PluginConfig

BINDING_ANNOTATIONS = ("pv.kubernetes.io/bind-completed", "pv.kubernetes.io/bound-by-controller")
PVC_ANNOTATIONS = (
    *BINDING_ANNOTATIONS,
    "volume.beta.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/selected-node",
)
DYNAMIC_MARKER = "veloro.io/dynamic-pv-restore"
VELERO_DYNAMIC_LABEL = "velero.io/dynamic-pv-restore"


def reprovisioned(pvc: JSONDict, restore: JSONDict) -> bool:
    """See the module docstring."""
    marked = DYNAMIC_MARKER in annotations_of(pvc) or DYNAMIC_MARKER in labels_of(pvc)
    if marked or VELERO_DYNAMIC_LABEL in labels_of(pvc):
        return True
    return child(restore, "spec").get("restorePVs") is False


class PVCRestoreAction(RestoreItemAction):
    """Drop the binding and provisioner annotations of the source cluster (including selected-node: that
    node need not exist in the target) and clear volumeName when the volume is re-provisioned."""

    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=["persistentvolumeclaims"])

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        pvc = request.item
        dynamic = reprovisioned(pvc, request.restore)
        drop_keys(annotations_of(pvc), (*PVC_ANNOTATIONS, DYNAMIC_MARKER))
        drop_keys(labels_of(pvc), (DYNAMIC_MARKER,))
        spec = child(pvc, "spec")
        if dynamic:
            spec.pop("volumeName", None)
            return RestoreItemActionExecuteResponse(item=pvc)
        backed_up = request.item_from_backup or pvc
        volume = child(backed_up, "spec").get("volumeName")
        extra = []
        if child(backed_up, "status").get("phase") == "Bound" and isinstance(volume, str) and volume:
            extra.append(ResourceIdentifier("", "persistentvolumes", "", volume))
        return RestoreItemActionExecuteResponse(item=pvc, additional_items=extra)


class PVRestoreAction(RestoreItemAction):
    """Point claimRef at the claim's restored namespace and drop the source claim's uid and
    resourceVersion, so the volume binds to the new claim."""

    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=["persistentvolumes"])

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        pv = request.item
        drop_keys(annotations_of(pv), BINDING_ANNOTATIONS)
        claim_ref = child(child(pv, "spec"), "claimRef")
        drop_keys(claim_ref, ("uid", "resourceVersion"))
        new_namespace = namespace_mapping(request.restore).get(str(claim_ref.get("namespace") or ""))
        if new_namespace:
            claim_ref["namespace"] = new_namespace
        return RestoreItemActionExecuteResponse(item=pv)


def _map_class(holder: JSONDict, mapping: dict[str, str]) -> bool:
    old = holder.get("storageClassName")
    new = mapping.get(old) if isinstance(old, str) else None
    if new:
        holder["storageClassName"] = new
        return True
    return False


class ChangeStorageClassAction(RestoreItemAction):
    """Rename storage classes per the `change-storage-class` ConfigMap (data: old class -> new class) in
    claims, volumes and StatefulSet claim templates."""

    def __init__(self) -> None:
        self.config = PluginConfig("change-storage-class")

    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(
            included_resources=["persistentvolumeclaims", "persistentvolumes", "statefulsets.apps"]
        )

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        mapping = self.config.for_run(request.restore)
        if not mapping:
            return RestoreItemActionExecuteResponse()
        item = request.item
        spec = child(item, "spec")
        if item.get("kind") == "StatefulSet":
            results = [_map_class(child(t, "spec"), mapping) for t in dict_list(spec, "volumeClaimTemplates")]
            changed = any(results)
        else:
            changed = _map_class(spec, mapping)
        return RestoreItemActionExecuteResponse(item=item if changed else None)
