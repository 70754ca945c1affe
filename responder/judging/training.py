"""`yuqing train`: which fields to train, where the model goes, and what the user is told.

The fitting itself is `nlp.training`'s (linear) and `nlp.transformer`'s (fine-tuning).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nlp.evaluation import label_of
from nlp.features import CANDIDATES
from nlp.finetune import fine_tune
from nlp.training import (
    SHIPPED_MODEL,
    build_shipped_model,
    corpus_rows,
    describe_corpus,
    describe_file,
    load_jsonl,
    train,
)
from responder.settings import Settings

# Fields `yuqing train` picks by itself, in this order, when the data has their labels; a
# file with none of them (a rumour set's `label: rumor|non_rumor`) trains `label`.
DEFAULT_FIELDS = ("sentiment", "category", "misinfo")


@dataclass
class TrainingResult:
    model_dir: Path
    backend: str
    fields: list[str]
    metrics: dict[str, dict[str, Any]]  # held-out (or domain test set) scores per field
    rows: int
    hints: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": str(self.model_dir),
            "backend": self.backend,
            "fields": self.fields,
            "rows": self.rows,
            "metrics": {
                f: {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "n": m["n"]}
                for f, m in self.metrics.items()
            },
        }


def fields_in(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The fields whose labels the rows carry, at least two different ones each."""

    def trainable(field: str) -> bool:
        return len({label_of(r, field) for r in rows} - {None}) >= 2

    found = [f for f in DEFAULT_FIELDS if trainable(f)]
    if found:
        return found
    return ["label"] if trainable("label") else []


def train_shipped(settings: Settings) -> TrainingResult:
    """Rebuild the shipped model from the corpus; its scores are on the corpus's test set."""
    try:
        SHIPPED_MODEL.parent.mkdir(parents=True, exist_ok=True)
        out = SHIPPED_MODEL
        metrics = build_shipped_model(out)
    except PermissionError:
        out = settings.data_dir / "models" / "shipped"
        metrics = build_shipped_model(out)
    return TrainingResult(out, "linear", ["sentiment", "category"], metrics, len(corpus_rows()))


def train_file(
    settings: Settings,
    data: Path,
    fields: Sequence[str] = (),
    *,
    backend: str = "linear",
    base_model: Path | None = None,
    output: Path | None = None,
    holdout: float = 0.15,
    with_corpus: bool = False,
    epochs: int = 3,
    features: str = "auto",
    progress: Callable[[str], None] | None = None,
) -> TrainingResult:
    """Train on a labelled JSONL file; raises ValueError with a message for the user."""
    rows = load_jsonl(data)
    described = describe_file(data)
    if with_corpus:
        rows = rows + corpus_rows()
        described["with"] = describe_corpus()["path"]
    chosen = list(fields) or fields_in(rows)
    if not chosen:
        raise ValueError(
            f"{data}: no labels to train on (looked for sentiment, polarity, category, misinfo,"
            " label)"
        )
    # "smp2020_ewect-train": data sets are often split into train/dev/test files of one name.
    name = f"{data.parent.name}-{data.stem}" if data.parent.name else data.stem
    if backend != "linear":
        name += f"-{backend}"
    out = output or settings.data_dir / "models" / name
    if backend == "linear":
        if features != "auto" and features not in CANDIDATES:
            raise ValueError(f"unknown features {features!r}; expected auto or {list(CANDIDATES)}")
        options = None if features == "auto" else CANDIDATES[features]
        metrics = train(
            rows, chosen, out, holdout, options=options, data=described, progress=progress
        )
    elif backend == "transformers":
        if base_model is None:
            raise ValueError("--backend transformers needs --base-model DIR")
        if len(chosen) != 1:
            raise ValueError(
                f"a transformers model judges one field; pick one with --field (found {chosen})"
            )
        metrics = {
            chosen[0]: fine_tune(
                rows,
                chosen[0],
                base_model,
                out,
                holdout=holdout,
                epochs=epochs,
                max_length=settings.nlp.max_length,
                data=described,
                progress=progress,
            )
        }
        metrics = {f: m for f, m in metrics.items() if m}
    else:
        raise ValueError(f"unknown backend {backend!r}; expected linear or transformers")
    return TrainingResult(out, backend, chosen, metrics, len(rows), _hints(out, backend, chosen))


def _hints(out: Path, backend: str, fields: list[str]) -> list[str]:
    path = str(out)
    if backend == "transformers":
        return [
            f'set nlp.{f}.model_path = "{path}" and nlp.backend = "transformers"'
            for f in fields
            if f in ("sentiment", "category")
        ]
    hints = []
    if {"sentiment", "category"} & set(fields):
        hints.append(f'set nlp.model_path = "{path}" to classify with it')
    if {"label", "misinfo"} & set(fields):
        hints.append(f'set nlp.rumor.model_path = "{path}" to use it as rumour evidence')
    return hints
