"""`yuqing eval`: judge a labelled JSONL file and score every field it has labels for.

Sentiment, category and misinformation come from the configured classifier; a model directory
given with `--model` judges the fields it was trained for itself (a rumour model's `label`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nlp.evaluation import EVAL_FIELDS, evaluate_rows, label_of, negative_vs_neutral
from nlp.linear import CARD, LinearBackend, read_card
from nlp.text import normalise
from nlp.training import load_jsonl
from nlp.transformer import TransformersModel
from nlp.transformer import read_card as read_transformers_card
from nlp.types import ModelError
from responder.judging.classifier import build_classifier
from responder.settings import Settings

log = logging.getLogger(__name__)
BATCH = 512


def _model_predictor(path: Path) -> tuple[list[str], Callable[[list[str], str], list[str]]]:
    """The fields a model directory judges and how to ask it, for linear and transformers."""

    if (path / CARD).is_file():
        fields = list(read_card(path)["fields"])
        model = LinearBackend.load(path, partial=True)
        return fields, lambda texts, field: [
            label for label, _ in model.predict_field(field, texts)
        ]

    card = read_transformers_card(path) or {}
    if not card.get("field"):
        raise ModelError(
            f"{path}: neither a linear model nor a transformers model trained by yuqing"
        )
    loaded = TransformersModel.load(path)
    return [card["field"]], lambda texts, _field: [label for label, _ in loaded.predict(texts)]


def evaluate_file(
    settings: Settings,
    path: Path,
    model: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Scores per labelled field, which judged it, and the fields that could not be scored."""
    rows = load_jsonl(path)
    gold_fields = [f for f in EVAL_FIELDS if any(label_of(r, f) is not None for r in rows)]
    if not gold_fields:
        raise ValueError(f"{path}: no labels to compare with (any of {', '.join(EVAL_FIELDS)})")
    model_fields: list[str] = []
    ask_model: Callable[[list[str], str], list[str]] | None = None
    if model is not None:
        model_fields, ask_model = _model_predictor(model)
    by_model = [f for f in gold_fields if f in model_fields]
    by_classifier = [f for f in gold_fields if f not in by_model and f != "label"]
    skipped = {
        f: "only a model trained for it can judge it: pass --model DIR"
        for f in gold_fields
        if f not in by_model and f not in by_classifier
    }
    classifier = build_classifier(settings) if by_classifier else None
    predictions: dict[str, list[object]] = {f: [] for f in by_model + by_classifier}
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        if classifier is not None:
            judgements = classifier.classify_many([(r.get("title"), str(r["text"])) for r in batch])
            for field in by_classifier:
                predictions[field] += [getattr(j, field) for j in judgements]
        if ask_model is not None and by_model:
            texts = [normalise(str(r["text"])) for r in batch]
            for field in by_model:
                predictions[field] += ask_model(texts, field)
        if progress:
            progress(min(start + BATCH, len(rows)), len(rows))
    results = evaluate_rows(rows, predictions)
    costly = (
        negative_vs_neutral(rows, [str(p) for p in predictions["sentiment"]])
        if "sentiment" in predictions and any(r.get("category") for r in rows)
        else {}
    )
    judged_by = {f: str(model) for f in by_model} | {
        f: f"classifier ({settings.nlp.backend})" for f in by_classifier
    }
    return {
        "file": str(path),
        "rows": len(rows),
        "fields": {f: {**results[f], "judged_by": judged_by[f]} for f in results},
        "skipped": skipped,
        "negative_vs_neutral": costly,
    }
