"""Publication times as Chinese sites write them, read in the office's time zone.

dateparser handles neither "昨天 12:30" nor "01-02" reliably for Chinese pages, and the rules
are few, so they are written out here.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from responder import clock

_FULL = re.compile(
    r"(?P<y>\d{4})\s*[年/.-]\s*(?P<m>\d{1,2})\s*[月/.-]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*(?P<H>\d{1,2})[:：时](?P<M>\d{2})(?:[:：分](?P<S>\d{2}))?)?"
)
# Weibo writes a post from an earlier year as "24-5-13 17:07": two-digit year, month, day.
_TWO_DIGIT_YEAR = re.compile(
    r"(?<![\d.:/-])(?P<y>\d{2})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?![\d:/-])"
    r"(?:\s*(?P<H>\d{1,2})[:：](?P<M>\d{2}))?"
)
_SHORT = re.compile(
    r"(?<!\d)(?P<m>\d{1,2})\s*[月/-]\s*(?P<d>\d{1,2})\s*日?(?!\d)"
    r"(?:\s*(?P<H>\d{1,2})[:：](?P<M>\d{2}))?"
)
_RELATIVE = re.compile(r"(?P<n>\d+)\s*(?P<unit>秒|分钟|分鐘|小时|小時|天|周|週)前")
_DAY_WORD = re.compile(r"(?P<word>今天|昨天|前天)\s*(?:(?P<H>\d{1,2})[:：](?P<M>\d{2}))?")
_UNITS = {
    "秒": "seconds",
    "分钟": "minutes",
    "分鐘": "minutes",
    "小时": "hours",
    "小時": "hours",
    "天": "days",
    "周": "weeks",
    "週": "weeks",
}
_DAYS_BACK = {"今天": 0, "昨天": 1, "前天": 2}


def parse_time(text: str, tz: ZoneInfo, now: datetime | None = None) -> datetime | None:
    """The first time found in `text`, as an aware datetime; None when there is none."""
    if not text:
        return None
    now = (now or clock.now()).astimezone(tz)
    text = text.strip()
    iso = _iso(text, tz)
    if iso is not None:
        return iso
    if "刚刚" in text or "剛剛" in text:
        return now
    if m := _RELATIVE.search(text):
        try:
            return now - timedelta(**{_UNITS[m.group("unit")]: int(m.group("n"))})
        except (OverflowError, ValueError):
            return None  # "99999999999天前" is before any date there is
    if m := _DAY_WORD.search(text):
        day = now - timedelta(days=_DAYS_BACK[m.group("word")])
        hour, minute = int(m.group("H") or 0), int(m.group("M") or 0)
        return _at(day.year, day.month, day.day, hour, minute, 0, tz)
    if m := _FULL.search(text):
        return _at(
            int(m["y"]),
            int(m["m"]),
            int(m["d"]),
            int(m["H"] or 0),
            int(m["M"] or 0),
            int(m["S"] or 0),
            tz,
        )
    if m := _TWO_DIGIT_YEAR.search(text):
        found = _at(
            2000 + int(m["y"]), int(m["m"]), int(m["d"]), int(m["H"] or 0), int(m["M"] or 0), 0, tz
        )
        # Not a date of this century's past (a phone number's digits, say): read on.
        if found is not None and found <= now + timedelta(days=1):
            return found
    if m := _SHORT.search(text):
        found = _at(now.year, int(m["m"]), int(m["d"]), int(m["H"] or 0), int(m["M"] or 0), 0, tz)
        if found is not None and found > now + timedelta(days=1):
            # "12-30" read in January is last year's December.
            found = _at(
                now.year - 1, int(m["m"]), int(m["d"]), int(m["H"] or 0), int(m["M"] or 0), 0, tz
            )
        return found
    return None


def _iso(text: str, tz: ZoneInfo) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def _at(y: int, mo: int, d: int, h: int, mi: int, s: int, tz: ZoneInfo) -> datetime | None:
    try:
        return datetime(y, mo, d, h, mi, s, tzinfo=tz)
    except ValueError:
        return None
