"""Who posted an incident's story first and who carried it further (首发与扩散): a read model
over the incident's mentions, their reprint links (`responder.intake.reprints`), the authority
tier of their outlets, their places on hot lists and their engagement, for the incident page.

The first poster is the earliest mention. An amplifier is a later mention that took the story
further than a lone post does: a reprint (转载), or one from an outlet above a personal
account, one seen on a hot list, or one with reposts, comments or likes. The page shows the
amplifiers with the largest reach, in time order, so they read as a timeline.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from responder.incidents.hotlists import HotPlace, best_places
from responder.incidents.severity import authority_tier
from responder.incidents.spread import TIERS, UNKNOWN_TIER
from responder.incidents.triage import seen_at
from responder.models import Mention
from responder.settings import SeverityRules

AMPLIFIERS_SHOWN = 8
# Most reach first; a tier not known (no rules) counts below every known one.
_TIER_ORDER = {tier: n for n, tier in enumerate((*TIERS, UNKNOWN_TIER))}
_LONE_TIERS = ("personal_account", UNKNOWN_TIER)


@dataclass(frozen=True)
class Poster:
    """One mention in the chain, with what its reach is made of."""

    mention_id: int
    title: str
    outlet: str
    at: datetime
    tier: str
    engagement: int
    hot: HotPlace | None
    reprint_of: int | None  # the mention it reprints (转载), in this incident or not
    reprinted: int  # how many of the incident's mentions reprint it

    @property
    def amplifies(self) -> bool:
        return (
            self.reprint_of is not None
            or self.tier not in _LONE_TIERS
            or self.hot is not None
            or self.engagement > 0
            or self.reprinted > 0
        )

    def reach(self) -> tuple[int, int, int, int]:
        """Sorts the widest reach first: outlet authority, hot-list place, engagement,
        reprints of it."""
        return (
            _TIER_ORDER.get(self.tier, len(_TIER_ORDER)),
            self.hot.rank if self.hot else 10**9,
            -self.engagement,
            -self.reprinted,
        )


@dataclass(frozen=True)
class Chain:
    first: Poster | None
    amplifiers: list[Poster]  # the widest reach, AMPLIFIERS_SHOWN at most, in time order
    amplifier_count: int  # every mention that amplified, shown or not
    reprints: int  # the incident's mentions that are reprints

    @property
    def more(self) -> int:
        return self.amplifier_count - len(self.amplifiers)


def _outlet(mention: Mention) -> str:
    return mention.outlet or mention.author or (mention.source.name if mention.source else "")


def build(
    mentions: Sequence[Mention],
    rules: SeverityRules | None,
    places: Mapping[str, HotPlace],
    shown: int = AMPLIFIERS_SHOWN,
) -> Chain:
    """The chain of these mentions; `places` are their best hot-list places by canonical URL."""
    reprinted = Counter(m.reprint_of for m in mentions if m.reprint_of is not None)
    posters = sorted(
        (
            Poster(
                mention_id=m.id,
                title=m.title or m.text[:30],
                outlet=_outlet(m),
                at=seen_at(m),
                tier=authority_tier(m, rules) if rules is not None else UNKNOWN_TIER,
                engagement=m.engagement,
                hot=places.get(m.canonical_url),
                reprint_of=m.reprint_of,
                reprinted=reprinted[m.id],
            )
            for m in mentions
        ),
        key=lambda p: (p.at, p.mention_id),
    )
    if not posters:
        return Chain(None, [], 0, 0)
    first, later = posters[0], [p for p in posters[1:] if p.amplifies]
    widest = sorted(later, key=lambda p: (*p.reach(), p.at, p.mention_id))[:shown]
    return Chain(
        first=first,
        amplifiers=sorted(widest, key=lambda p: (p.at, p.mention_id)),
        amplifier_count=len(later),
        reprints=sum(reprinted.values()),
    )


def chain_of(session: Session, rules: SeverityRules | None, mentions: Sequence[Mention]) -> Chain:
    """The chain of an incident's mentions, with their hot-list places read from the database."""
    return build(mentions, rules, best_places(session, mentions))
