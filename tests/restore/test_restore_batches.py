"""Restore item actions run over chunks of items (execute_batch), with per-item semantics kept: the real
path (a test plugin process that logs its batch sizes, kubesim over HTTP) and the batched runner's
rules on in-process fakes (action order, outputs fed forward, skips, additional items, v2 operations,
items lost with a crashing plugin retried one by one)."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from restore_helpers import CONFIGMAPS, restore_cr, run, write_backup
from veloro_sdk.client import PluginUnavailable
from veloro_sdk.contracts import (
    PluginError,
    ResourceIdentifier,
    ResourceSelector,
    RestoreItemActionExecuteRequest,
    RestoreItemActionExecuteResponse,
    RestoreItemActionV2,
)

from veloro_core.actioncalls import call_batch_retrying
from veloro_core.api.restore import RestorePhase
from veloro_core.kube import KubeClient, NotFound
from veloro_core.persistence import BackupStore
from veloro_core.plugins import PluginManager, PluginSettings
from veloro_core.restore import RestoreSettings
from veloro_core.restore.actions import ActionItem, ActionRun, BoundAction, run_actions
from veloro_core.selection import ActionMatcher, ResourceIndex, ResourceInfo

Obj = dict[str, Any]
TEST_PLUGIN = Path(__file__).parent / "plugins" / "restore_test_plugin.py"
ANNOTATE = "test.veloro.io/annotate"


# ----------------------------------------------------------------------------------- the real path
@pytest.fixture(scope="module")
def batch_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("batches") / "sizes.log"


@pytest.fixture(scope="module")
def action_plugins(batch_log: Path) -> Iterator[PluginManager]:
    """Only the test action plugin, logging the size of every execute_batch it serves."""
    settings = PluginSettings(
        extra_env={"TEST_BATCH_LOG": str(batch_log)},
        builtin_commands=[[sys.executable, str(TEST_PLUGIN)]],
        entry_point_group=None,
        call_timeout=30.0,
        start_timeout=30.0,
    )
    with PluginManager.discover(settings) as manager:
        yield manager


@pytest.fixture
def fresh_log(batch_log: Path) -> Path:
    """The batch log, emptied for this test."""
    batch_log.write_text("")
    return batch_log


def read_sizes(batch_log: Path) -> list[int]:
    """The sizes of the execute_batch calls the annotate action served, in order."""
    return [int(line) for line in batch_log.read_text().split()]


def cm(ns: str, name: str, **labels: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "labels": labels, "resourceVersion": "42"},
        "data": {"k": name},
    }


@pytest.mark.parametrize("workers", [1, 4])
def test_actions_run_over_chunks_of_items(
    kube: KubeClient,
    action_plugins: PluginManager,
    store: BackupStore,
    ns: str,
    fresh_log: Path,
    workers: int,
) -> None:
    matched = [cm(ns, f"cm-{i:03d}", **{"restore-test": "yes"}) for i in range(120)]
    plain = [cm(ns, f"plain-{i}") for i in range(10)]
    skipped = [cm(ns, f"skip-{i}", **{"skip-me": "true"}) for i in range(5)]
    name = f"b-batch-{workers}"
    backup = write_backup(store, name, [("configmaps", "v1", o) for o in matched + plain + skipped])

    result = run(
        kube,
        action_plugins,
        store,
        restore_cr(f"r-batch-{workers}", name),
        backup,
        RestoreSettings(workers=workers, poll_interval=0.05),
    )

    assert result.phase is RestorePhase.COMPLETED, result.errors.to_dict()
    got = read_sizes(fresh_log)
    assert sum(got) == len(matched)  # each matched item once, no other item sent
    if workers == 1:
        assert got == [len(matched)]  # one call for the whole resource
    else:
        assert max(got) > 1 and len(got) <= 10, got  # about two chunks per worker, not 120 calls
    for obj in matched:
        annotations = kube.get(CONFIGMAPS, obj["metadata"]["name"], ns)["metadata"]["annotations"]
        assert annotations["test.veloro.io/restore"] == f"r-batch-{workers}"
        assert annotations["test.veloro.io/from-backup-rv"] == "42"  # its own item-from-backup
    for obj in plain:
        assert "annotations" not in kube.get(CONFIGMAPS, obj["metadata"]["name"], ns)["metadata"]
    for obj in skipped:
        with pytest.raises(NotFound):
            kube.get(CONFIGMAPS, obj["metadata"]["name"], ns)
    assert result.items_restored == len(matched) + len(plain)


def test_a_crash_mid_batch_fails_only_the_crashing_item(
    kube: KubeClient,
    action_plugins: PluginManager,
    store: BackupStore,
    ns: str,
    fresh_log: Path,
) -> None:
    items = [cm(ns, f"cm-{i:02d}", **{"restore-test": "yes"}) for i in range(20)]
    items[7]["metadata"]["labels"]["restore-crash"] = "true"
    items[12]["metadata"]["labels"]["restore-fail"] = "true"
    backup = write_backup(store, "b-crash", [("configmaps", "v1", o) for o in items])

    result = run(
        kube,
        action_plugins,
        store,
        restore_cr("r-crash", "b-crash"),
        backup,
        RestoreSettings(workers=1, poll_interval=0.05),
    )

    assert result.phase is RestorePhase.PARTIALLY_FAILED
    errors = sorted(result.errors.to_dict()["namespaces"][ns])
    assert len(errors) == 2, errors
    assert errors[0].startswith(
        f"error restoring configmaps {ns}/cm-07: restore item action {ANNOTATE!r} failed:"
    )
    assert errors[1].startswith(
        f"error restoring configmaps {ns}/cm-12: restore item action {ANNOTATE!r} failed:"
    )
    assert "refusing configmap cm-12 (label restore-fail)" in errors[1]
    # the whole batch was lost with the process, then each item was retried alone on a restarted one
    assert read_sizes(fresh_log) == [20] + [1] * 20
    for i, obj in enumerate(items):
        if i in (7, 12):
            with pytest.raises(NotFound):
                kube.get(CONFIGMAPS, obj["metadata"]["name"], ns)
        else:
            annotations = kube.get(CONFIGMAPS, obj["metadata"]["name"], ns)["metadata"]["annotations"]
            assert annotations["test.veloro.io/restore"] == "r-crash"
    assert result.items_restored == 18


# ------------------------------------------------------------------------ the runner, in process
INDEX = ResourceIndex([ResourceInfo("", "v1", "configmaps", "ConfigMap", True)])


class Recording(RestoreItemActionV2):
    """An in-process action: `on_item` decides each item's response; every batch is recorded."""

    def __init__(self, name: str, selector: str, events: list[Any], on_item: Any) -> None:
        self.name, self.selector, self.events, self.on_item = name, selector, events, on_item
        self.ready_asked: list[list[ResourceIdentifier]] = []

    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=["configmaps"], selector=self.selector)

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        response: RestoreItemActionExecuteResponse = self.on_item(request.item)
        return response

    def execute_batch(
        self, requests: list[RestoreItemActionExecuteRequest]
    ) -> list[RestoreItemActionExecuteResponse | Exception]:
        self.events.append((self.name, [r.item["metadata"]["name"] for r in requests]))
        return super().execute_batch(requests)

    def are_additional_items_ready(self, additional_items: list[ResourceIdentifier], restore: Obj) -> bool:
        self.ready_asked.append(additional_items)
        return True


def bound(action: Recording) -> BoundAction:
    return BoundAction(action.name, action, ActionMatcher.compile(action.applies_to(), INDEX))


def entries(*names: str) -> list[ActionItem]:
    return [ActionItem("ns1", cm("ns1", n), cm("ns1", n)) for n in names]


def test_runner_keeps_per_item_semantics() -> None:
    events: list[Any] = []
    extra = ResourceIdentifier("", "secrets", "ns1", "s1")

    def first(item: Obj) -> RestoreItemActionExecuteResponse:
        if item["metadata"]["name"] == "bad":
            raise PluginError("boom")
        item["metadata"]["labels"]["stage"] = "a"  # what the next action matches on
        op = "op-1" if item["metadata"]["name"] == "op" else ""
        return RestoreItemActionExecuteResponse(item=item, operation_id=op)

    def second(item: Obj) -> RestoreItemActionExecuteResponse:
        name = item["metadata"]["name"]
        if name == "skip":
            return RestoreItemActionExecuteResponse(skip_restore=True)
        if name == "extra":
            return RestoreItemActionExecuteResponse(additional_items=[extra], wait_for_additional_items=True)
        item["metadata"]["labels"]["stage"] = "b"
        return RestoreItemActionExecuteResponse(item=item)

    a = Recording("a", "", events, first)
    b = Recording("b", "stage=a", events, second)
    c = Recording("c", "", events, lambda item: RestoreItemActionExecuteResponse())
    items = entries("ok", "bad", "skip", "extra", "op")
    run = ActionRun({"metadata": {"name": "r"}}, 5.0, 0.01, lambda ids: events.append(("additional", ids)))

    run_actions([bound(a), bound(b), bound(c)], "configmaps", items, run)

    assert events == [
        ("a", ["ok", "bad", "skip", "extra", "op"]),
        ("b", ["ok", "skip", "extra", "op"]),  # matched through a's output; "bad" failed
        ("additional", [extra]),  # before the next action runs on "extra" (and before its create)
        ("c", ["ok", "extra", "op"]),  # "skip" asked to be skipped
    ]
    by_name = {e.item["metadata"]["name"]: e for e in items}
    assert by_name["bad"].error == "restore item action 'a' failed: boom"
    assert by_name["skip"].skip == "b"
    assert by_name["ok"].item["metadata"]["labels"]["stage"] == "b"
    assert by_name["ok"].item_from_backup["metadata"]["labels"] == {}  # the backed-up item, untouched
    assert b.ready_asked == [[extra]]
    assert [(o.action, o.operation_id, o.resource.name) for o in by_name["op"].operations] == [
        ("a", "op-1", "op")
    ]
    assert all(not by_name[n].operations for n in ("ok", "extra"))


class Crashing:
    """execute_batch as the restartable client gives it: every item of a call on a process that died
    (here: any call holding the item named "crash") is PluginUnavailable."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def execute_batch(self, requests: Sequence[str]) -> list[str | Exception]:
        self.calls.append(len(requests))
        if "crash" in requests:
            return [PluginUnavailable("process exited", plugin="p") for _ in requests]
        return [f"done {r}" for r in requests]


def test_items_lost_with_the_process_are_retried_one_by_one() -> None:
    fake = Crashing()
    lost: list[int] = []
    outcomes = call_batch_retrying(
        fake.execute_batch, ["a", "crash", "b"], on_lost=lambda n, exc: lost.append(n)
    )
    assert outcomes[0] == "done a" and outcomes[2] == "done b"
    assert isinstance(outcomes[1], PluginUnavailable)
    assert fake.calls == [3, 1, 1, 1]
    assert lost == [3]


def test_a_call_failing_as_a_whole_fails_each_item() -> None:
    def broken(requests: list[str]) -> list[str | Exception]:
        raise RuntimeError("channel closed")

    def short(requests: list[str]) -> list[str | Exception]:
        return ["x"]

    assert [str(o) for o in call_batch_retrying(broken, ["a", "b"])] == ["channel closed"] * 2
    assert [str(o) for o in call_batch_retrying(short, ["a", "b"])] == [
        "execute_batch returned 1 results for 2 items"
    ] * 2
