"""Go-style durations ("720h", "1h30m", "10m0s", "1.5s", "300ms") as used by metav1.Duration.

Velero's specs carry durations as Go duration strings; we parse them exactly (integer nanoseconds, like
Go's time.Duration) so that a value read from a Velero object means the same thing here. The spelling a
user wrote is kept next to the value so that an object round-trips unchanged ("720h" stays "720h").
`@every <duration>` schedules are the schedule controller's business, not this module's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Self

NANOSECOND = 1
MICROSECOND = 1_000
MILLISECOND = 1_000_000
SECOND = 1_000_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

# Go accepts both micro signs (U+00B5 and U+03BC) for microseconds.
_UNITS = {
    "ns": NANOSECOND,
    "us": MICROSECOND,
    "\u00b5s": MICROSECOND,
    "\u03bcs": MICROSECOND,
    "ms": MILLISECOND,
    "s": SECOND,
    "m": MINUTE,
    "h": HOUR,
}
_INT64_MAX = 2**63 - 1
_PART = re.compile(r"([0-9]*)(?:\.([0-9]*))?([^0-9.]*)")
_HINT = "use a number with a unit h, m, s, ms, us or ns, e.g. 720h, 1h30m or 10m0s"


class DurationError(ValueError):
    """A string that is not a Go duration; the message says what is wrong and how to write one."""


def parse_duration_ns(text: str) -> int:
    """Parse a Go duration string into integer nanoseconds, exactly as Go's time.ParseDuration does."""
    if not isinstance(text, str):
        raise DurationError(f"invalid duration {text!r}: expected a string ({_HINT})")
    rest = text
    sign = 1
    if rest[:1] in ("+", "-"):
        sign = -1 if rest[0] == "-" else 1
        rest = rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise DurationError(f"invalid duration {text!r}: empty ({_HINT})")
    total = 0
    pos = 0
    while pos < len(rest):
        match = _PART.match(rest, pos)
        assert match is not None  # every group is optional, so the pattern always matches
        whole, frac, unit = match.group(1), match.group(2), match.group(3)
        if not whole and not frac:
            raise DurationError(f"invalid duration {text!r}: expected a number at {rest[pos:]!r} ({_HINT})")
        if not unit:
            raise DurationError(f"invalid duration {text!r}: missing unit after {rest[pos:]!r} ({_HINT})")
        scale = _UNITS.get(unit)
        if scale is None:
            raise DurationError(f"invalid duration {text!r}: unknown unit {unit!r} ({_HINT})")
        total += int(whole or "0") * scale
        if frac:
            total += int(frac) * scale // (10 ** len(frac))
        if total > _INT64_MAX:
            raise DurationError(f"invalid duration {text!r}: too large (at most about 2562047h)")
        pos = match.end()
    return sign * total


def _fraction(value: int, scale: int) -> str:
    """value/scale as a decimal without trailing zeros, like Go's fmtFrac/fmtInt pair."""
    whole, rem = divmod(value, scale)
    if rem == 0:
        return str(whole)
    digits = len(str(scale)) - 1
    return f"{whole}.{str(rem).rjust(digits, '0').rstrip('0')}"


def format_duration_ns(nanoseconds: int) -> str:
    """Format nanoseconds the way Go's Duration.String does: "720h0m0s", "10m0s", "1.5s", "300ms"."""
    if nanoseconds == 0:
        return "0s"
    sign = "-" if nanoseconds < 0 else ""
    value = abs(nanoseconds)
    if value < SECOND:
        for unit, scale in (("ms", MILLISECOND), ("\u00b5s", MICROSECOND), ("ns", NANOSECOND)):
            if value >= scale:
                return f"{sign}{_fraction(value, scale)}{unit}"
    hours, rem = divmod(value, HOUR)
    minutes, rem = divmod(rem, MINUTE)
    out = f"{_fraction(rem, SECOND)}s"
    if hours or minutes:
        out = f"{minutes}m{out}"
    if hours:
        out = f"{hours}h{out}"
    return sign + out


@dataclass(frozen=True, order=True)
class Duration:
    """A Go duration: exact nanoseconds plus the spelling it was read from (ignored by ==)."""

    nanoseconds: int
    text: str | None = field(default=None, compare=False)

    @classmethod
    def parse(cls, text: str) -> Self:
        """Parse "720h", "1h30m", "10m0s"...; raises DurationError with a hint on bad input."""
        return cls(parse_duration_ns(text), text)

    @classmethod
    def of(cls, *, hours: int = 0, minutes: int = 0, seconds: float = 0) -> Self:
        return cls(hours * HOUR + minutes * MINUTE + round(seconds * SECOND))

    @classmethod
    def from_timedelta(cls, delta: timedelta) -> Self:
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return cls(micros * MICROSECOND)

    @property
    def timedelta(self) -> timedelta:
        return timedelta(microseconds=self.nanoseconds // MICROSECOND)

    @property
    def seconds(self) -> float:
        return self.nanoseconds / SECOND

    def canonical(self) -> str:
        """Go's own spelling of the value ("720h0m0s"), whatever spelling it was read from."""
        return format_duration_ns(self.nanoseconds)

    def __str__(self) -> str:
        return self.text if self.text is not None else self.canonical()


def parse_duration(text: str) -> timedelta:
    """Convenience: a Go duration string as a timedelta (microsecond precision)."""
    return Duration.parse(text).timedelta


def format_duration(delta: timedelta) -> str:
    """Convenience: a timedelta in Go's spelling ("1h30m0s")."""
    return Duration.from_timedelta(delta).canonical()
