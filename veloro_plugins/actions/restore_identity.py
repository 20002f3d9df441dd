"""Built-in RestoreItemActions for identities: service accounts, their token secrets, RBAC bindings."""

from __future__ import annotations

from veloro_sdk.contracts import (
    JSONDict,
    ResourceSelector,
    RestoreItemAction,
    RestoreItemActionExecuteRequest,
    RestoreItemActionExecuteResponse,
)

from veloro_plugins.actions.fields import annotations_of, child, dict_list, name_of, namespace_mapping

TOKEN_SECRET_TYPE = "kubernetes.io/service-account-token"
SA_NAME_ANNOTATION = "kubernetes.io/service-account.name"
SA_UID_ANNOTATION = "kubernetes.io/service-account.uid"


class ServiceAccountRestoreAction(RestoreItemAction):
    """Drop `secrets` entries naming the account's auto-created token secrets (`<sa>-token-*`): those
    secrets are not restored (see SecretRestoreAction) and the target cluster makes its own."""

    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=["serviceaccounts"])

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        account = request.item
        secrets = account.get("secrets")
        if not isinstance(secrets, list):
            return RestoreItemActionExecuteResponse()
        prefix = f"{name_of(account)}-token-"
        kept = [s for s in secrets if not (isinstance(s, dict) and str(s.get("name", "")).startswith(prefix))]
        if len(kept) == len(secrets):
            return RestoreItemActionExecuteResponse()
        if kept:
            account["secrets"] = kept
        else:
            del account["secrets"]
        return RestoreItemActionExecuteResponse(item=account)


def auto_created_token(secret: JSONDict) -> bool:
    """A legacy token secret the token controller made for its account (`<sa>-token-<random>`)."""
    account = annotations_of(secret).get(SA_NAME_ANNOTATION)
    return bool(account) and name_of(secret).startswith(f"{account}-token-")


class SecretRestoreAction(RestoreItemAction):
    """Skip auto-created service-account token secrets (the target cluster creates its own). Token secrets
    a user created are restored without their token, CA and account uid, which the token controller fills
    in again for the account of the target cluster (a copied token would be invalid there)."""

    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=["secrets"])

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        secret = request.item
        if secret.get("type") != TOKEN_SECRET_TYPE:
            return RestoreItemActionExecuteResponse()
        if auto_created_token(secret):
            return RestoreItemActionExecuteResponse(skip_restore=True)
        annotations_of(secret).pop(SA_UID_ANNOTATION, None)
        data = child(secret, "data")
        for key in ("token", "ca.crt"):
            data.pop(key, None)
        return RestoreItemActionExecuteResponse(item=secret)


def remap_subjects(binding: JSONDict, restore: JSONDict) -> bool:
    """Move subjects[].namespace through the Restore's namespaceMapping; True when one changed."""
    mapping = namespace_mapping(restore)
    changed = False
    for subject in dict_list(binding, "subjects"):
        new = mapping.get(str(subject.get("namespace") or ""))
        if new:
            subject["namespace"] = new
            changed = True
    return changed


class RoleBindingRestoreAction(RestoreItemAction):
    """Subjects (service accounts) follow their namespace when it is restored under a new name."""

    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=["rolebindings.rbac.authorization.k8s.io"])

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        if not remap_subjects(request.item, request.restore):
            return RestoreItemActionExecuteResponse()
        return RestoreItemActionExecuteResponse(item=request.item)


class ClusterRoleBindingRestoreAction(RestoreItemAction):
    """As RoleBindingRestoreAction, for cluster-wide bindings."""

    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=["clusterrolebindings.rbac.authorization.k8s.io"])

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        if not remap_subjects(request.item, request.restore):
            return RestoreItemActionExecuteResponse()
        return RestoreItemActionExecuteResponse(item=request.item)
