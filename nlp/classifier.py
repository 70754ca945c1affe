"""The classifier: a sentiment/category backend plus misinformation evidence and relevance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from nlp.misinfo import assess
from nlp.relevance import match_keywords
from nlp.text import normalise
from nlp.types import Debunk, Fact, Judgement, KeywordRules


class Backend(Protocol):
    name: str

    def predict(self, texts: list[str]) -> list[tuple[str, float, str, float]]:
        """(sentiment, sentiment_score, category, category_score) for each text."""
        ...


class UnknownBackend(ValueError):
    pass


@dataclass
class Classifier:
    backend: Backend
    facts: list[Fact] = field(default_factory=list)
    debunks: list[Debunk] = field(default_factory=list)
    rules: KeywordRules = field(default_factory=KeywordRules)

    def classify(self, text: str, title: str | None = None) -> Judgement:
        return self.classify_many([(title, text)])[0]

    def classify_many(self, items: Sequence[tuple[str | None, str]]) -> list[Judgement]:
        texts = [normalise(f"{title}。{text}" if title else text) for title, text in items]
        judgements = []
        for text, (sentiment, s_score, category, c_score) in zip(
            texts, self.backend.predict(texts), strict=True
        ):
            misinfo, reasons = assess(text, self.facts, self.debunks)
            judgements.append(
                Judgement(
                    sentiment=sentiment,
                    sentiment_score=round(float(s_score), 4),
                    category=category,
                    category_score=round(float(c_score), 4),
                    misinfo=misinfo,
                    misinfo_reasons=reasons,
                    keywords_matched=match_keywords(text, self.rules),
                    backend=self.backend.name,
                )
            )
        return judgements


def build_backend(name: str, model_path: Path | None = None) -> Backend:
    if name == "lexicon":
        from nlp.lexicon import LexiconBackend

        return LexiconBackend()
    raise UnknownBackend(f"unknown classifier backend {name!r}")
