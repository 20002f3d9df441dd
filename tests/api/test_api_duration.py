"""Go-style durations: parsing and formatting agree with Go's time package."""

from __future__ import annotations

from datetime import timedelta

import pytest

from veloro_core.api import Duration, DurationError, format_duration, parse_duration
from veloro_core.api.duration import HOUR, MICROSECOND, MILLISECOND, MINUTE, SECOND


@pytest.mark.parametrize(
    ("text", "nanoseconds"),
    [
        ("720h", 720 * HOUR),
        ("1h30m", HOUR + 30 * MINUTE),
        ("10m0s", 10 * MINUTE),
        ("2s", 2 * SECOND),
        ("1.5s", 1500 * MILLISECOND),
        (".5s", 500 * MILLISECOND),
        ("1.s", SECOND),
        ("300ms", 300 * MILLISECOND),
        ("2us", 2 * MICROSECOND),
        ("2\u00b5s", 2 * MICROSECOND),
        ("2\u03bcs", 2 * MICROSECOND),
        ("7ns", 7),
        ("0", 0),
        ("-1m30s", -90 * SECOND),
        ("+5s", 5 * SECOND),
        ("1h0.5m", HOUR + 30 * SECOND),
        ("0.000000001s", 1),
    ],
)
def test_parse_matches_go(text: str, nanoseconds: int) -> None:
    assert Duration.parse(text).nanoseconds == nanoseconds


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("5", "missing unit"),
        ("5x", "unknown unit 'x'"),
        ("1d", "unknown unit 'd'"),
        ("h", "expected a number"),
        (".s", "expected a number"),
        ("1h-5m", "unknown unit"),
        ("99999999999h", "too large"),
    ],
)
def test_parse_rejects_with_a_hint(text: str, fragment: str) -> None:
    with pytest.raises(DurationError) as caught:
        Duration.parse(text)
    assert fragment in str(caught.value)
    if fragment != "too large":
        assert "720h" in str(caught.value)  # the message shows how to write one


@pytest.mark.parametrize(
    ("nanoseconds", "go_string"),
    [
        (0, "0s"),
        (1, "1ns"),
        (1100, "1.1\u00b5s"),
        (2200 * MICROSECOND, "2.2ms"),
        (1500 * MILLISECOND, "1.5s"),
        (61 * SECOND, "1m1s"),
        (10 * MINUTE, "10m0s"),
        (720 * HOUR, "720h0m0s"),
        (2 * HOUR + 45 * MINUTE + 500 * MILLISECOND, "2h45m0.5s"),
        (-90 * SECOND, "-1m30s"),
        (HOUR + 1, "1h0m0.000000001s"),
    ],
)
def test_format_matches_go(nanoseconds: int, go_string: str) -> None:
    assert Duration(nanoseconds).canonical() == go_string
    assert Duration.parse(go_string).nanoseconds == nanoseconds


def test_spelling_is_kept_but_equality_is_by_value() -> None:
    short = Duration.parse("720h")
    assert str(short) == "720h"
    assert str(Duration(short.nanoseconds)) == "720h0m0s"
    assert short == Duration.parse("720h0m0s") == Duration.of(hours=720)
    assert hash(short) == hash(Duration.parse("43200m"))
    assert Duration.parse("1m") < Duration.parse("61s")


def test_timedelta_conversions() -> None:
    assert parse_duration("1h30m") == timedelta(hours=1, minutes=30)
    assert format_duration(timedelta(minutes=10)) == "10m0s"
    assert Duration.from_timedelta(timedelta(days=1, microseconds=5)).canonical() == "24h0m0.000005s"
    assert Duration.parse("1.5s").seconds == 1.5
