"""How far an incident has spread: pace, engagement, and the authority of who carries it.

A pure function of the incident's mentions, so the web page, the CLI and reports show the same
figures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import urlsplit

from responder.incidents.severity import authority_tier
from responder.incidents.triage import seen_at
from responder.labels import label
from responder.models import Mention
from responder.settings import SeverityRules

RECENT_HOURS = 6
# The spread chart shows hours up to this span, then days: a bar per hour of a month-long
# story is too thin to read or to tap.
HOURLY_SPAN = timedelta(hours=72)
UNKNOWN_TIER = "unknown"
# Most authoritative first, the order severity.authority_tier tries them in.
TIERS = ("central_media", "provincial_media", "local_media", "verified_account", "personal_account")


@dataclass(frozen=True)
class Spread:
    mentions: int
    first_seen: datetime | None
    last_seen: datetime | None
    # Over the incident's lifetime, counted as at least one hour so one mention is 1/h, not ∞.
    per_hour: float
    recent: int  # mentions in the RECENT_HOURS before `now`
    recent_per_hour: float
    peak_hour: datetime | None  # start of the busiest clock hour (UTC)
    peak_count: int
    # Sums over the mentions whose source reports engagement; None when none does.
    reposts: int | None
    comments: int | None
    likes: int | None
    with_engagement: int  # mentions that report any engagement
    outlets: int  # distinct outlets (else authors, else sites)
    tiers: dict[str, int] = field(default_factory=dict)  # authority tier → mentions, TIERS order
    recent_hours: int = RECENT_HOURS

    @property
    def tier_labels(self) -> list[tuple[str, int]]:
        return [(label("authority", tier), n) for tier, n in self.tiers.items()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "mentions": self.mentions,
            "first_seen": self.first_seen.isoformat() if self.first_seen else None,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "per_hour": round(self.per_hour, 2),
            "recent_hours": self.recent_hours,
            "recent": self.recent,
            "recent_per_hour": round(self.recent_per_hour, 2),
            "peak_hour": self.peak_hour.isoformat() if self.peak_hour else None,
            "peak_count": self.peak_count,
            "reposts": self.reposts,
            "comments": self.comments,
            "likes": self.likes,
            "with_engagement": self.with_engagement,
            "outlets": self.outlets,
            "tiers": dict(self.tiers),
        }


def _outlet(mention: Mention) -> str:
    return mention.outlet or mention.author or urlsplit(mention.url).netloc or mention.url


def spread(mentions: Iterable[Mention], rules: SeverityRules | None, now: datetime) -> Spread:
    """The spread figures of these mentions as of `now`; tiers are empty without `rules`."""
    mentions = list(mentions)
    times = sorted(seen_at(m) for m in mentions)
    first, last = (times[0], times[-1]) if times else (None, None)
    hours = max((last - first).total_seconds() / 3600, 1.0) if first and last else 1.0
    recent = sum(1 for t in times if now - timedelta(hours=RECENT_HOURS) < t <= now)
    by_hour = Counter(t.astimezone(UTC).replace(minute=0, second=0, microsecond=0) for t in times)
    # The earliest hour wins a tie: it is when the story first peaked.
    peak = min(by_hour.items(), key=lambda item: (-item[1], item[0])) if by_hour else None
    # Sources that do not report engagement store zeros; those zeros are unknown, not none.
    known = [m for m in mentions if m.reposts or m.comments or m.likes]
    tiers: Counter[str] = (
        Counter(authority_tier(m, rules) for m in mentions) if rules is not None else Counter()
    )
    return Spread(
        mentions=len(mentions),
        first_seen=first,
        last_seen=last,
        per_hour=len(mentions) / hours if mentions else 0.0,
        recent=recent,
        recent_per_hour=recent / RECENT_HOURS,
        peak_hour=peak[0] if peak else None,
        peak_count=peak[1] if peak else 0,
        reposts=sum(m.reposts for m in known) if known else None,
        comments=sum(m.comments for m in known) if known else None,
        likes=sum(m.likes for m in known) if known else None,
        with_engagement=len(known),
        outlets=len({_outlet(m) for m in mentions}),
        tiers={tier: tiers[tier] for tier in TIERS if tiers[tier]},
    )


@dataclass(frozen=True)
class Bar:
    """One bar of the spread chart: mentions in [start, end) by authority tier."""

    start: datetime  # office time
    end: datetime
    tiers: dict[str, int]  # tier → mentions, TIERS order (UNKNOWN_TIER without rules)

    @property
    def total(self) -> int:
        return sum(self.tiers.values())


def over_time(
    mentions: Iterable[Mention], rules: SeverityRules | None, tz: tzinfo
) -> tuple[str, list[Bar]]:
    """Mentions per office-time hour (per day past HOURLY_SPAN) from the first to the last,
    empty ones included so the gaps show, by authority tier; the step is "hour" or "day"."""
    seen = [(seen_at(m).astimezone(tz), m) for m in mentions]
    if not seen:
        return "hour", []
    first, last = min(t for t, _ in seen), max(t for t, _ in seen)
    if last - first <= HOURLY_SPAN:
        step, size = "hour", timedelta(hours=1)
        start = first.replace(minute=0, second=0, microsecond=0)
    else:
        step, size = "day", timedelta(days=1)
        start = first.replace(hour=0, minute=0, second=0, microsecond=0)
    count = int((last - start) / size) + 1
    buckets: list[Counter[str]] = [Counter() for _ in range(count)]
    for at, mention in seen:
        tier = authority_tier(mention, rules) if rules is not None else UNKNOWN_TIER
        buckets[int((at - start) / size)][tier] += 1
    order = (*TIERS, UNKNOWN_TIER)
    bars = [
        Bar(
            start=start + n * size,
            end=start + (n + 1) * size,
            tiers={tier: counts[tier] for tier in order if counts[tier]},
        )
        for n, counts in enumerate(buckets)
    ]
    return step, bars
