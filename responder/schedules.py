"""Source schedules as an office writes them: a cron expression or an interval."""

from __future__ import annotations

import re
from datetime import tzinfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

_INTERVAL = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_schedule(text: str, tz: tzinfo) -> BaseTrigger:
    """`"30m"`, `"2h"`, `"1d"` (every so long) or a five-field cron line (`"*/20 7-22 * * *"`).

    Raises ValueError naming the accepted forms.
    """
    if m := _INTERVAL.match(text):
        amount = int(m.group(1))
        if amount <= 0:
            raise ValueError(f"schedule {text!r}: the interval must be positive")
        return IntervalTrigger(timezone=tz, **{_UNITS[m.group(2).lower()]: amount})
    if len(text.split()) == 5:
        try:
            return CronTrigger.from_crontab(text, timezone=tz)
        except ValueError as exc:
            raise ValueError(f"schedule {text!r}: not a valid cron line: {exc}") from None
    raise ValueError(
        f"schedule {text!r}: write an interval such as '30m', '2h', '1d' "
        "or a five-field cron line such as '*/20 7-22 * * *'"
    )
