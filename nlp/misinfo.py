"""Misinformation evidence: figures that contradict the bulletin, paraphrases of debunked
rumours, and rumour-style wording. Each finding is a `MisinfoReason` a press officer can check.

Claim extraction is our own: no library reads Chinese statistical claims ("GDP增长12%",
"常住人口52.3万人") with their units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from nlp.claims import SENTENCE, claims_about, questioned, refutes
from nlp.types import Debunk, Fact, MisinfoReason, ModelError

if TYPE_CHECKING:
    from nlp.linear import LinearBackend


def fact_reasons(text: str, facts: list[Fact]) -> list[MisinfoReason]:
    reasons = []
    for fact in facts:
        for claim in claims_about(text, fact):
            if claim.contradicts:
                reasons.append(
                    MisinfoReason(
                        kind="contradicts_fact",
                        detail=(
                            f"文中称{fact.region}{fact.period}{fact.indicator}为"
                            f"{claim.quantity.written}，官方数据为{fact.value:g}{fact.unit}"
                        ),
                        evidence=f"{fact.source}：{claim.sentence}",
                    )
                )
    return reasons


def _bigrams(text: str) -> set[str]:
    chars = re.sub(r"[^\w]", "", text)
    return {chars[i : i + 2] for i in range(len(chars) - 1)}


def _windows(text: str) -> list[str]:
    """Sentences and pairs of adjacent sentences, leaving out questions ("……是真的吗？")."""
    sentences = SENTENCE.findall(text) or [text]
    kept = [
        s if not asked else "" for s, asked in zip(sentences, questioned(sentences), strict=True)
    ]
    pairs = [a + b for a, b in zip(kept, kept[1:], strict=False) if a and b]
    return [s for s in kept if s] + pairs


_NEGATED = re.compile(r"(不|没|没有|无|免|未|不用|不会|不需要|无需)$")


def _concepts_found(window: str, groups: list[list[str]]) -> list[str] | None:
    """The first word of each group found in the window, unless a group is missing or only
    found negated ("不收取任何费用" does not state a fee)."""
    found = []
    for group in groups:
        hit = None
        for word in group:
            for match in re.finditer(re.escape(word), window):
                negated = _NEGATED.search(window[max(0, match.start() - 3) : match.start()])
                # "不交钱就不给登记" is a condition that presupposes the fee, not a denial.
                conditional = re.match(r"\s*(就|的话|便)", window[match.end() :])
                if not negated or conditional:
                    hit = word
                    break
            if hit:
                break
        if hit is None:
            return None
        found.append(hit)
    return found


DEBUNK_THRESHOLD = 0.6


def debunk_reasons(text: str, debunks: list[Debunk]) -> list[MisinfoReason]:
    """Debunked rumours the text repeats: its wording (most of the claim's character bigrams)
    or its substance (a word of every one of the debunk's keyword groups in one window).

    A text that refutes the rumour or asks whether it is true does not repeat it."""
    reasons: list[MisinfoReason] = []
    if refutes(text):
        return reasons
    windows = _windows(text)
    window_grams = [_bigrams(w) for w in windows]
    for debunk in debunks:
        claim_grams = _bigrams(debunk.claim)
        score = max(
            (len(grams & claim_grams) / len(claim_grams) for grams in window_grams if claim_grams),
            default=0.0,
        )
        concepts = None
        if debunk.keywords and all(any(w in text for w in g) for g in debunk.keywords):
            concepts = next(
                (c for w in windows if (c := _concepts_found(w, debunk.keywords))), None
            )
        if score >= DEBUNK_THRESHOLD:
            detail = f"与已辟谣信息相似（相似度{score:.2f}）：{debunk.claim}"
        elif concepts:
            detail = f"含已辟谣信息的要素（{'、'.join(concepts)}）：{debunk.claim}"
        else:
            continue
        reasons.append(
            MisinfoReason(
                kind="matches_debunk", detail=detail, evidence=f"{debunk.source}：{debunk.rebuttal}"
            )
        )
    return reasons


# Wording of rumours passed around ("转发周知", "内部消息"), weighted: 2 for phrases that
# rarely appear outside rumours, 1 for ones common in ordinary posts too.
RUMOR_CUES: dict[str, int] = {
    "内部消息": 2,
    "内部人士": 2,
    "内部文件": 2,
    "知情人士": 2,
    "据可靠消息": 2,
    "可靠消息": 2,
    "小道消息": 2,
    "已证实": 2,
    "千真万确": 2,
    "转发周知": 2,
    "相互转告": 2,
    "互相转告": 2,
    "速转": 2,
    "速看": 1,
    "紧急扩散": 2,
    "紧急通知": 2,
    "紧急提醒": 1,
    "不转不是": 2,
    "都在传": 2,
    "疯传": 2,
    "转疯了": 2,
    "朋友圈都在传": 2,
    "群里都在传": 2,
    "上面已经定了": 2,
    "上面定了": 2,
    "刚刚得到消息": 2,
    "有人爆料": 1,
    "网传": 1,
    "听说": 1,
    "据说": 1,
    "据传": 1,
    "扩散": 1,
    "转告": 1,
    "马上就要": 1,
    "下个月起": 1,
    "千万别": 1,
    "千万不要": 1,
    "赶紧": 1,
    "重磅": 1,
    "未经证实": 1,
}
_EXCLAIMS = re.compile(r"[!！]{2,}")
STRONG_RUMOR_SCORE = 4


def rumor_cue_reason(text: str) -> tuple[MisinfoReason, bool] | None:
    """The rumour wording found, and whether it is strong evidence: enough weighted cues in a
    text that does not refute what it passes on."""
    found = [c for c in RUMOR_CUES if c in text]
    # "紧急扩散" also contains "扩散": a cue inside a longer one found is not counted again.
    cues = [c for c in found if not any(c != longer and c in longer for longer in found)]
    score = sum(RUMOR_CUES[c] for c in cues)
    if _EXCLAIMS.search(text):
        cues.append("连续感叹号")
        score += 1
    if not found:
        return None
    strong = score >= STRONG_RUMOR_SCORE and not refutes(text)
    strength = "较强" if strong else "疑似"
    reason = MisinfoReason(
        kind="rumor_cues", detail=f"{strength}：含未经证实的传言用语", evidence="、".join(cues)
    )
    return reason, strong


@dataclass(frozen=True)
class RumorVerdict:
    """A rumour model's reading of one text."""

    probability: float  # that the text is a rumour
    strong: bool  # at or above the model's threshold
    terms: tuple[str, ...]  # the passages that made it look like one


class RumorModel:
    """A rumour classifier trained with `yuqing train --field label` (or `misinfo`) on labelled
    rumour data, such as a linear model trained on Weibo rumour posts."""

    POSITIVE_LABELS = ("rumor", "rumour", "true", "misinfo", "1", "yes")

    def __init__(self, model: LinearBackend, field: str, positive: str, threshold: float) -> None:
        self.model, self.field, self.positive, self.threshold = model, field, positive, threshold

    @classmethod
    def load(cls, path: Path, threshold: float = 0.9) -> RumorModel:
        from nlp.linear import LinearBackend, read_card

        fields = read_card(path)["fields"]
        field = next((f for f in ("misinfo", "label") if f in fields), None)
        if field is None:
            raise ModelError(f"{path}: no `misinfo` or `label` model in it to read rumours with")
        labels = fields[field]["labels"]
        positive = next((label for label in labels if label in cls.POSITIVE_LABELS), None)
        if positive is None or len(labels) != 2:
            raise ModelError(
                f"{path}: the {field} model's labels {labels} are not two labels of which one"
                f" means rumour ({', '.join(cls.POSITIVE_LABELS)})"
            )
        return cls(LinearBackend.load(path, partial=True), field, positive, threshold)

    def assess(self, texts: list[str]) -> list[RumorVerdict]:
        predicted = self.model.predict_fields(texts, [self.field], explain=True)[self.field]
        verdicts = []
        for label, probability, terms in predicted:
            p = probability if label == self.positive else 1 - probability
            strong = p >= self.threshold
            verdicts.append(
                RumorVerdict(round(p, 4), strong, terms if label == self.positive else ())
            )
        return verdicts


def assess(
    text: str, facts: list[Fact], debunks: list[Debunk], rumor: RumorVerdict | None = None
) -> tuple[bool, list[MisinfoReason]]:
    """`misinfo` is true only on a contradicted fact, a debunk match or strong rumour evidence:
    strong cues, or a rumour model's probability at or above its threshold."""
    reasons = fact_reasons(text, facts) + debunk_reasons(text, debunks)
    strong = False
    if (cue := rumor_cue_reason(text)) is not None:
        reasons.append(cue[0])
        strong = cue[1]
    if rumor is not None and rumor.probability >= 0.5:
        strength = "较强" if rumor.strong else "疑似"
        reasons.append(
            MisinfoReason(
                kind="rumor_cues",
                detail=f"{strength}：谣言识别模型判定为传言的概率为{rumor.probability:.2f}",
                evidence="、".join(rumor.terms),
            )
        )
        strong = strong or rumor.strong
    return bool(reasons and (strong or any(r.kind != "rumor_cues" for r in reasons))), reasons
