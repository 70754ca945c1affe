"""Numeric claims about the office's published figures, and whether a figure contradicts them.

It owns reading a quantity as written ("百分之九点五", "四万多元", "突破60万", "约4.6万元"),
deciding which published figure (`Fact`) a number is stated for (indicator name, region, period)
and whether the writer asserts it or quotes it to refute or ask about it.

Our own code: no library reads Chinese statistical claims with their units, ranges, regions and
periods. Chinese numerals are converted with `cn2an`, and sentences are segmented with jieba to
find place names.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from nlp.text import Segmenter
from nlp.types import Fact, QuantityKind, Stance, unit_kind

SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]*")
# How far after an indicator name its value may stand ("GDP同比增长12%" → 6 chars).
CLAIM_WINDOW = 16

_CN_DIGITS = "零〇一二两三四五六七八九十百千万亿"
_CN_NUMBER = re.compile(rf"(百分之)?([{_CN_DIGITS}]+(?:点[{_CN_DIGITS}]+|点几)?)")
_NUMBER = re.compile(
    r"(?P<num>-?\d+(?:,\d{3})*(?:\.(?:\d+|几))?)\s*"
    r"(?P<unit>个百分点|个点|%|万亿元|万亿|亿元|亿|万元|万人|万|千人|元|人)?"
)
# Numbers that are dates, counts of other things, or ordinals, not a value.
# Between a level indicator's name and a number: the number is a change, not the level.
_CHANGE = re.compile(r"增加|减少|增长|下降|提高|降低|上升|回落|多了|少了|涨了|跌了|增幅|降幅")
_NOT_A_VALUE = re.compile(r"^\s*(?:年|月|日|号|季度|个月|倍|户|岁|届|次|家|名|位|天|小时|条)")
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
_PERCENT_UNITS = {"%", "个百分点", "个点"}
# What follows a number written without a unit of its own ("3万块", "3万多元", "30万户") says
# what it counts; a bare number ("常住人口52万") takes the kind of the indicator it follows.
_KIND_AFTER: tuple[tuple[re.Pattern[str], QuantityKind], ...] = (
    (re.compile(r"^[多余]?\s*(?:元|块|美元|港元|欧元|毛|角|钱)"), "money"),
    (re.compile(r"^[多余]?\s*(?:人|口人|名|位|口)"), "people"),
    (re.compile(r"^[多余]?\s*(?:户|家|个|套|台|件|笔|份|条|次|辆|亩|平方|吨|张|所|座)"), "count"),
)

# Wording around a number that turns it into a bound or an approximation.
_AT_LEAST = re.compile(r"(突破|超过|超出|超|逾|高于|多于|不低于|不少于|至少|起码|最少|过)\s*$")
_AT_MOST = re.compile(r"(不到|不足|低于|少于|不超过|未达|未到|最多|顶多|不过)\s*$")
_ABOUT = re.compile(r"(约|大约|大概|差不多|估计|上下浮动)\s*$")
_JUST_UNDER = re.compile(r"(接近|将近|近|逼近)\s*$")
_ABOVE_AFTER = re.compile(r"^\s*(以上|多|余|出头|开外)")
_BELOW_AFTER = re.compile(r"^\s*(以下|以内|之内)")
_ABOUT_AFTER = re.compile(r"^\s*(左右|上下)")

# A part of a year, a multi-year average or a plan: not the annual figure a bulletin publishes.
SUB_PERIOD = re.compile(
    r"季度|上半年|下半年|前三季|\d{1,2}\s*[-—至到]\s*\d{1,2}\s*月|\d{1,2}\s*月|[一二三四五六七八九十]{1,2}月"
    r"|月份|年均|期间|十[三四五]五|规划|目标|预计|预期|力争|计划|今年|前年|上年|明年|年前"
)
_YEAR = re.compile(r"(20\d\d)\s*年|去年")

# The writer quotes a claim to refute it or treats it as a fraud.
REFUTATION = re.compile(
    r"辟谣|谣言|不实|经核实|系误|澄清|不属实|纯属捏造|假消息|请勿轻信|勿信|别信|不要相信|"
    r"冒充|假冒|假普查员|骗子|诈骗|报警|是假的|假的[!！]|造谣|回应"
)
_NOT_REFUTATION = re.compile(r"不是谣言|并非谣言|不是假的|不是造谣")
# The writer asks whether a claim is true rather than stating it.
QUESTION = re.compile(
    r"吗|真的假的|是真的|是不是|靠谱|有没有|请问|对不对|属实|真有|哪个对|咋回事|准不准|是否"
)

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
class Quantity:
    """A stated value as the range its wording allows, in base units (元, 人, percent)."""

    written: str
    low: float
    high: float
    percent: bool
    kind: QuantityKind = "count"

    def shown(self, fact: Fact) -> str:
        """The figure as a press officer should read it: as written, with the indicator's unit
        added when the writer left it out ("常住人口才48万" → "48万人")."""
        written = self.written.strip()
        if self.percent and not written.endswith(("%", "个百分点", "个点")):
            return written + "%"
        base = {"money": "元", "people": "人"}.get(self.kind, "")
        return written if not base or written.endswith(base) else written + base


def written_kind(unit: str, after: str) -> QuantityKind | None:
    """The kind a number's own unit, or the word right after it, gives; None when bare."""
    if unit in _PERCENT_UNITS:
        return "percent"
    if "元" in unit or "人" in unit:
        return unit_kind(unit)
    return next((kind for pattern, kind in _KIND_AFTER if pattern.match(after)), None)


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
        official = self.fact.value * (1 if _is_percent(self.fact.unit) else _scale(self.fact.unit))
        return not self.quantity.low <= official <= self.quantity.high


def _is_percent(unit: str) -> bool:
    return unit in _PERCENT_UNITS


def _scale(unit: str) -> float:
    return _SCALE.get(unit, 1.0)


def _convert_numerals(sentence: str) -> str:
    """Chinese numerals that state a value become digits: 百分之九点五 → 9.5%, 四十五万 → 45万,
    四万一千元 → 41000元. Numerals in words (一季度, 十三五, 十年前) are left alone."""
    import cn2an

    def replace(match: re.Match[str]) -> str:
        percent, numeral = match.group(1), match.group(2)
        after = sentence[match.end() : match.end() + 4]
        is_value = (
            percent
            or re.search(r"[万亿千百]", numeral)
            or re.match(r"[多余]?(?:[元人%万亿]|个百分点|个点)", after)
        )
        if not is_value or numeral in ("万", "亿", "千", "百"):
            return match.group()
        fraction = ""
        if numeral.endswith("点几"):
            numeral, fraction = numeral[:-2], ".几"
        suffix = ""
        if numeral[-1] in "万亿" and len(numeral) > 1:
            numeral, suffix = numeral[:-1], numeral[-1]
        try:
            value = cn2an.cn2an(numeral, "smart")
        except ValueError:
            return match.group()
        digits = f"{value:g}" if isinstance(value, float) else str(value)
        return f"{digits}{fraction}{suffix}{'%' if percent else ''}"

    converted = _CN_NUMBER.sub(replace, sentence)
    # "60多万" states 600,000 to 700,000: move 多 behind the unit, where ranges are read.
    converted = re.sub(r"(\d)多(万|亿)", r"\1\2多", converted)
    return re.sub(r"(\d)点几", r"\1.几", converted)


def _precision(number: str) -> float:
    """One unit of the last digit the writer stated: 5.9 → 0.1, 46230 → 10, 530000 → 10000."""
    if "." in number:
        return 10.0 ** -len(number.split(".")[1])
    digits = number.lstrip("-").replace(",", "")
    zeros = len(digits) - len(digits.rstrip("0"))
    return 10.0 ** min(zeros, len(digits) - 1)


def read_quantity(before: str, match: re.Match[str], after: str, fact: Fact) -> Quantity | None:
    """The quantity of one number match, with the wording just before and after it."""
    number, unit = match.group("num"), match.group("unit") or ""
    kind = written_kind(unit, after)
    if kind is not None and kind != fact.kind:
        return None  # a price, a head count or a count of households is no other indicator
    if _is_percent(fact.unit) != _is_percent(unit):
        if unit or not _is_percent(fact.unit):
            return None
        unit = "%"  # "失业率5.2" without a sign means percent
    percent = _is_percent(unit)
    kind = fact.kind
    scale = 1.0 if percent else _scale(unit or fact.unit)
    if not unit and not percent and float(number.replace(",", "")) >= 10_000:
        scale = 1.0  # "常住人口523000": a head count, not 523,000 万人
    if number.endswith(".几"):  # "一点几": anything from 1 to 2
        value = float(number[:-2].replace(",", ""))
        return Quantity(match.group(), value * scale, (value + 1) * scale, percent, kind)
    value = float(number.replace(",", ""))
    # Nobody rounds a rate to tens: "增长10%" states ten percent, not anything from 5 to 15.
    step = 1.0 if percent and "." not in number else _precision(number)
    low, high = value - step / 2, value + step / 2
    if _AT_LEAST.search(before) or _ABOVE_AFTER.match(after):
        low, high = value, math.inf
        if _ABOVE_AFTER.match(after) and re.match(r"^\s*(多|余|出头)", after):
            high = value + step  # "四万多": from 40,000 up to 50,000
    elif _AT_MOST.search(before) or _BELOW_AFTER.match(after):
        low, high = -math.inf, value
    elif _JUST_UNDER.search(before):
        low, high = value - step, value
    elif _ABOUT.search(before) or _ABOUT_AFTER.match(after):
        low, high = value - step, value + step
    return Quantity(match.group(), low * scale, high * scale, percent, kind)


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


# A question whether something is true, not about something else ("你达到了吗？").
TRUTH = re.compile(
    r"真的|假的|真假|属实|靠谱|准不准|准吗|对不对|对吗|是吗|这回事|真有|是不是真|可信|能信"
)
# A question asked in one word with its negation: "收不收费", "交不交钱", "是不是".
A_NOT_A = re.compile(r"(.)[不没]\1")
# An answer that says yes to the question before it ("要交吗？要的，一户15块"): the writer states
# the claim, and asks nothing.
_YES = re.compile(
    r"^\s*(?:要的|要[，,。！!]|是的|是[，,。！!]|对的|对[，,。！!]|会的|真的[，,。！!]|没错|确实|当然)"
)


def is_question(sentence: str) -> bool:
    """The sentence asks: a question mark with a question word, or a question word at the very
    end without one ("这数靠谱吗")."""
    stripped = sentence.rstrip()
    if stripped.endswith(("？", "?")):
        return bool(QUESTION.search(stripped) or A_NOT_A.search(stripped))
    return stripped.endswith(("吗", "吗…", "吗。")) and bool(TRUTH.search(stripped))


def questioned(sentences: list[str]) -> list[bool]:
    """Per sentence: it asks, or a short question right after it asks about it
    ("……增长12%。真的假的？"); a question the text answers with yes does not ask."""
    asks = [
        is_question(s) and not (i + 1 < len(sentences) and _YES.match(sentences[i + 1]))
        for i, s in enumerate(sentences)
    ]
    return [
        ask
        or (
            i + 1 < len(sentences)
            and asks[i + 1]
            and len(sentences[i + 1].strip()) <= 10
            and bool(TRUTH.search(sentences[i + 1]))
        )
        for i, ask in enumerate(asks)
    ]


def refutes(text: str) -> bool:
    """The text refutes a claim it quotes, or calls it a fraud."""
    return bool(REFUTATION.search(text)) and not _NOT_REFUTATION.search(text)


def stance_of(text: str, asked: bool) -> Stance:
    """How a text carries a claim found in it: refuting wins over asking ("网传……是真的吗？经核实
    不实"), and asking over stating."""
    if refutes(text):
        return "refutes"
    return "questions" if asked else "asserts"


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
        sentence = _convert_numerals(raw)
        matches = list(_name_matches(sentence, fact))
        # Segmenting for place names costs most here: done only for a figure that may count.
        places: list[tuple[int, bool]] | None = None
        for at, name in matches:
            window_start = at + len(name)
            window = sentence[window_start : window_start + CLAIM_WINDOW]
            for match in _NUMBER.finditer(window):
                after = window[match.end() :] + sentence[window_start + CLAIM_WINDOW :][:4]
                if _NOT_A_VALUE.match(after) or (
                    # A bare 2025 is a year; "2050元" is a value.
                    not match.group("unit") and re.match(r"20\d\d$", match.group("num"))
                ):
                    continue
                if not _is_percent(fact.unit) and _CHANGE.search(window[: match.start()]):
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
