"""Bad input through the CLI: usage errors (exit 2, one line), FailedValidation shown by --wait."""

from __future__ import annotations

import pytest
from e2e_helpers import Stack


@pytest.mark.parametrize(
    "args",
    [
        ["backup", "create"],
        ["backup", "get", "-o", "xml"],
        ["backup", "create", "b", "--ttl", "3"],
        ["backup", "create", "b", "--include-resources", "a", "--include-cluster-scoped-resources", "b"],
        ["restore", "create", "r", "--from-backup", "b", "--namespace-mappings", "nocolon"],
        ["restore", "create", "r", "--from-backup", "b", "--existing-resource-policy", "sometimes"],
        ["schedule", "create", "s", "--schedule", "61 * * * *"],
        ["no-such-command"],
    ],
)
def test_usage_errors_exit_2_with_one_line(fs: Stack, args: list[str]) -> None:
    result = fs.cli.run(*args, code=2)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert result.stdout == ""


def test_backup_to_an_unknown_location_fails_validation(fs: Stack) -> None:
    result = fs.cli.run(
        "backup", "create", "bad-loc", "--include-namespaces", "default",
        "--storage-location", "nowhere", "--wait", code=1,
    )  # fmt: skip
    shown = result.stdout + result.stderr
    assert "FailedValidation" in shown
    assert "nowhere" in shown, shown
    obj = fs.veloro_obj("backups", "bad-loc")
    assert obj is not None and obj["status"]["phase"] == "FailedValidation"
    assert any("nowhere" in e for e in obj["status"]["validationErrors"])


def test_restore_from_a_missing_backup_fails_validation(fs: Stack) -> None:
    result = fs.cli.run("restore", "create", "bad-r", "--from-backup", "no-such-backup", "--wait", code=1)
    shown = result.stdout + result.stderr
    assert "FailedValidation" in shown and "no-such-backup" in shown, shown
