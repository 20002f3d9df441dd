"""Pieces of the controllers on their own: schedule parsing, the work queue, the plugin config gate,
label values and status messages."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from veloro_core.controllers.base import one_line
from veloro_core.controllers.labels import label_value
from veloro_core.controllers.queue import WorkQueue
from veloro_core.controllers.schedule import ScheduleError, parse_schedule
from veloro_core.server.download import DownloadTokens
from veloro_core.server.settings import parse_address
from veloro_core.server.stores import ConfigGate, StoreBusy

MOMENT = datetime(2024, 5, 1, 10, 30, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("@every 2s", datetime(2024, 5, 1, 10, 30, 17, tzinfo=UTC)),
        ("@every 1h30m", datetime(2024, 5, 1, 12, 0, 15, tzinfo=UTC)),
        ("@daily", datetime(2024, 5, 2, 0, 0, tzinfo=UTC)),
        ("@hourly", datetime(2024, 5, 1, 11, 0, tzinfo=UTC)),
        ("0 1 * * *", datetime(2024, 5, 2, 1, 0, tzinfo=UTC)),
        ("*/15 * * * *", datetime(2024, 5, 1, 10, 45, tzinfo=UTC)),
    ],
)
def test_schedule_next_run(expression: str, expected: datetime) -> None:
    assert parse_schedule(expression)(MOMENT) == expected


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("0 0 * * * *", "5 fields"),
        ("* * *", "5 fields"),
        ("61 * * * *", "not a valid cron"),
        ("@every", "5 fields"),
        ("@every soon", "invalid duration"),
        ("@every 0s", "positive"),
        ("@sometimes", "not a valid cron"),
    ],
)
def test_bad_schedules_say_what_is_wrong(expression: str, fragment: str) -> None:
    with pytest.raises(ScheduleError, match=fragment):
        parse_schedule(expression)


def test_work_queue_never_runs_a_key_twice_at_once_and_reruns_a_dirty_key() -> None:
    running: set[str] = set()
    overlaps: list[str] = []
    calls: list[str] = []
    gate = threading.Event()

    def handle(key: str) -> None:
        if key in running:
            overlaps.append(key)
        running.add(key)
        calls.append(key)
        if len(calls) == 1:
            gate.wait(2)
        running.discard(key)

    queue = WorkQueue("test", handle, workers=3)
    queue.start()
    queue.add("a")
    time.sleep(0.1)
    queue.add("a")  # while "a" runs: once more afterwards
    queue.add("a")  # de-duplicated with the previous add
    gate.set()
    deadline = time.monotonic() + 5
    while len(calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    assert calls == ["a", "a"]
    assert overlaps == []
    queue.stop()
    assert queue.wait_idle(1)


def test_work_queue_retries_a_failing_key_later_and_add_after_delays() -> None:
    seen: list[float] = []
    start = time.monotonic()

    def handle(key: str) -> None:
        seen.append(time.monotonic() - start)

    queue = WorkQueue("delayed", handle)
    queue.start()
    queue.add_after("x", 0.3)
    deadline = time.monotonic() + 3
    while not seen and time.monotonic() < deadline:
        time.sleep(0.02)
    assert seen and seen[0] >= 0.29
    queue.stop()


def test_config_gate_shares_one_config_and_makes_another_wait() -> None:
    inits: list[dict[str, str]] = []
    gate = ConfigGate(inits.append)
    a, b = {"root": "/a"}, {"root": "/b"}
    with gate.hold(a), gate.hold(a):
        assert inits == [a]  # same config: shared, one Init
        with pytest.raises(StoreBusy), gate.hold(b, timeout=0.1):
            pass
    with gate.hold(b):
        assert inits == [a, b]
    with gate.hold(b, reinit=True):
        assert inits == [a, b, b]


def test_download_tokens_expire_and_are_unguessable() -> None:
    tokens = DownloadTokens()
    live = tokens.grant("default", "backups/x/x.tar.gz", 60)
    dead = tokens.grant("default", "backups/y/y.tar.gz", 0.05)
    assert len(live) >= 40 and live != dead
    time.sleep(0.1)
    grant = tokens.lookup(live)
    assert grant is not None and grant.key == "backups/x/x.tar.gz"
    assert tokens.lookup(dead) is None
    assert tokens.lookup("guess") is None


def test_label_values_and_messages() -> None:
    assert label_value("short") == "short"
    long = "x" * 80
    assert len(label_value(long)) == 63 and label_value(long) != label_value(long + "y")
    text = "Init failed: boom (at a.py:1 f)\nremote stack (innermost first):\n  a.py:1 f; check the bucket"
    assert one_line(text) == "Init failed: boom (at a.py:1 f); check the bucket"
    assert one_line("plain") == "plain"
    assert parse_address(":8085") == ("", 8085)
    assert parse_address("127.0.0.1:0") == ("127.0.0.1", 0)
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_address("8085")
