"""Text in, judgements out: relevance, sentiment, risk category and misinformation evidence.

A pure library: no database, no settings; paths and options are passed in, models load lazily.
"""

from pathlib import Path

from nlp.classifier import BACKENDS, Classifier, UnknownBackend, build_backend
from nlp.misinfo import RumorModel
from nlp.relevance import is_relevant, match_keywords
from nlp.text import Segmenter, normalise
from nlp.types import (
    CATEGORIES,
    SENTIMENTS,
    Backend,
    Debunk,
    Fact,
    Judgement,
    KeywordRules,
    MisinfoReason,
    ModelError,
    Prediction,
)


def classify(
    text: str,
    title: str | None = None,
    *,
    facts: list[Fact] | None = None,
    debunks: list[Debunk] | None = None,
    rules: KeywordRules | None = None,
    backend: str = "linear",
    model_path: Path | None = None,
) -> Judgement:
    """One-off convenience; build a `Classifier` once for many texts."""
    clf = Classifier(
        build_backend(backend, model_path), facts or [], debunks or [], rules or KeywordRules()
    )
    return clf.classify(text, title)


__all__ = [
    "BACKENDS",
    "CATEGORIES",
    "SENTIMENTS",
    "Backend",
    "Classifier",
    "Debunk",
    "Fact",
    "Judgement",
    "KeywordRules",
    "MisinfoReason",
    "ModelError",
    "Prediction",
    "RumorModel",
    "Segmenter",
    "UnknownBackend",
    "build_backend",
    "classify",
    "is_relevant",
    "match_keywords",
    "normalise",
]
