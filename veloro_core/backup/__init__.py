"""The backup engine: `run_backup(BackupRunInput(...)) -> BackupResult`.

    result = run_backup(BackupRunInput(backup=backup_dict, kube=kube_client, plugins=plugin_manager,
                                       store=backup_store, settings=BackupSettings(on_progress=cb)))

Validation first (FailedValidation lists every problem); then discovery, namespace and resource
selection, lists fetched concurrently and consumed in Velero's order, each item once through the
matching BackupItemActions (additional items, v2 operations), volume records and native snapshots, the
CRDs of backed-up custom resources, and the upload with the metadata written last. Memory: one dedup
digest per item; the tarball, resource list, volume records and log stream through temp files.
"""

from veloro_core.backup.engine import FORMAT_VERSION, run_backup
from veloro_core.backup.types import BackupResult, BackupRunInput, BackupSettings, ProgressUpdate

__all__ = [
    "FORMAT_VERSION",
    "BackupResult",
    "BackupRunInput",
    "BackupSettings",
    "ProgressUpdate",
    "run_backup",
]
