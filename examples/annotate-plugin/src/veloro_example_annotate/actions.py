"""The two actions. Plain classes implementing the SDK's contracts: testable without any process."""

from __future__ import annotations

import re

from veloro_sdk.contracts import (
    BackupItemAction,
    BackupItemActionExecuteRequest,
    BackupItemActionExecuteResponse,
    ResourceSelector,
    RestoreItemAction,
    RestoreItemActionExecuteRequest,
    RestoreItemActionExecuteResponse,
)
from veloro_sdk.serve import get_logger

BACKUP_ACTION_NAME = "example.com/annotate"
RESTORE_ACTION_NAME = "example.com/restore-label"
ANNOTATION = "example.com/backed-up-by"
LABEL = "example.com/restored-by"

_LABEL_VALUE_BAD = re.compile(r"[^A-Za-z0-9._-]")


def label_value(text: str) -> str:
    """A valid Kubernetes label value (<= 63 chars, alphanumeric at both ends) made from `text`."""
    value = _LABEL_VALUE_BAD.sub("-", text)[:63].strip("-_.")
    return value or "unknown"


class AnnotateOnBackup(BackupItemAction):
    """Records, on every backed-up object, the name of the backup that took it."""

    def applies_to(self) -> ResourceSelector:
        # Everything except events, which are noise in a backup and churn constantly.
        return ResourceSelector(excluded_resources=["events", "events.events.k8s.io"])

    def execute(self, request: BackupItemActionExecuteRequest) -> BackupItemActionExecuteResponse:
        item = request.item
        backup_name = str(request.backup.get("metadata", {}).get("name", ""))
        metadata = item.setdefault("metadata", {})
        annotations = metadata.get("annotations") or {}
        if annotations.get(ANNOTATION) == backup_name:
            return BackupItemActionExecuteResponse()  # already annotated: "unchanged"
        annotations[ANNOTATION] = backup_name
        metadata["annotations"] = annotations
        # Logs go to stderr as hclog JSON; the host re-emits them with this plugin's name.
        get_logger("example-annotate").debug(
            "annotated", kind=item.get("kind"), name=metadata.get("name"), backup=backup_name
        )
        return BackupItemActionExecuteResponse(item=item)


class LabelOnRestore(RestoreItemAction):
    """Labels every restored namespaced object with the name of the restore that created it."""

    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_namespaces=["*"], excluded_resources=["events"])

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        item = request.item
        metadata = item.setdefault("metadata", {})
        if not metadata.get("namespace"):
            return RestoreItemActionExecuteResponse()  # cluster-scoped: leave unchanged
        restore_name = str(request.restore.get("metadata", {}).get("name", ""))
        labels = metadata.get("labels") or {}
        labels[LABEL] = label_value(restore_name)
        metadata["labels"] = labels
        return RestoreItemActionExecuteResponse(item=item)
