"""The example plugin's own tests: the actions in-process, then the whole plugin through the real
handshake with the conformance kit (as a vendor would test theirs)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from veloro_example_annotate import (
    ANNOTATION,
    BACKUP_ACTION_NAME,
    LABEL,
    RESTORE_ACTION_NAME,
    AnnotateOnBackup,
    LabelOnRestore,
)
from veloro_example_annotate.actions import label_value
from veloro_sdk.contracts import BackupItemActionExecuteRequest, RestoreItemActionExecuteRequest
from veloro_sdk.testing import (
    LaunchOptions,
    Status,
    check_plugin,
    launch_plugin,
    run_conformance,
    sample_backup,
    sample_restore,
)

SRC = Path(__file__).resolve().parents[1] / "src"


def pod() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"}, "spec": {}}


def test_backup_action_annotates_with_backup_name() -> None:
    response = AnnotateOnBackup().execute(BackupItemActionExecuteRequest(item=pod(), backup=sample_backup()))
    assert response.item is not None
    assert response.item["metadata"]["annotations"] == {ANNOTATION: "conformance"}


def test_backup_action_leaves_annotated_items_unchanged() -> None:
    item = pod()
    item["metadata"]["annotations"] = {ANNOTATION: "conformance"}
    response = AnnotateOnBackup().execute(BackupItemActionExecuteRequest(item=item, backup=sample_backup()))
    assert response.item is None


def test_restore_action_labels_namespaced_items_only() -> None:
    restore = sample_restore()
    labelled = LabelOnRestore().execute(RestoreItemActionExecuteRequest(pod(), restore, pod()))
    assert labelled.item is not None and labelled.item["metadata"]["labels"] == {LABEL: "conformance-restore"}
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}}
    unchanged = LabelOnRestore().execute(RestoreItemActionExecuteRequest(namespace, restore, namespace))
    assert unchanged.item is None


@pytest.mark.parametrize(
    ("text", "value"), [("nightly-2024", "nightly-2024"), ("a b/c", "a-b-c"), ("", "unknown")]
)
def test_label_value(text: str, value: str) -> None:
    assert label_value(text) == value


def test_kit_in_process() -> None:
    rows = check_plugin("BackupItemAction", BACKUP_ACTION_NAME, AnnotateOnBackup())
    rows += check_plugin("RestoreItemAction", RESTORE_ACTION_NAME, LabelOnRestore())
    assert all(r.status is Status.PASS for r in rows), [r for r in rows if r.status is not Status.PASS]


def _env_with_src() -> dict[str, str]:
    # Works whether or not the package is installed: the plugin process finds it on PYTHONPATH.
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH", "")]))}


@pytest.mark.parametrize(
    "argv",
    [
        [sys.executable, "-m", "veloro_example_annotate"],
        # what a host runs for the `veloro.plugins` entry point
        [sys.executable, "-m", "veloro_sdk.launch", "veloro_example_annotate.plugin:serve"],
    ],
    ids=["module", "entry-point"],
)
def test_conformance_through_the_real_handshake(argv: list[str]) -> None:
    report = run_conformance(argv, options=LaunchOptions(env=_env_with_src()))
    report.assert_ok()
    names = {(r.kind, r.name) for r in report.results}
    assert ("BackupItemAction", BACKUP_ACTION_NAME) in names
    assert ("RestoreItemAction", RESTORE_ACTION_NAME) in names


def test_served_action_changes_items_over_grpc() -> None:
    from veloro_sdk.client import BackupItemActionClient

    with launch_plugin([sys.executable, "-m", "veloro_example_annotate"], env=_env_with_src()) as plugin:
        client = plugin.client("BackupItemAction", BACKUP_ACTION_NAME)
        assert isinstance(client, BackupItemActionClient)
        response = client.execute(BackupItemActionExecuteRequest(item=pod(), backup=sample_backup()))
        assert (
            response.item is not None
            and response.item["metadata"]["annotations"][ANNOTATION] == "conformance"
        )


@pytest.mark.skipif(shutil.which("veloro-example-annotate") is None, reason="package not installed")
def test_installed_console_script() -> None:
    run_conformance([shutil.which("veloro-example-annotate") or ""]).assert_ok()
