"""The classifier: a sentiment/category backend plus misinformation evidence and relevance.

It also owns choosing and loading a backend by name (`build_backend`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from nlp.lexicon import LexiconBackend
from nlp.linear import LinearBackend, read_card
from nlp.misinfo import RumorModel, assess
from nlp.relevance import matches_normalised
from nlp.text import normalise
from nlp.training import shipped_model
from nlp.transformer import TransformersBackend, TransformersModel
from nlp.types import Backend, Debunk, Fact, Judgement, KeywordRules, ModelError

BACKENDS = ("linear", "transformers", "lexicon")


class UnknownBackend(ValueError):
    pass


@dataclass
class Classifier:
    backend: Backend
    facts: list[Fact] = field(default_factory=list)
    debunks: list[Debunk] = field(default_factory=list)
    rules: KeywordRules = field(default_factory=KeywordRules)
    rumor_model: RumorModel | None = None
    # A mention whose two likeliest sentiments are closer than this is marked unsure, for a
    # person to judge (待研判), rather than filed under the likelier one; 0 marks none.
    unsure_margin: float = 0.0

    def classify(self, text: str, title: str | None = None) -> Judgement:
        return self.classify_many([(title, text)])[0]

    def classify_many(self, items: Sequence[tuple[str | None, str]]) -> list[Judgement]:
        texts = [normalise(f"{title}。{text}" if title else text) for title, text in items]
        rumor = self.rumor_model.assess(texts) if self.rumor_model else [None] * len(texts)
        judgements = []
        for text, prediction, rumor_verdict in zip(
            texts, self.backend.predict(texts), rumor, strict=True
        ):
            misinfo, reasons = assess(text, self.facts, self.debunks, rumor_verdict)
            judgements.append(
                Judgement(
                    sentiment=prediction.sentiment,
                    sentiment_score=round(float(prediction.sentiment_score), 4),
                    category=prediction.category,
                    category_score=round(float(prediction.category_score), 4),
                    misinfo=misinfo,
                    misinfo_reasons=reasons,
                    keywords_matched=matches_normalised(text, self.rules),
                    sentiment_terms=list(prediction.sentiment_terms),
                    category_terms=list(prediction.category_terms),
                    backend=self.backend.name,
                    unsure=prediction.sentiment_margin < self.unsure_margin,
                )
            )
        return judgements


def shipped_linear(fallback_dir: Path | None = None) -> LinearBackend:
    """The linear backend with the model trained from the shipped corpus."""
    return LinearBackend.load(shipped_model(fallback_dir))


def build_backend(
    name: str = "linear",
    model_path: Path | None = None,
    *,
    sentiment_model: Path | None = None,
    category_model: Path | None = None,
    device: str = "auto",
    max_length: int = 256,
    batch_size: int = 32,
    shipped_dir: Path | None = None,
) -> Backend:
    """A backend by name.

    `linear` uses the model in `model_path`, or the shipped corpus model when none is given;
    a field that model lacks comes from the shipped model. `transformers` loads one Hugging Face
    model directory per field (`sentiment_model`, `category_model`); a field without one comes
    from the shipped linear model. `lexicon` needs no model. `shipped_dir` is where the shipped
    model may be built when the package directory is read-only.
    """
    if name == "lexicon":
        return LexiconBackend()
    if name == "linear":
        if model_path is None:
            return shipped_linear(shipped_dir)
        fields = read_card(model_path)["fields"]
        complete = "sentiment" in fields and "category" in fields
        fallback = None if complete else shipped_linear(shipped_dir)
        return LinearBackend.load(model_path, fallback=fallback)
    if name == "transformers":
        if sentiment_model is None and category_model is None:
            raise ModelError(
                "the transformers backend needs a model directory for sentiment or category"
                " (nlp.sentiment.model_path, nlp.category.model_path)"
            )
        models = {
            field: TransformersModel.load(
                path, device=device, max_length=max_length, batch_size=batch_size
            )
            if path is not None
            else None
            for field, path in (("sentiment", sentiment_model), ("category", category_model))
        }
        fallback = shipped_linear(shipped_dir) if None in models.values() else None
        return TransformersBackend(models["sentiment"], models["category"], fallback)
    raise UnknownBackend(f"unknown classifier backend {name!r}; expected one of {BACKENDS}")
