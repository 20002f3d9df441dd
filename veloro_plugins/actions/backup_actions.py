"""Built-in BackupItemActions: pull in the objects an item needs to be restorable.

- veloro.io/pod: a pod's PersistentVolumeClaims and its PriorityClass.
- veloro.io/pvc: a claim's bound PersistentVolume.
- veloro.io/service-account: the ClusterRoleBindings naming the account as a subject, and their ClusterRoles.

They change nothing in the item (v1 contract: no asynchronous work).
"""

from __future__ import annotations

from veloro_sdk.contracts import (
    BackupItemAction,
    BackupItemActionExecuteRequest,
    BackupItemActionExecuteResponse,
    JSONDict,
    ResourceIdentifier,
    ResourceSelector,
)
from veloro_sdk.serve import get_logger

from veloro_plugins.actions.cluster import RunMemo, list_objects
from veloro_plugins.actions.fields import child, cr_key, dict_list, name_of, namespace_of

RBAC_GROUP = "rbac.authorization.k8s.io"
log = get_logger("veloro.actions.backup")


class PodBackupAction(BackupItemAction):
    """A pod's claims (same namespace) and priority class, so restoring the pod restores what it mounts."""

    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=["pods"])

    def execute(self, request: BackupItemActionExecuteRequest) -> BackupItemActionExecuteResponse:
        pod = request.item
        spec = child(pod, "spec")
        namespace = namespace_of(pod)
        extra: list[ResourceIdentifier] = []
        priority_class = spec.get("priorityClassName")
        if isinstance(priority_class, str) and priority_class:
            extra.append(ResourceIdentifier("scheduling.k8s.io", "priorityclasses", "", priority_class))
        seen: set[str] = set()
        for volume in dict_list(spec, "volumes"):
            claim = child(volume, "persistentVolumeClaim").get("claimName")
            if isinstance(claim, str) and claim and claim not in seen:
                seen.add(claim)
                extra.append(ResourceIdentifier("", "persistentvolumeclaims", namespace, claim))
        return BackupItemActionExecuteResponse(additional_items=extra)


class PVCBackupAction(BackupItemAction):
    """A claim's bound volume (spec.volumeName), a cluster-scoped object not otherwise in a namespaced
    backup."""

    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=["persistentvolumeclaims"])

    def execute(self, request: BackupItemActionExecuteRequest) -> BackupItemActionExecuteResponse:
        volume = child(request.item, "spec").get("volumeName")
        if not isinstance(volume, str) or not volume:
            return BackupItemActionExecuteResponse()
        return BackupItemActionExecuteResponse(
            additional_items=[ResourceIdentifier("", "persistentvolumes", "", volume)]
        )


# (namespace, service account) -> [(binding, cluster role)] of every ClusterRoleBinding naming it.
BindingIndex = dict[tuple[str, str], list[tuple[str, str]]]


def index_cluster_role_bindings(bindings: list[JSONDict]) -> BindingIndex:
    index: BindingIndex = {}
    for binding in bindings:
        role_ref = child(binding, "roleRef")
        role = role_ref.get("name") if role_ref.get("kind", "ClusterRole") == "ClusterRole" else ""
        for subject in dict_list(binding, "subjects"):
            if subject.get("kind") != "ServiceAccount":
                continue
            key = (str(subject.get("namespace") or ""), str(subject.get("name") or ""))
            index.setdefault(key, []).append((name_of(binding), str(role or "")))
    return index


class ServiceAccountBackupAction(BackupItemAction):
    """ClusterRoleBindings whose subjects include the account, and the ClusterRoles they bind.

    All ClusterRoleBindings are listed once per backup (memoised by the Backup's uid), not per account:
    a backup of 1,000 namespaces has at least 1,000 service accounts.
    """

    def __init__(self) -> None:
        self._memo: RunMemo[BindingIndex] = RunMemo()

    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=["serviceaccounts"])

    def _index(self, backup: JSONDict) -> BindingIndex:
        def load() -> BindingIndex:
            bindings = list_objects(RBAC_GROUP, "v1", "clusterrolebindings")
            log.debug("listed cluster role bindings", count=len(bindings), backup=name_of(backup))
            return index_cluster_role_bindings(bindings)

        return self._memo.get(cr_key(backup), load)

    def execute(self, request: BackupItemActionExecuteRequest) -> BackupItemActionExecuteResponse:
        account = (namespace_of(request.item), name_of(request.item))
        extra: list[ResourceIdentifier] = []
        seen: set[tuple[str, str]] = set()
        for binding, role in self._index(request.backup).get(account, []):
            for resource, name in (("clusterrolebindings", binding), ("clusterroles", role)):
                if name and (resource, name) not in seen:
                    seen.add((resource, name))
                    extra.append(ResourceIdentifier(RBAC_GROUP, resource, "", name))
        return BackupItemActionExecuteResponse(additional_items=extra)
