"""The engine sends the items an action applies to in groups (one execute_batch call per action and
group), not one call per item, and keeps per-item results: a failing item fails alone."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import orjson
from backup_helpers import backup_cr, create, tar_members

from veloro_core.backup import BackupRunInput, BackupSettings, run_backup
from veloro_core.kube import KubeClient
from veloro_core.persistence import BackupStore
from veloro_core.plugins import PluginManager


def test_actions_get_items_in_batches(
    manager: PluginManager, kube: KubeClient, store_root: Path, tmp_path: Path
) -> None:
    ns = "batched"
    create(kube, "namespaces", {"metadata": {"name": ns}})
    for i in range(120):
        labels = {"test-fail": "true"} if i == 33 else {}
        create(kube, "configmaps", {"metadata": {"name": f"cm-{i:03d}", "namespace": ns, "labels": labels}})
    log = tmp_path / "batches.log"
    # the module's plugin settings, plus the log file the test action records its batch sizes in
    settings = manager.settings
    settings = dataclasses.replace(settings, extra_env={**settings.extra_env, "TEST_BATCH_LOG": str(log)})
    with PluginManager.discover(settings) as batch_manager:
        object_store = batch_manager.object_store("veloro.io/filesystem")
        object_store.init({"root": str(store_root), "bucket": "velero"})
        store = BackupStore(object_store, "velero", "batch", location="default")
        result = run_backup(
            BackupRunInput(
                backup=backup_cr("batched", includedNamespaces=[ns]),
                kube=kube,
                plugins=batch_manager,
                store=store,
                settings=BackupSettings(action_batch_size=50),
            )
        )
        assert result.phase == "PartiallyFailed", (result.failure_reason, result.errors)
        # one page of configmaps (ours and the namespace's kube-root-ca.crt) in groups of at most 50:
        # three calls instead of 121
        listed = len(list(kube.list_items(kube.discovery.resolve("configmaps"), ns)))
        sizes = sorted(int(n) for n in log.read_text().split())
        assert sizes == [listed - 100, 50, 50] and listed >= 120
        assert result.error_count == 1 and "cm-033" in result.errors["namespaces"][ns][0]
        names, files = tar_members(store, "batched")
        cms = [n for n in names if n.startswith(f"resources/configmaps/namespaces/{ns}/")]
        assert len(cms) == listed - 1
        cm = orjson.loads(files[f"resources/configmaps/namespaces/{ns}/cm-119.json"])
        assert cm["metadata"]["annotations"]["test.veloro.io/annotated"] == "batched"
