"""Severity levels IV–I from the rules in `severity.yaml`, with the rules that fired."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from responder.labels import label
from responder.models import Mention
from responder.settings import SeverityBand, SeverityRules

LEVELS = ("IV", "III", "II", "I")


def level_rank(level: str | None) -> int:
    return LEVELS.index(level) if level in LEVELS else -1


@dataclass(frozen=True)
class FiredRule:
    rule: str
    score: float
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "score": self.score, "detail": self.detail}


@dataclass(frozen=True)
class Assessment:
    level: str
    score: float
    fired: list[FiredRule]


def authority_tier(mention: Mention, rules: SeverityRules) -> str:
    who = f"{mention.outlet} {mention.author}"
    for tier in ("central_media", "provincial_media", "local_media", "verified_account"):
        if any(name in who for name in rules.outlet_tiers.get(tier, [])):
            return tier
    return "personal_account"


def _band(bands: list[SeverityBand], value: float) -> SeverityBand | None:
    reached = [b for b in bands if value >= b.min]
    return max(reached, key=lambda b: b.min) if reached else None


def assess(
    category: str, mentions: list[Mention], rules: SeverityRules, hot_rank: int | None = None
) -> Assessment:
    """`hot_rank`: the best place the mentions reached on a hot list, if they stood on one."""
    fired: list[FiredRule] = []
    weight = rules.category_weights.get(category, 0)
    if weight:
        fired.append(FiredRule("风险类别", weight, label("categories", category)))
    text = "\n".join(f"{m.title}\n{m.text}" for m in mentions)
    for term in rules.terms:
        hits = [w for w in term.words if w in text]
        if hits:
            fired.append(FiredRule(term.name, term.score, "、".join(hits)))
    if band := _band(rules.mention_count, len(mentions)):
        fired.append(FiredRule("传播量", band.score, f"{len(mentions)}条信息"))
    engagement = sum(m.engagement for m in mentions)
    if band := _band(rules.engagement, engagement):
        fired.append(FiredRule("互动量", band.score, f"转评赞合计{engagement}"))
    reached = [b for b in rules.hot_rank if hot_rank is not None and hot_rank <= b.max]
    if reached:
        place = min(reached, key=lambda b: b.max)
        fired.append(FiredRule("热榜排名", place.score, f"热榜第{hot_rank}位"))
    tiers = {authority_tier(m, rules) for m in mentions}
    if tiers and rules.authority:
        top = max(tiers, key=lambda t: rules.authority.get(t, 0))
        if rules.authority.get(top, 0):
            fired.append(FiredRule("信源权威度", rules.authority[top], label("authority", top)))
    judged = [m.judgement for m in mentions if m.judgement is not None]
    if rules.misinfo and any(j.misinfo for j in judged):
        fired.append(FiredRule("失实信息", rules.misinfo, "含失实或谣言证据"))
    if rules.negative_share and judged:
        share = sum(j.sentiment == "negative" for j in judged) / len(judged)
        if share >= rules.negative_share.min:
            fired.append(FiredRule("负面占比", rules.negative_share.score, f"{share:.0%}"))
    score = sum(f.score for f in fired)
    level = "IV"
    minimums: dict[str, float] = {str(k): v for k, v in rules.levels.items()}
    for candidate in LEVELS:
        if score >= minimums.get(candidate, float("inf")):
            level = candidate
    return Assessment(level=level, score=score, fired=fired)
