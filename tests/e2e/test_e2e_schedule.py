"""A schedule through the CLI produces backups named <schedule>-<timestamp>; with a short TTL, the
server's gc (every second in this session) deletes the expired ones from the cluster and the store."""

from __future__ import annotations

import re

from e2e_helpers import NS, Stack, wait_for


def _schedule_backups(stack: Stack, schedule: str) -> dict[str, str]:
    items = stack.kget("backups.veloro.io", "-n", NS, "-l", f"veloro.io/schedule-name={schedule}")["items"]
    return {i["metadata"]["name"]: (i.get("status") or {}).get("phase", "") for i in items}


def test_schedule_backups_expire_and_are_collected(fs: Stack) -> None:
    ns = "e2e-schedule"
    fs.kubectl("create", "namespace", ns)
    fs.kubectl("create", "configmap", "tick", "-n", ns, "--from-literal=k=v")
    fs.cli.run(
        "schedule", "create", "every2", "--schedule", "@every 2s", "--ttl", "3s", "--include-namespaces", ns,
    )  # fmt: skip
    try:

        def completed() -> list[str]:
            return sorted(n for n, p in _schedule_backups(fs, "every2").items() if p == "Completed")

        first = wait_for(completed, 15, f"a completed scheduled backup\n{fs.server.log()}")[0]
        # seen within its 3 s TTL, so gc cannot have collected it yet
        assert (fs.store / "backups" / first / "velero-backup.json").is_file()
        second = wait_for(lambda: [n for n in completed() if n != first], 15, "a second scheduled backup")[0]
        for name in (first, second):
            assert re.fullmatch(r"every2-\d{14}", name), name
        assert second > first

        table = fs.cli.run("schedule", "get").stdout
        assert "every2" in table and "@every 2s" in table

        # ttl 3s + gc every 1s: the first ones disappear from the cluster, then from the store too
        wait_for(lambda: first not in _schedule_backups(fs, "every2"), 20, f"{first} collected by gc")
        assert not (fs.store / "backups" / first).exists()
        requests = fs.kget("deletebackuprequests.veloro.io", "-n", NS, "-l", f"veloro.io/backup-name={first}")
        assert [r["status"]["phase"] for r in requests["items"]] == ["Processed"]
    finally:
        fs.cli.run("schedule", "delete", "every2", "--confirm")
    assert fs.veloro_obj("schedules", "every2") is None
