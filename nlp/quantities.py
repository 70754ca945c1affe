"""Quantities as written in Chinese statistical claims: a number with its unit, read as the
range its wording allows ("百分之九点五", "四万多元", "突破60万", "约4.6万元") and with its kind
(money, people, percent, count), so a price is never compared with a population.

Our own code: no library reads such quantities. Chinese numerals are converted with `cn2an`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from nlp.types import Fact, QuantityKind, unit_kind

_CN_DIGITS = "零〇一二两三四五六七八九十百千万亿"
_CN_NUMBER = re.compile(rf"(百分之)?([{_CN_DIGITS}]+(?:点[{_CN_DIGITS}]+|点几)?)")
NUMBER = re.compile(
    r"(?P<num>-?\d+(?:,\d{3})*(?:\.(?:\d+|几))?)\s*"
    r"(?P<unit>个百分点|个点|%|万亿元|万亿|亿元|亿|万元|万人|万|千人|元|人)?"
)
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
PERCENT_UNITS = {"%", "个百分点", "个点"}
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
    if unit in PERCENT_UNITS:
        return "percent"
    if "元" in unit or "人" in unit:
        return unit_kind(unit)
    return next((kind for pattern, kind in _KIND_AFTER if pattern.match(after)), None)


def is_percent(unit: str) -> bool:
    return unit in PERCENT_UNITS


def scale_of(unit: str) -> float:
    return _SCALE.get(unit, 1.0)


def convert_numerals(sentence: str) -> str:
    """Chinese numerals that state a value become digits: 百分之九点五 → 9.5%, 四十五万 → 45万,
    四万一千元 → 41000元. Numerals in words (一季度, 十三五, 十年前) are left alone."""
    # cn2an takes about a second to import; only texts that name an indicator pay for it.
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
    if is_percent(fact.unit) != is_percent(unit):
        if unit or not is_percent(fact.unit):
            return None
        unit = "%"  # "失业率5.2" without a sign means percent
    percent = is_percent(unit)
    kind = fact.kind
    scale = 1.0 if percent else scale_of(unit or fact.unit)
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
