"""Token bucket and backoff math (unit), plus the bucket holding a real client to its QPS."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from kube_helpers import CONFIGMAPS

from kubesim.testing import KubeSimProcess
from veloro_core.kube import KubeClient, KubeSettings
from veloro_core.kube.ratelimit import Backoff, TokenBucket, parse_retry_after


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_burst_then_qps() -> None:
    clock = FakeClock()
    bucket = TokenBucket(qps=10, burst=3, clock=clock, sleep=clock.sleep)
    assert [bucket.acquire() for _ in range(3)] == [0, 0, 0]  # the burst is free
    assert abs(bucket.acquire() - 0.1) < 1e-9  # then one token per 1/qps
    assert abs(bucket.acquire() - 0.1) < 1e-9
    clock.now += 10  # idle time refills up to burst, not beyond
    assert [bucket.acquire() for _ in range(3)] == [0, 0, 0]
    assert bucket.acquire() > 0


def test_reservations_queue_up_without_sleeping_under_the_lock() -> None:
    clock = FakeClock()
    bucket = TokenBucket(qps=4, burst=1, clock=clock, sleep=clock.sleep)
    waits = [bucket.reserve() for _ in range(5)]
    assert waits == [0.0, 0.25, 0.5, 0.75, 1.0]  # each reservation waits behind the previous ones


def test_unlimited_when_qps_is_zero() -> None:
    bucket = TokenBucket(qps=0, burst=1)
    assert all(bucket.acquire() == 0 for _ in range(1000))


def test_bucket_rate_across_threads() -> None:
    bucket = TokenBucket(qps=200, burst=1)
    start = time.monotonic()
    threads = [threading.Thread(target=lambda: [bucket.acquire() for _ in range(20)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    assert elapsed >= 79 / 200 * 0.95  # 80 tokens, 1 from the burst, the rest at 200/s


def test_backoff_grows_with_jitter_and_cap() -> None:
    backoff = Backoff(base=0.1, cap=1.0, rng=random.Random(7))
    for attempt, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (9, 1.0)]:
        for _ in range(20):
            d = backoff.delay(attempt)
            assert ceiling / 2 <= d <= ceiling
    assert backoff.delay(1, retry_after=3.0) == 3.0
    assert Backoff(retry_after_max=5).delay(1, retry_after=3600) == 5


def test_parse_retry_after() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    value = parse_retry_after(later)
    assert value is not None and 25 <= value <= 31


def test_client_respects_qps_over_http(kubesim: KubeSimProcess) -> None:
    with KubeClient.from_kubeconfig(kubesim.kubeconfig, settings=KubeSettings(qps=20, burst=5)) as client:
        start = time.monotonic()
        for _ in range(15):
            list(client.list_items(CONFIGMAPS, "default"))
        elapsed = time.monotonic() - start
    assert elapsed >= 10 / 20 * 0.9  # 5 from the burst, 10 at 20 qps
