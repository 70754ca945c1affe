"""Typed records that cross the nlp boundary: rules and reference data in, judgements out."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, NamedTuple

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

    @property
    def names(self) -> list[str]:
        return [self.indicator, *self.aliases]


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


class ModelError(ValueError):
    """A model directory that is missing, incomplete, of another format, or lacks a field."""


@dataclass(frozen=True)
class MisinfoReason:
    kind: MisinfoKind
    detail: str
    evidence: str


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
