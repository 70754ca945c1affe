"""Numeric claims about the office's published figures, and whether a figure contradicts them.

It owns deciding which published figure (`Fact`) a number is stated for (indicator name, region,
period); reading the quantity itself is `nlp.quantities`', the writer's stance `nlp.stance`'s.

Our own code: no library reads Chinese statistical claims with their units, ranges, regions and
periods. Sentences are segmented with jieba to find place names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from nlp.quantities import NUMBER, Quantity, convert_numerals, is_percent, read_quantity, scale_of
from nlp.stance import questioned, refutes
from nlp.text import Segmenter
from nlp.types import Fact, Stance

SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]*")
# How far after an indicator name its value may stand ("GDP同比增长12%" → 6 chars).
CLAIM_WINDOW = 16

# Between a level indicator's name and a number: the number is a change, not the level.
_CHANGE = re.compile(r"增加|减少|增长|下降|提高|降低|上升|回落|多了|少了|涨了|跌了|增幅|降幅")
# Numbers that are dates, counts of other things, or ordinals, not a value.
_NOT_A_VALUE = re.compile(r"^\s*(?:年|月|日|号|季度|个月|倍|户|岁|届|次|家|名|位|天|小时|条)")

# A part of a year, a multi-year average or a plan: not the annual figure a bulletin publishes.
SUB_PERIOD = re.compile(
    r"季度|上半年|下半年|前三季|\d{1,2}\s*[-—至到]\s*\d{1,2}\s*月|\d{1,2}\s*月|[一二三四五六七八九十]{1,2}月"
    r"|月份|年均|期间|十[三四五]五|规划|目标|预计|预期|力争|计划|今年|前年|上年|明年|年前"
)
_YEAR = re.compile(r"(20\d\d)\s*年|去年")

_REGION_SUFFIXES = ("县", "市", "省", "区", "镇", "乡", "村", "街道", "旗", "州")
_NOT_A_PLACE = {
    "地区",
    "社区",
    "小区",
    "城区",
    "辖区",
    "景区",
    "片区",
    "郊区",
    "城镇",
    "乡镇",
    "县城",
    "城市",
    "农村",
    "乡村",
    "山区",
}
_OTHER_PLACES = {
    "全国",
    "国家",
    "邻县",
    "外县",
    "隔壁县",
    "外地",
    "外省",
    "全省",
    "省里",
    "全市",
    "市里",
}
_DEIXIS = {
    "县": ("我县", "本县", "全县", "县里", "咱县", "我们县", "咱们县", "县上"),
    "市": ("我市", "本市", "全市", "市里", "咱市", "我们市"),
    "区": ("我区", "本区", "全区", "区里"),
    "省": ("我省", "本省", "全省", "省里"),
}

_segmenter = Segmenter()


@lru_cache(maxsize=4096)
def _tokens(sentence: str) -> tuple[str, ...]:
    # Each fact whose name is in a sentence looks for places in it: segment it once.
    return tuple(_segmenter.cut(sentence))


@dataclass(frozen=True)
class Claim:
    fact: Fact
    name: str  # the indicator name found in the text
    quantity: Quantity
    sentence: str
    stance: Stance = "asserts"

    @property
    def contradicts(self) -> bool:
        """The published figure lies outside what the claim's wording allows."""
        official = self.fact.value * (1 if is_percent(self.fact.unit) else scale_of(self.fact.unit))
        return not self.quantity.low <= official <= self.quantity.high


def _region_forms(region: str) -> tuple[str, ...]:
    short = re.sub(r"(自治县|自治州|省|市|县|区)$", "", region)
    forms = [region] + ([short] if short and short != region else [])
    return tuple(forms) + _DEIXIS.get(region[-1:], ())


def _places(sentence: str, ours: tuple[str, ...]) -> list[tuple[int, bool]]:
    """(position, is ours) of each place named in the sentence."""
    places: list[tuple[int, bool]] = []
    tokens = _tokens(sentence) if sentence.strip() else ()
    position = 0
    merged: list[tuple[int, str]] = []
    for token in tokens:
        start = sentence.find(token, position)
        position = start + len(token)
        # jieba cuts an unknown county as "双桥" + "县": join them back.
        if token in _REGION_SUFFIXES and merged and merged[-1][0] + len(merged[-1][1]) == start:
            merged[-1] = (merged[-1][0], merged[-1][1] + token)
        else:
            merged.append((start, token))
    forms = set(ours)
    for start, token in merged:
        # A form of our region as a word, or with 县 after it ("临江" + "县").
        if token in forms or token.endswith("县") and token[:-1] in forms:
            places.append((start, True))
        elif token in _OTHER_PLACES or (
            len(token) >= 2 and token.endswith(_REGION_SUFFIXES) and token not in _NOT_A_PLACE
        ):
            places.append((start, False))
    return places


def _about_our_region(places: list[tuple[int, bool]], at: int) -> bool:
    before = [ours for position, ours in places if position < at]
    if before:
        return before[-1]
    after = [ours for position, ours in places if position >= at]
    return bool(after) and after[0]


def _in_period(sentence: str, at: int, value_at: int, fact: Fact) -> bool:
    """The number at `value_at` is stated for the fact's period: its year, and for an annual
    figure no part of a year; for a part of a year ("1-9月") that same part, named."""
    years = [(m.start(), m.group(1)) for m in _YEAR.finditer(sentence)]
    before = [y for p, y in years if p < at]
    stated = before[-1] if before else next((y for p, y in years if p >= at), None)
    if stated is not None and stated not in fact.year:
        return False
    # 去年 reads as the latest bulletin's year, like a figure with no year at all.
    start = max((p for p, _ in years if p < at), default=0)
    between = sentence[start:value_at].replace("去年", "")
    if fact.part:
        return _same_part(between, fact.part)
    return not SUB_PERIOD.search(between)


def _same_part(words: str, part: str) -> bool:
    """Whether `words` name the part of a year `part` ("1-9月" also as 前三季度 or 1至9月)."""
    months = re.match(r"(\d+)-(\d+)月", part)
    if months:
        first, last = months.groups()
        if re.search(rf"(?<!\d){first}\s*[-—–~～至到]\s*{last}\s*月", words):
            return True
        return (first, last) == ("1", "9") and "前三季度" in words
    return part in words


def _name_matches(sentence: str, fact: Fact) -> Iterator[tuple[int, str]]:
    """Where the fact's names stand, longest first, never inside a longer match or an
    excluded phrase (a related but different indicator, e.g. 登记失业率)."""
    taken: list[tuple[int, int]] = []
    excluded = [
        (m.start(), m.end())
        for phrase in fact.excludes
        for m in re.finditer(re.escape(phrase), sentence)
    ]
    for name in sorted(fact.names, key=len, reverse=True):
        for match in re.finditer(re.escape(name), sentence):
            span = (match.start(), match.end())
            if any(s < span[1] and span[0] < e for s, e in taken):
                continue
            taken.append(span)
            if any(s <= span[1] + 1 and span[0] - 1 <= e for s, e in excluded):
                continue
            yield match.start(), name


def _sentence_places(sentence: str, earlier: str, ours: tuple[str, ...]) -> list[tuple[int, bool]]:
    """The places named in a sentence, or else the last one named in the sentences before it."""
    places = _places(sentence, ours)
    if not places and earlier:
        places = [(-1, ours_) for _, ours_ in _places(earlier, ours)[-1:]]
    return places


def claims_about(text: str, fact: Fact) -> list[Claim]:
    """The values the text states, asks about or refutes for this fact's indicator, region and
    period, each with its stance."""
    claims: list[Claim] = []
    if not any(name in text for name in fact.names):
        return claims
    refuting = refutes(text)
    ours = _region_forms(fact.region)
    earlier = ""  # the sentences before, for a region named there ("临江县……。GDP增长8%")
    sentences = SENTENCE.findall(text)
    for raw, asked in zip(sentences, questioned(sentences), strict=True):
        sentence = convert_numerals(raw)
        matches = list(_name_matches(sentence, fact))
        # Segmenting for place names costs most here: done only for a figure that may count.
        places: list[tuple[int, bool]] | None = None
        for at, name in matches:
            window_start = at + len(name)
            window = sentence[window_start : window_start + CLAIM_WINDOW]
            for match in NUMBER.finditer(window):
                after = window[match.end() :] + sentence[window_start + CLAIM_WINDOW :][:4]
                if _NOT_A_VALUE.match(after) or (
                    # A bare 2025 is a year; "2050元" is a value.
                    not match.group("unit") and re.match(r"20\d\d$", match.group("num"))
                ):
                    continue
                if not is_percent(fact.unit) and _CHANGE.search(window[: match.start()]):
                    break  # "常住人口减少了1万人" states a change, not the population
                quantity = read_quantity(window[: match.start()], match, after, fact)
                if quantity is None:
                    break  # another indicator's figure follows; this name states none
                value_at = window_start + match.start()
                if places is None:
                    places = _sentence_places(sentence, earlier, ours)
                if _about_our_region(places, at) and _in_period(sentence, at, value_at, fact):
                    stance: Stance = "refutes" if refuting else "questions" if asked else "asserts"
                    claims.append(Claim(fact, name, quantity, raw.strip(), stance))
                break
        earlier += sentence
    return claims
