"""Typed records that cross the nlp boundary: rules and reference data in, judgements out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

SENTIMENTS = ("positive", "neutral", "negative")
CATEGORIES = (
    "data_fraud",
    "procedure",
    "data_security",
    "privacy_leak",
    "field_safety",
    "non_cooperation",
    "data_doubt",
    "scam",
    "staff_conduct",
    "general",
)
MisinfoKind = Literal["contradicts_fact", "matches_debunk", "rumor_cues"]
# How a mention carries a finding: it repeats it as true, asks whether it is true, or quotes it
# only to carry the rebuttal. The first two spread it; the third does not, but shows it is
# going round.
Stance = Literal["asserts", "questions", "refutes"]
STANCES: tuple[Stance, ...] = ("asserts", "questions", "refutes")
# What a figure measures. A figure can contradict a published one only of the same kind: a
# price in 万元 is no population in 万人.
QuantityKind = Literal["money", "people", "percent", "count"]

# The ways offices write a bulletin's period: 2025, "2025", "2025年", "2025年全年", "2025年度",
# "2025全年" all mean the year; "2025年1-9月", "2025年1—9月", "2025年1至9月", "2025年前三季度",
# "2025年上半年", "2025年一季度" a part of it.
_PERIOD = re.compile(
    r"^(?P<year>(?:19|20)\d\d)\s*年?\s*(?:度|全年|年度)?\s*"
    r"(?:(?P<first>\d{1,2})\s*(?:-|—|–|~|～|至|到)\s*(?P<last>\d{1,2})\s*月(?:份)?"
    r"|(?P<half>上半年|下半年)|(?P<quarter>前三季度|[一二三四1-4]季度|第[一二三四1-4]季度))?$"
)
_QUARTERS = {"1": "一", "2": "二", "3": "三", "4": "四"}


def normalise_period(value: object) -> str:
    """A bulletin period in one canonical form ("2025年", "2025年1-9月", "2025年上半年",
    "2025年一季度"); ValueError naming the accepted forms for anything else."""
    text = str(value).strip() if isinstance(value, (int, str)) else ""
    match = _PERIOD.match(text) if not isinstance(value, bool) else None
    if match is None:
        raise ValueError(
            f'period {value!r} is not a year or a part of one; write it as 2025, "2025年",'
            ' "2025年全年", "2025年1-9月", "2025年上半年" or "2025年一季度"'
        )
    year = f"{match['year']}年"
    if match["first"]:
        first, last = int(match["first"]), int(match["last"])
        if not 1 <= first <= last <= 12:
            raise ValueError(f"period {value!r}: months {first}-{last} are not a range of a year")
        return year if (first, last) == (1, 12) else f"{year}{first}-{last}月"
    if match["half"]:
        return year + match["half"]
    if match["quarter"]:
        quarter = match["quarter"].lstrip("第")
        return year + (
            quarter if quarter == "前三季度" else _QUARTERS.get(quarter[0], quarter[0]) + "季度"
        )
    return year


def unit_kind(unit: str) -> QuantityKind:
    """The kind of a published figure's unit: %, 元/万元/亿元, 人/万人, or a count (户, 家...)."""
    if unit in ("%", "个百分点", "‰"):
        return "percent"
    if "元" in unit:
        return "money"
    if "人" in unit:
        return "people"
    return "count"


class KeywordRules(BaseModel):
    """Relevance rules from `keywords.yaml`."""

    model_config = ConfigDict(extra="forbid")

    include: list[str] = Field(default_factory=list, description="any one makes a text relevant")
    exclude: list[str] = Field(
        default_factory=list, description="any one makes a text irrelevant, whatever else matched"
    )
    near: list[tuple[str, str, int]] = Field(
        default_factory=list,
        description="[word_a, word_b, max_chars]: both within max_chars makes a text relevant",
    )

    @field_validator("include", "exclude")
    @classmethod
    def _no_blank_words(cls, words: list[str]) -> list[str]:
        if any(not w.strip() for w in words):
            raise ValueError("empty word in list")
        return words


class Fact(BaseModel):
    """A published official figure (统计公报), from `facts.yaml`."""

    model_config = ConfigDict(extra="forbid")

    indicator: str
    aliases: list[str] = Field(default_factory=list)
    region: str
    period: str
    value: float
    unit: str
    source: str
    # Phrases naming a related but different indicator that contains one of the names
    # (登记失业率 for 失业率, 中位数 after 人均可支配收入): a figure stated for them is not a claim.
    excludes: list[str] = Field(default_factory=list)

    @field_validator("period", mode="before")
    @classmethod
    def _one_way_to_write_a_period(cls, value: object) -> str:
        # 2025 in YAML is an int; "2025" and "2025年全年" must read as the same year.
        return normalise_period(value)

    @property
    def names(self) -> list[str]:
        return [self.indicator, *self.aliases]

    @property
    def year(self) -> str:
        """ "2025年" for any period of 2025."""
        return self.period[:5]

    @property
    def part(self) -> str:
        """The part of the year ("1-9月", "上半年"), or "" for the whole year."""
        return self.period[5:]

    @property
    def kind(self) -> QuantityKind:
        return unit_kind(self.unit)


class Debunk(BaseModel):
    """A rumour the office has refuted (辟谣库), from `debunks.yaml`."""

    model_config = ConfigDict(extra="forbid")

    claim: str
    rebuttal: str
    source: str
    # The rumour's substance as groups of interchangeable words ([存款, 储蓄, 存折], ...): a
    # text with a word of every group in one or two sentences repeats it, however worded.
    keywords: list[list[str]] = Field(default_factory=list)


class Prediction(NamedTuple):
    """A backend's sentiment and category for one text, with the terms that decided them."""

    sentiment: str
    sentiment_score: float
    category: str
    category_score: float
    sentiment_terms: tuple[str, ...] = ()
    category_terms: tuple[str, ...] = ()
    # The sentiment label's probability minus the runner-up's; 1.0 from a backend that cannot
    # tell, so it never marks a mention as unsure.
    sentiment_margin: float = 1.0


class Backend(Protocol):
    """What the classifier asks of a model: `linear`, `transformers` or `lexicon`."""

    name: str

    def predict(self, texts: list[str]) -> list[Prediction]:
        """Sentiment and category, with the terms that decided them, for each normalised text."""
        ...


class ModelError(ValueError):
    """A model directory that is missing, incomplete, of another format, or lacks a field."""


@dataclass(frozen=True)
class MisinfoReason:
    kind: MisinfoKind
    detail: str
    evidence: str
    stance: Stance = "asserts"

    @property
    def spreads(self) -> bool:
        """Whether the mention passes the finding on (asserts or asks) rather than refuting it."""
        return self.stance != "refutes"


@dataclass
class Judgement:
    """What nlp decided about one text, with the evidence a person can check."""

    sentiment: str
    sentiment_score: float
    category: str
    category_score: float
    misinfo: bool
    misinfo_reasons: list[MisinfoReason] = field(default_factory=list)
    keywords_matched: list[str] = field(default_factory=list)
    # The passages of the text that decided sentiment and category.
    sentiment_terms: list[str] = field(default_factory=list)
    category_terms: list[str] = field(default_factory=list)
    backend: str = ""
    # The top two sentiment labels were too close to call: a person should judge it (待研判).
    unsure: bool = False

    @property
    def stance(self) -> str:
        """The stance of the main finding: a contradicted figure or a debunk match before
        rumour wording; "none" without any finding."""
        ranked = sorted(self.misinfo_reasons, key=lambda r: r.kind == "rumor_cues")
        return ranked[0].stance if ranked else "none"

    def to_dict(self) -> dict[str, Any]:
        """As `dataclasses.asdict` gives it, written out: asdict deep-copies every value, which
        cost `yuqing classify` a sixth of its time."""
        return {
            "sentiment": self.sentiment,
            "sentiment_score": self.sentiment_score,
            "category": self.category,
            "category_score": self.category_score,
            "misinfo": self.misinfo,
            "misinfo_reasons": [
                {"kind": r.kind, "detail": r.detail, "evidence": r.evidence, "stance": r.stance}
                for r in self.misinfo_reasons
            ],
            "keywords_matched": list(self.keywords_matched),
            "sentiment_terms": list(self.sentiment_terms),
            "category_terms": list(self.category_terms),
            "backend": self.backend,
            "unsure": self.unsure,
        }
