"""An example third-party plugin for veloro (and Velero): one BackupItemAction, one RestoreItemAction."""

from veloro_example_annotate.actions import (
    ANNOTATION,
    BACKUP_ACTION_NAME,
    LABEL,
    RESTORE_ACTION_NAME,
    AnnotateOnBackup,
    LabelOnRestore,
)

__all__ = [
    "ANNOTATION",
    "BACKUP_ACTION_NAME",
    "LABEL",
    "RESTORE_ACTION_NAME",
    "AnnotateOnBackup",
    "LabelOnRestore",
]
