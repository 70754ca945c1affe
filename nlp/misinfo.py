"""Misinformation evidence: figures that contradict the bulletin, paraphrases of debunked
rumours, and rumour-style wording. Each finding is a `MisinfoReason` a press officer can check.

Claim extraction is our own: no library reads Chinese statistical claims ("GDP增长12%",
"常住人口52.3万人") with their units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from nlp.claims import SENTENCE, claims_about
from nlp.linear import LinearBackend, read_card
from nlp.stance import is_question, questioned, stance_of
from nlp.types import Debunk, Fact, MisinfoReason, ModelError, Stance

# How each stance is put to a press officer, before the indicator and the figure.
_FACT_WORDING: dict[Stance, tuple[str, str]] = {
    "asserts": ("文中称", "为"),
    "questions": ("文中询问", "是否为"),
    "refutes": ("文中引述并否定", "为"),
}


def fact_reasons(text: str, facts: list[Fact]) -> list[MisinfoReason]:
    """A reason per figure that contradicts a published one of the same unit and kind."""
    reasons = []
    for fact in facts:
        for claim in claims_about(text, fact):
            if claim.contradicts:
                lead, verb = _FACT_WORDING[claim.stance]
                reasons.append(
                    MisinfoReason(
                        kind="contradicts_fact",
                        detail=(
                            f"{lead}{fact.region}{fact.period}{fact.indicator}{verb}"
                            f"{claim.quantity.shown(fact)}，官方数据为{fact.value:g}{fact.unit}"
                        ),
                        evidence=f"{fact.source}：{claim.sentence}",
                        stance=claim.stance,
                    )
                )
    return reasons


def _bigrams(text: str) -> set[str]:
    chars = re.sub(r"[^\w]", "", text)
    return {chars[i : i + 2] for i in range(len(chars) - 1)}


@lru_cache(maxsize=1024)
def _claim_bigrams(claim: str) -> frozenset[str]:
    return frozenset(_bigrams(claim))


def _windows(text: str) -> list[tuple[str, bool]]:
    """Sentences and pairs of adjacent sentences, each with whether it asks ("……是真的吗？")."""
    sentences = SENTENCE.findall(text) or [text]
    asks = questioned(sentences)
    single = list(zip(sentences, asks, strict=True))
    pairs = [
        (a + b, asked_a or asked_b)
        for (a, asked_a), (b, asked_b) in zip(single, single[1:], strict=False)
    ]
    return single + pairs


_NEGATED = re.compile(r"(不|没|没有|无|免|未|不用|不会|不需要|无需)$")


def _concepts_found(window: str, groups: list[list[str]]) -> list[str] | None:
    """The first word of each group found in the window, unless a group is missing or only
    found negated ("不收取任何费用" does not state a fee). A rumour of three or more parts is
    repeated by all but one of them ("不报存款就罚款" leaves out the property)."""
    found = []
    missing = 0
    spare = 1 if len(groups) >= 3 else 0
    for group in groups:
        hit = None
        for word in group:
            for match in re.finditer(re.escape(word), window):
                before = window[max(0, match.start() - 3) : match.start()]
                # "收不收费", "交不交钱" ask about the fee; they do not deny it.
                negated = _NEGATED.search(before) and not before.endswith(word[0] + "不")
                # "不交钱就不给登记" is a condition that presupposes the fee, not a denial.
                conditional = re.match(r"\s*(就|的话|便)", window[match.end() :])
                if not negated or conditional:
                    hit = word
                    break
            if hit:
                break
        if hit is None:
            missing += 1
            if missing > spare:
                return None
            continue
        found.append(hit)
    return found


DEBUNK_THRESHOLD = 0.6


_DEBUNK_WORDING: dict[Stance, str] = {
    "asserts": "传播",
    "questions": "询问",
    "refutes": "引述并否定",
}


def debunk_reasons(text: str, debunks: list[Debunk]) -> list[MisinfoReason]:
    """Debunked rumours the text repeats, asks about or quotes to refute: their wording (most
    of the claim's character bigrams) or substance (a word of every one of the debunk's keyword
    groups in one window). A window that states the rumour outranks one that asks about it."""
    reasons: list[MisinfoReason] = []
    # Every window's bigrams are among the whole text's, so a debunk whose wording the text
    # cannot reach and whose keywords it lacks is passed over without cutting it into windows.
    text_grams = _bigrams(text)
    windows: list[tuple[str, bool]] | None = None
    window_grams: list[tuple[set[str], bool]] = []
    for debunk in debunks:
        claim_grams = _claim_bigrams(debunk.claim)
        spare = 1 if len(debunk.keywords) >= 3 else 0
        present = sum(any(w in text for w in g) for g in debunk.keywords)
        by_keywords = bool(debunk.keywords) and present >= len(debunk.keywords) - spare
        reachable = bool(claim_grams) and (
            len(text_grams & claim_grams) / len(claim_grams) >= DEBUNK_THRESHOLD
        )
        if not reachable and not by_keywords:
            continue
        if windows is None:
            windows = _windows(text)
            window_grams = [(_bigrams(w), asked) for w, asked in windows]
        scored = [
            (len(grams & claim_grams) / len(claim_grams), asked)
            for grams, asked in window_grams
            if claim_grams
        ]
        score = max((s for s, _ in scored), default=0.0)
        hits = [asked for s, asked in scored if s >= DEBUNK_THRESHOLD]
        concepts = None
        if by_keywords:
            found = [
                (c, asked) for w, asked in windows if (c := _concepts_found(w, debunk.keywords))
            ]
            concepts = found[0][0] if found else None
            hits += [asked for _, asked in found]
        if score >= DEBUNK_THRESHOLD:
            detail = f"与已辟谣信息相似（相似度{score:.2f}）：{debunk.claim}"
        elif concepts:
            detail = f"含已辟谣信息的要素（{'、'.join(concepts)}）：{debunk.claim}"
        else:
            continue
        stance = stance_of(text, asked=all(hits))
        reasons.append(
            MisinfoReason(
                kind="matches_debunk",
                detail=f"{_DEBUNK_WORDING[stance]}已辟谣信息；{detail}",
                evidence=f"{debunk.source}：{debunk.rebuttal}",
                stance=stance,
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
    "有人说": 1,
    "传开了": 1,
    "被曝": 1,
    "已经定了": 2,
    "有人讲": 1,
    "传言": 1,
    "传闻": 1,
}
# A post that opens by passing on what others say: "转发：……", "听说……", "有人说……".
_HEARSAY_OPENING = re.compile(r"^\s*(?:【?转发】?[:：]|转[:：]|//@|据群里|群里说|朋友说)")
_EXCLAIMS = re.compile(r"[!！]{2,}")
# Plain rumour wording without the stock cues (the guideline's "听说…", "有人说…", "转发：…"):
# someone else's word passed on, an alarming consequence for people, and a call to act on it.
# Each counts only in a text about the office's work, so gossip about other things stays out.
_HEARSAY = re.compile(
    r"听说|据说|有人说|有人讲|听[^，。！？]{1,6}(?:讲|说)的?|(?:群|圈)里[^，。！？]{0,4}(?:发|说|转|传)"
    r"|朋友圈[^，。！？]{0,3}(?:看到|转)|转来的|^\s*转发[:：]"
    r"|(?:亲戚|朋友|同事|熟人|表姐|表哥|表妹|表弟|邻居)[^，。！？]{0,10}(?:说|讲|透露)"
)
_ALARM = re.compile(
    r"罚款|罚钱|没收|拖走|取消|注销|清退|下岗|撤了|撤销|收回|补交|补税|交税|收税|房产税|黑名单|征信"
    r"|停水|停电|政审|过不了|赔钱|卖给|泄露|监控|录音|偷拍|骚扰|强制|少拿|重新核算|拆迁|征收"
    r"|办不了|记下名字|小偷|上交|追缴"
)
_CALL = re.compile(
    r"赶快|快去|大家(?:注意|提前|别|小心|留意)|互相提醒|告诉(?:家里人|家人|身边|亲戚)|转给"
    r"|注意一下|别让|小心点|都慌了|吓人"
)
_ABSOLUTE = re.compile(r"一律|全部|所有|统统|都要|直接")
_OUR_WORK = re.compile(r"普查|统计|调查|登记|记账户|直报")
STRONG_RUMOR_SCORE = 4


def _plain_rumor_cues(text: str) -> list[tuple[str, int]]:
    """Cues of plain rumour wording, weighted: hearsay 1, an alarming consequence told as
    hearsay 2, a call to act 1, absolute wording 1; none without hearsay about our work."""
    if not (_HEARSAY.search(text) and _OUR_WORK.search(text)):
        return []
    cues = [("转述他人说法", 1)]
    if _ALARM.search(text):
        cues.append(("传言称将受罚或受损", 2))
    if _CALL.search(text):
        cues.append(("呼吁防备或转告", 1))
    if _ABSOLUTE.search(text):
        cues.append(("绝对化说法", 1))
    return cues


def _asks(text: str) -> bool:
    return any(is_question(s) for s in SENTENCE.findall(text))


def rumor_cue_reason(text: str) -> tuple[MisinfoReason, bool] | None:
    """The rumour wording found, and whether it is strong evidence: enough weighted cues in a
    text that does not refute what it passes on."""
    found = [c for c in RUMOR_CUES if c in text]
    if _HEARSAY_OPENING.match(text):
        found.append("转述传言")
    # "紧急扩散" also contains "扩散": a cue inside a longer one found is not counted again.
    cues = [c for c in found if not any(c != longer and c in longer for longer in found)]
    score = sum(RUMOR_CUES.get(c, 1) for c in cues)
    # The stock cues already weigh hearsay ("听说", "有人说"); the plain wording adds what
    # they do not see, the consequence and the call, and stands in for them when they are absent.
    plain = _plain_rumor_cues(text)
    if not found and not plain:
        return None
    stance = stance_of(text, _asks(text))
    heard = any(_HEARSAY.search(c) for c in found) or "转述传言" in found
    for cue, weight in plain[1:] if heard else plain:
        cues.append(cue)
        # The label rules: asking whether a rumour the office never refuted is true is no
        # misinformation, so the plain wording weighs only in a text that states it.
        score += weight if stance == "asserts" else 0
    if _EXCLAIMS.search(text):
        cues.append("连续感叹号")
        score += 1
    strong = score >= STRONG_RUMOR_SCORE and stance != "refutes"
    strength = "较强" if strong else "疑似"
    wording = {"asserts": "含", "questions": "询问", "refutes": "引述并否定"}[stance]
    reason = MisinfoReason(
        kind="rumor_cues",
        detail=f"{strength}：{wording}未经证实的传言",
        evidence="、".join(cues),
        stance=stance,
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
    """`misinfo` is true when the text asserts or asks about a contradicted fact or a debunked
    rumour, or carries strong rumour evidence (strong cues, or a rumour model's probability at
    or above its threshold) without refuting it. Refuting findings are kept, unflagged."""
    reasons = fact_reasons(text, facts) + debunk_reasons(text, debunks)
    strong = False
    if (cue := rumor_cue_reason(text)) is not None:
        reasons.append(cue[0])
        strong = cue[1]
    if rumor is not None and rumor.probability >= 0.5:
        stance = stance_of(text, _asks(text))
        strength = "较强" if rumor.strong and stance != "refutes" else "疑似"
        reasons.append(
            MisinfoReason(
                kind="rumor_cues",
                detail=f"{strength}：谣言识别模型判定为传言的概率为{rumor.probability:.2f}",
                evidence="、".join(rumor.terms),
                stance=stance,
            )
        )
        strong = strong or (rumor.strong and stance != "refutes")
    spread = [r for r in reasons if r.spreads]
    return bool(strong or any(r.kind != "rumor_cues" for r in spread)), reasons
