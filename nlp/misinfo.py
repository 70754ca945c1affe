"""Misinformation evidence: figures that contradict the bulletin, paraphrases of debunked
rumours, and rumour-style wording. Each finding is a `MisinfoReason` a press officer can check.

Claim extraction is our own: no library reads Chinese statistical claims ("GDP增长12%",
"常住人口52.3万人") with their units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nlp.types import Debunk, Fact, MisinfoReason

_NUMBER = re.compile(
    r"(?P<num>-?\d+(?:,\d{3})*(?:\.\d+)?)\s*(?P<unit>个百分点|%|万亿元|万亿|亿元|亿|万元|万人|万|千人|元|人)?"
)
_YEAR = re.compile(r"(20\d\d)\s*年")
_SENTENCE = re.compile(r"[^。！？!?；;\n]+")
# How far after an indicator name its value may stand ("GDP同比增长12%" → 6 chars).
CLAIM_WINDOW = 14
_SCALE = {
    "万亿元": 1e12,
    "万亿": 1e12,
    "亿元": 1e8,
    "亿": 1e8,
    "万元": 1e4,
    "万人": 1e4,
    "万": 1e4,
    "千人": 1e3,
}
_PERCENT_UNITS = {"%", "个百分点"}

RUMOR_CUES = (
    "网传",
    "听说",
    "据说",
    "据知情人士",
    "知情人士透露",
    "转疯了",
    "疯传",
    "紧急扩散",
    "速转",
    "扩散",
    "内部消息",
    "小道消息",
    "朋友圈都在传",
    "群里都在传",
    "不转不是",
    "千真万确",
    "刚刚得到消息",
    "据传",
    "有人爆料",
    "未经证实",
)
STRONG_RUMOR_CUES = 3


@dataclass(frozen=True)
class Claim:
    indicator: str
    value: float
    unit: str
    text: str


def _base_value(value: float, unit: str) -> float:
    return value * _SCALE.get(unit, 1.0)


def _is_percent(unit: str) -> bool:
    return unit in _PERCENT_UNITS


def _region_forms(region: str) -> list[str]:
    short = re.sub(r"(省|市|县|区|自治州|自治县)$", "", region)
    return [region, short] if short and short != region else [region]


def extract_claims(text: str, fact: Fact) -> list[Claim]:
    """Numbers stated right after one of the fact's names, in a sentence about its region."""
    claims: list[Claim] = []
    for sentence in _SENTENCE.findall(text):
        if not any(form in sentence for form in _region_forms(fact.region)):
            continue
        years = _YEAR.findall(sentence)
        if years and not any(y in fact.period for y in years):
            continue
        for name in sorted(fact.names, key=len, reverse=True):
            start = sentence.find(name)
            if start == -1:
                continue
            window = sentence[start + len(name) : start + len(name) + CLAIM_WINDOW]
            match = _NUMBER.search(window)
            if match:
                number = float(match.group("num").replace(",", ""))
                claims.append(Claim(name, number, match.group("unit") or "", sentence.strip()))
            break
    return claims


def contradicts(claim: Claim, fact: Fact) -> bool:
    """True when the claimed value differs from the official one beyond rounding."""
    if _is_percent(fact.unit) != _is_percent(claim.unit):
        return False
    if _is_percent(fact.unit):
        return abs(claim.value - fact.value) > 0.15
    official = _base_value(fact.value, fact.unit)
    stated = _base_value(claim.value, claim.unit or fact.unit)
    if official == 0:
        return stated != 0
    return abs(stated - official) / abs(official) > 0.03


def fact_reasons(text: str, facts: list[Fact]) -> list[MisinfoReason]:
    reasons = []
    for fact in facts:
        for claim in extract_claims(text, fact):
            if contradicts(claim, fact):
                reasons.append(
                    MisinfoReason(
                        kind="contradicts_fact",
                        detail=(
                            f"文中称{fact.region}{fact.period}{fact.indicator}为"
                            f"{claim.value:g}{claim.unit}，官方数据为{fact.value:g}{fact.unit}"
                        ),
                        evidence=f"{fact.source}：{claim.text}",
                    )
                )
    return reasons


def _bigrams(text: str) -> set[str]:
    chars = re.sub(r"[^\w]", "", text)
    return {chars[i : i + 2] for i in range(len(chars) - 1)}


def debunk_similarity(text: str, claim: str) -> float:
    """Best Dice overlap of character bigrams between the claim and any 1–2 sentence window."""
    claim_grams = _bigrams(claim)
    sentences = _SENTENCE.findall(text) or [text]
    windows = sentences + [a + b for a, b in zip(sentences, sentences[1:], strict=False)]
    best = 0.0
    for window in windows:
        grams = _bigrams(window)
        if grams and claim_grams:
            best = max(best, 2 * len(grams & claim_grams) / (len(grams) + len(claim_grams)))
    return best


DEBUNK_THRESHOLD = 0.42


def debunk_reasons(text: str, debunks: list[Debunk]) -> list[MisinfoReason]:
    reasons = []
    for debunk in debunks:
        score = debunk_similarity(text, debunk.claim)
        if score >= DEBUNK_THRESHOLD:
            reasons.append(
                MisinfoReason(
                    kind="matches_debunk",
                    detail=f"与已辟谣信息相似（相似度{score:.2f}）：{debunk.claim}",
                    evidence=f"{debunk.source}：{debunk.rebuttal}",
                )
            )
    return reasons


def rumor_cue_reason(text: str) -> MisinfoReason | None:
    found = [c for c in RUMOR_CUES if c in text]
    # "紧急扩散" also contains "扩散": a cue inside a longer one found is not counted again.
    cues = [c for c in found if not any(c != longer and c in longer for longer in found)]
    if not cues:
        return None
    strength = "较强" if len(cues) >= STRONG_RUMOR_CUES else "疑似"
    return MisinfoReason(
        kind="rumor_cues", detail=f"{strength}：含未经证实的传言用语", evidence="、".join(cues)
    )


def assess(text: str, facts: list[Fact], debunks: list[Debunk]) -> tuple[bool, list[MisinfoReason]]:
    """`misinfo` is true only on a contradicted fact, a debunk match or strong rumour cues."""
    reasons = fact_reasons(text, facts) + debunk_reasons(text, debunks)
    cue = rumor_cue_reason(text)
    strong_cues = cue is not None and len(cue.evidence.split("、")) >= STRONG_RUMOR_CUES
    if cue is not None:
        reasons.append(cue)
    return bool(reasons and (strong_cues or any(r.kind != "rumor_cues" for r in reasons))), reasons
