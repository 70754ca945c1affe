"""Engagement counts as sites and exports write them: 123, "1,234", "1.2万", "3.5w", "10万+",
"3亿"; a dash or 无 means none. Shared by the Weibo spider and `yuqing import`."""

from __future__ import annotations

import math
import re
from typing import Any

_BLANK = {"", "-", "--", "—", "——", "/", "无"}
_COUNT = re.compile(r"(\d+(?:\.\d+)?)\s*(万|w|亿|千|k)?\+?", re.IGNORECASE)
_MULTIPLIERS = {"万": 10_000, "w": 10_000, "亿": 100_000_000, "千": 1000, "k": 1000}


def parse_count(value: Any) -> int:
    """The count; "N万+" is its lower bound. Raises ValueError naming the value when it is not
    a count or is negative."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise ValueError(f"not a count: {value!r}")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip().replace(",", "").replace("，", "")
        if text in _BLANK:
            return 0
        if text.startswith("-"):
            raise ValueError(f"negative count {value!r}")
        match = _COUNT.fullmatch(text)
        if match is None:
            raise ValueError(f"not a count: {value!r}")
        number = float(match[1]) * _MULTIPLIERS.get((match[2] or "").lower(), 1)
    if not math.isfinite(number):
        raise ValueError(f"not a count: {value!r}")
    if number < 0:
        raise ValueError(f"negative count {value!r}")
    return round(number)
