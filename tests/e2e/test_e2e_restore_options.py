"""Restore options through the CLI: --namespace-mappings and --existing-resource-policy update."""

from __future__ import annotations

import json

from e2e_helpers import Stack, app_snapshot, deploy_sample_app


def _identities(stack: Stack, namespace: str) -> dict[str, tuple[str, str]]:
    items = stack.kget("configmaps,secrets,services,deployments,widgets.example.com", "-n", namespace)[
        "items"
    ]
    return {
        f"{i['kind']}/{i['metadata']['name']}": (i["metadata"]["uid"], i["metadata"]["resourceVersion"])
        for i in items
    }


def test_restore_with_namespace_mappings(fs: Stack) -> None:
    src, dst = "e2e-map-src", "e2e-map-dst"
    deploy_sample_app(fs, src)
    fs.cli.run("backup", "create", "map-1", "--include-namespaces", src, "--wait")
    before = app_snapshot(fs, src)
    untouched = _identities(fs, src)

    fs.cli.run(
        "restore",
        "create",
        "map-1-r",
        "--from-backup",
        "map-1",
        "--namespace-mappings",
        f"{src}:{dst}",
        "--wait",
    )
    assert app_snapshot(fs, dst) == before
    assert fs.kget("namespace", dst)["metadata"]["labels"]["team"] == "quickstart"
    # the source namespace was not written to
    assert _identities(fs, src) == untouched
    described = fs.cli.run("restore", "describe", "map-1-r").stdout
    assert f"{src}:{dst}" in described


def test_restore_existing_resource_policy_update(fs: Stack) -> None:
    ns = "e2e-update"
    deploy_sample_app(fs, ns)
    fs.cli.run("backup", "create", "upd-1", "--include-namespaces", ns, "--wait")
    original = fs.kget("configmap", "web-config", "-n", ns)["data"]
    fs.kubectl(
        "patch", "configmap", "web-config", "-n", ns, "--type=merge",
        "-p", json.dumps({"data": {"greeting": "changed after the backup"}}),
    )  # fmt: skip
    assert fs.kget("configmap", "web-config", "-n", ns)["data"]["greeting"] == "changed after the backup"

    # without the policy an existing, different object is left alone (a warning)
    fs.cli.run("restore", "create", "upd-1-none", "--from-backup", "upd-1", "--wait")
    assert fs.kget("configmap", "web-config", "-n", ns)["data"]["greeting"] == "changed after the backup"

    fs.cli.run(
        "restore", "create", "upd-1-update", "--from-backup", "upd-1", "--existing-resource-policy", "update",
        "--wait",
    )  # fmt: skip
    assert fs.kget("configmap", "web-config", "-n", ns)["data"] == original
    details = fs.cli.run("restore", "describe", "upd-1-update", "--details").stdout
    assert "Existing Resource Policy:\tupdate" in details
    assert f"{ns}/web-config(updated)" in details, details
