"""The restore engine: `run_restore(RestoreRunInput(...)) -> RestoreResult`.

    result = run_restore(RestoreRunInput(restore=restore_cr, backup=backup_cr, kube=client, plugins=manager,
                                         store=backup_store, settings=RestoreSettings(), log=log,
                                         on_progress=lambda total, done: ...))
    result.phase, result.status_fields(), result.warnings.to_dict(), result.resource_list

Behaviour (Velero's): validation first (FailedValidation lists every problem); the tarball is downloaded
to a private temp file and extracted with limits; pass 1 restores CRDs and waits until they are
Established; target namespaces are created (mapped); pass 2 restores the other resources in priority order,
items of one resource type concurrently; restore item actions run in their plugin processes; the log,
results and resource list are uploaded to the backup store. See engine.py, passes.py and items.py.
"""

from veloro_core.restore.engine import run_restore
from veloro_core.restore.existing import already_exists_warning
from veloro_core.restore.logcapture import RestoreLog
from veloro_core.restore.model import ProgressCallback, RestoreResult, RestoreRunInput, RestoreSettings
from veloro_core.restore.objects import (
    BACKUP_NAME_LABEL,
    RESTORE_NAME_LABEL,
    equal_ignoring_server_fields,
    label_value,
    merge_patch,
    reset_metadata,
    skip_reason,
)
from veloro_core.restore.priorities import DEFAULT_PRIORITIES, Priorities, order_resources
from veloro_core.restore.results import ResourceList, Results
from veloro_core.restore.validation import NON_RESTORABLE, ValidatedRestore, validate_restore

__all__ = [
    "BACKUP_NAME_LABEL",
    "DEFAULT_PRIORITIES",
    "NON_RESTORABLE",
    "RESTORE_NAME_LABEL",
    "Priorities",
    "ProgressCallback",
    "ResourceList",
    "RestoreLog",
    "RestoreResult",
    "RestoreRunInput",
    "RestoreSettings",
    "Results",
    "ValidatedRestore",
    "already_exists_warning",
    "equal_ignoring_server_fields",
    "label_value",
    "merge_patch",
    "order_resources",
    "reset_metadata",
    "run_restore",
    "skip_reason",
    "validate_restore",
]
