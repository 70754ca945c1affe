"""The one clock: every "what time is it" in yuqing (office today, look-back windows, report
periods, duty days, link and session expiry, retention) asks here.

In process, tests move time with time-machine, which this clock follows because it reads
`datetime.now`. A process started by the suite (a crawl, the CLI, the demo) cannot share that
patch, so it is handed the difference between the pinned and the real clock in
`YUQING_CLOCK_OFFSET` (seconds) and its entry point calls `follow_environment()` once. Only
entry points do: a test that runs a command in process already has its time moved, and
applying the offset again would move it twice. An office can use the same variable for a drill.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo

OFFSET_ENV = "YUQING_CLOCK_OFFSET"

_shift = timedelta(0)


def now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC) + _shift


def today(tz: tzinfo) -> date:
    """The calendar day at `tz` (the office's day, not the server's)."""
    return now().astimezone(tz).date()


def timestamp() -> float:
    """Seconds since the epoch, for libraries that sign or expire by a number."""
    return now().timestamp()


def follow_environment(env: Mapping[str, str] | None = None) -> None:
    """Shift this process's clock by `YUQING_CLOCK_OFFSET` seconds, if set."""
    global _shift
    raw = (os.environ if env is None else env).get(OFFSET_ENV, "").strip()
    if not raw:
        _shift = timedelta(0)
        return
    try:
        _shift = timedelta(seconds=float(raw))
    except (ValueError, OverflowError):
        raise ValueError(
            f"environment variable {OFFSET_ENV}: {raw!r} is not a number of seconds"
        ) from None
