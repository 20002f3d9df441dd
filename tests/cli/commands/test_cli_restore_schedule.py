"""`veloro restore ...` and `veloro schedule ...` against kubesim."""

from __future__ import annotations

import re
import threading
import time

import pytest
import yaml
from cli_cluster import RESTORES, SCHEDULES, Veloro, background, set_status, wait_for

from veloro_core.kube import KubeClient, NotFound


def test_restore_create_flags(veloro: Veloro, kube: KubeClient, ns: str) -> None:
    result = veloro(
        "restore",
        "create",
        "r-full",
        "--from-backup",
        "nightly-1",
        "--include-namespaces",
        "shop,blog",
        "--exclude-namespaces",
        "tmp",
        "--include-resources",
        "deployments",
        "--exclude-resources",
        "events",
        "--include-cluster-resources",
        "-l",
        "app=web",
        "--namespace-mappings",
        "shop:shop-copy,blog:blog2",
        "--existing-resource-policy",
        "update",
        "--restore-volumes=false",
        "--preserve-nodeports",
        "--status-include-resources",
        "widgets.example.com",
        "--resource-modifier-configmap",
        "mods",
        "--item-operation-timeout",
        "30m",
        "--labels",
        "who=me",
    )
    assert result.code == 0, result.output
    obj = kube.get(RESTORES, "r-full", ns)
    assert obj["metadata"]["labels"] == {"who": "me"}
    assert obj["spec"] == {
        "backupName": "nightly-1",
        "includedNamespaces": ["shop", "blog"],
        "excludedNamespaces": ["tmp"],
        "includedResources": ["deployments"],
        "excludedResources": ["events"],
        "namespaceMapping": {"shop": "shop-copy", "blog": "blog2"},
        "labelSelector": {"matchLabels": {"app": "web"}},
        "restorePVs": False,
        "restoreStatus": {"includedResources": ["widgets.example.com"]},
        "preserveNodePorts": True,
        "includeClusterResources": True,
        "existingResourcePolicy": "update",
        "itemOperationTimeout": "30m",
        "resourceModifier": {"kind": "configmap", "name": "mods"},
    }


def test_restore_default_name_and_schedule_source(veloro: Veloro, kube: KubeClient, ns: str) -> None:
    result = veloro("restore", "create", "--from-schedule", "daily")
    assert result.code == 0, result.output
    (made,) = list(kube.list_items(RESTORES, ns))
    assert re.fullmatch(r"daily-\d{14}", made["metadata"]["name"])
    assert made["spec"] == {"scheduleName": "daily"}
    printed = veloro("restore", "create", "--from-backup", "b1", "-o", "yaml")
    assert re.fullmatch(r"b1-\d{14}", yaml.safe_load(printed.stdout)["metadata"]["name"])
    assert len(list(kube.list_items(RESTORES, ns))) == 1  # -o created nothing


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "exactly one of --from-backup and --from-schedule"),
        (["--from-backup", "a", "--from-schedule", "b"], "exactly one of"),
        (["--from-backup", "a", "--namespace-mappings", "shop"], "'shop' is not SOURCE:TARGET"),
        (["--from-backup", "a", "--namespace-mappings", "a:b,a:c"], "mapped twice"),
        (["--from-backup", "a", "--namespace-mappings", "Bad_NS:x"], "not a valid namespace name"),
        (["--from-backup", "a", "--existing-resource-policy", "overwrite"], "'overwrite' is not one of"),
        (["--from-backup", "a", "-l", "x=y", "--or-selector", "a=b"], "mutually exclusive"),
    ],
)
def test_restore_usage_errors(
    veloro: Veloro, kube: KubeClient, ns: str, args: list[str], message: str
) -> None:
    result = veloro("restore", "create", "r-bad", *args)
    assert result.code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not list(kube.list_items(RESTORES, ns))


def test_restore_wait_and_get(veloro: Veloro, kube: KubeClient, ns: str) -> None:
    def server(stop: threading.Event) -> None:
        if wait_for(kube, RESTORES, "r-wait", ns, stop):
            set_status(kube, RESTORES, "r-wait", ns, {"phase": "InProgress", "progress": {"totalItems": 2}})
            time.sleep(0.3)
            set_status(
                kube,
                RESTORES,
                "r-wait",
                ns,
                {"phase": "Completed", "progress": {"totalItems": 2, "itemsRestored": 2}},
            )

    with background(server):
        result = veloro("restore", "create", "r-wait", "--from-backup", "b", "--wait")
    assert result.code == 0, result.output
    assert "Restore r-wait finished with phase Completed (2/2 items" in result.stdout
    table = veloro("get", "restores")
    assert table.stdout.splitlines()[0].split()[:3] == ["NAME", "BACKUP", "STATUS"]
    assert "r-wait" in table.stdout and "Completed" in table.stdout
    gone = veloro("restore", "delete", "r-wait", "--confirm")
    assert gone.code == 0
    with pytest.raises(NotFound):
        kube.get(RESTORES, "r-wait", ns)


def test_schedule_create_pause_unpause(veloro: Veloro, kube: KubeClient, ns: str) -> None:
    result = veloro(
        "schedule",
        "create",
        "hourly",
        "--schedule",
        "@every 1h",
        "--include-namespaces",
        "shop",
        "--ttl",
        "48h",
        "--labels",
        "team=a",
    )
    assert result.code == 0, result.output
    obj = kube.get(SCHEDULES, "hourly", ns)
    assert obj["spec"] == {
        "template": {"metadata": {"labels": {"team": "a"}}, "includedNamespaces": ["shop"], "ttl": "48h"},
        "schedule": "@every 1h",
    }
    assert obj["metadata"]["labels"] == {"team": "a"}
    assert veloro("schedule", "pause", "hourly").code == 0
    assert kube.get(SCHEDULES, "hourly", ns)["spec"]["paused"] is True
    again = veloro("schedule", "pause", "hourly")
    assert "already paused" in again.stdout
    assert veloro("schedule", "unpause", "--all").code == 0
    assert kube.get(SCHEDULES, "hourly", ns)["spec"].get("paused", False) is False
    set_status(kube, SCHEDULES, "hourly", ns, {"phase": "Enabled"})
    table = veloro("schedule", "get")
    header, row = table.stdout.strip().splitlines()[:2]
    assert header.split()[:2] == ["NAME", "STATUS"] and row.split()[:2] == ["hourly", "Enabled"]
    described = veloro("schedule", "describe", "hourly")
    assert "Schedule:\t@every 1h" in described.stdout and "Included:\tshop" in described.stdout
    assert veloro("schedule", "delete", "hourly", "--confirm").code == 0
    with pytest.raises(NotFound):
        kube.get(SCHEDULES, "hourly", ns)


@pytest.mark.parametrize("expression", ["every hour", "61 * * * *", "* * * *", "0 0 * * * *", "@every soon"])
def test_schedule_bad_cron_is_a_usage_error(
    veloro: Veloro, kube: KubeClient, ns: str, expression: str
) -> None:
    result = veloro("schedule", "create", "bad", "--schedule", expression)
    assert result.code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1
    with pytest.raises(NotFound):
        kube.get(SCHEDULES, "bad", ns)


def test_schedule_create_output_and_macros(veloro: Veloro, kube: KubeClient, ns: str) -> None:
    printed = veloro("schedule", "create", "d", "--schedule", "@daily", "--paused", "-o", "yaml")
    obj = yaml.safe_load(printed.stdout)
    assert obj["kind"] == "Schedule" and obj["spec"]["schedule"] == "@daily" and obj["spec"]["paused"] is True
    with pytest.raises(NotFound):
        kube.get(SCHEDULES, "d", ns)
