"""The transformers backend: local Hugging Face sequence-classification models, one per field.

It owns checking and loading a model directory, batched prediction, and the model card
(`yuqing.json`) a fine-tuned directory carries; fine-tuning a base model is `nlp.finetune`'s.

A model directory is whatever `save_pretrained` writes for a model and its tokenizer:
`config.json` (whose `id2label` names the labels), the weights and the tokenizer files. Only
local directories are read; nothing is downloaded. `nlp.finetune` adds `yuqing.json`, which records
the field the model judges, its training data and held-out scores; a directory without one
(any classifier fine-tuned elsewhere) still loads, its field is then unknown.

Weights may be pickles (`pytorch_model.bin`) in directories from elsewhere: load only
directories you trust. `transformers` and `torch` are imported on first use, never at import.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nlp import harm
from nlp.cards import parse_card
from nlp.types import CATEGORIES, SENTIMENTS, Backend, ModelError, Prediction

log = logging.getLogger(__name__)

CARD = "yuqing.json"
FORMAT = 1
# Any one of these makes a tokenizer: the fast tokenizer's own file or a slow one's vocabulary.
TOKENIZER_FILES = (
    "tokenizer.json",
    "vocab.txt",
    "vocab.json",
    "spiece.model",
    "sentencepiece.bpe.model",
    "tokenizer.model",
)
WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
# Labels a field's model may predict; a field not listed here may use any labels.
FIELD_LABELS: dict[str, tuple[str, ...]] = {"sentiment": SENTIMENTS, "category": CATEGORIES}


def read_card(path: Path) -> dict[str, Any] | None:
    """The `yuqing.json` card of model directory `path`, or None when it has none.

    A card that is there but unreadable, or not a transformers card of this format, raises
    `ModelError`: such a directory was written by something else or only half written.
    """
    card_path = path / CARD
    if not card_path.is_file():
        return None
    return parse_card(card_path, "transformers", FORMAT)


def _read_labels(path: Path) -> tuple[dict[str, Any], tuple[str, ...]]:
    """config.json of `path` and its labels in id order; ModelError when either is unusable."""
    config_path = path / "config.json"
    if not config_path.is_file():
        raise ModelError(f"{path}: no config.json; not a Hugging Face model directory")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{config_path}: not valid JSON ({exc})") from exc
    if not isinstance(config, dict) or not config.get("model_type"):
        raise ModelError(f"{config_path}: no model_type; not a transformers model config")
    id2label = config.get("id2label")
    if not isinstance(id2label, dict) or not id2label:
        raise ModelError(f"{config_path}: config has no id2label, so its labels are unknown")
    try:
        by_id = {int(i): str(label) for i, label in id2label.items()}
    except ValueError as exc:
        raise ModelError(f"{config_path}: id2label has a non-integer id ({exc})") from exc
    if sorted(by_id) != list(range(len(by_id))):
        raise ModelError(f"{config_path}: id2label ids are not 0..{len(by_id) - 1}")
    labels = tuple(by_id[i] for i in range(len(by_id)))
    if len(set(labels)) != len(labels):
        raise ModelError(f"{config_path}: id2label repeats a label: {list(labels)}")
    return config, labels


def has_tokenizer(path: Path) -> bool:
    return any((path / name).is_file() for name in TOKENIZER_FILES)


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    # torch takes seconds to import: only a transformers backend in use pays for it.
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def token_limit(max_length: int, tokenizer: Any, model: Any) -> int:
    """`max_length`, capped by what the model's position embeddings and tokenizer allow.

    A text longer than the model's positions would crash it; tokenizers without a limit report
    a huge `model_max_length`, so the config's `max_position_embeddings` caps them too.
    """
    limits = [max_length]
    positions = getattr(model.config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        limits.append(positions)
    declared = getattr(tokenizer, "model_max_length", None)
    if isinstance(declared, int) and 0 < declared < 1_000_000:
        limits.append(declared)
    return min(limits)


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' progress bars and load report around one load or save.

    Loading prints a progress bar and, when weights are reinitialised, a report table on the
    `transformers` logger. Callers check `output_loading_info` themselves and say what matters
    through this module's logger, so the table is noise. The settings are process-wide:
    they are put back afterwards.
    """
    # transformers takes seconds to import: only a transformers backend in use pays for it.
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def predict_batches(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    device: str,
    max_length: int,
    batch_size: int,
) -> list[tuple[int, float]]:
    """(label id, its probability) per text; texts are padded per batch, not to `max_length`."""
    # torch takes seconds to import: only a transformers backend in use pays for it.
    import torch

    out: list[tuple[int, float]] = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(
                list(texts[start : start + batch_size]),
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            ).to(device)
            probabilities = torch.softmax(model(**batch).logits.float(), dim=-1)
            scores, best = probabilities.max(dim=-1)
            out.extend(zip(best.tolist(), scores.tolist(), strict=True))
    return out


class TransformersModel:
    """One fine-tuned sequence classifier: a local directory with config, weights and tokenizer.

    `load` checks the directory; the tokenizer and weights load on first prediction, once,
    under a lock, so loading a backend that is never used costs nothing.
    """

    def __init__(
        self,
        path: Path,
        labels: tuple[str, ...],
        card: dict[str, Any] | None,
        *,
        device: str = "auto",
        max_length: int = 256,
        batch_size: int = 32,
    ) -> None:
        self._path = path
        self._labels = labels
        self.card = card
        self.device = device
        self.max_length = max_length
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._loaded: tuple[Any, Any, str, int] | None = None  # model, tokenizer, device, limit

    @classmethod
    def load(
        cls, path: Path, *, device: str = "auto", max_length: int = 256, batch_size: int = 32
    ) -> TransformersModel:
        """Check that `path` is a classification model directory; raise ModelError if not."""
        path = Path(path)
        if not path.exists():
            raise ModelError(f"{path}: no such model directory")
        if not path.is_dir():
            raise ModelError(f"{path}: not a directory")
        _, labels = _read_labels(path)
        if not has_tokenizer(path):
            raise ModelError(
                f"{path}: no tokenizer files (looked for {', '.join(TOKENIZER_FILES)});"
                " save the tokenizer with the model"
            )
        if not any((path / name).is_file() for name in WEIGHT_FILES):
            raise ModelError(f"{path}: no model weights (looked for {', '.join(WEIGHT_FILES)})")
        if max_length < 1 or batch_size < 1:
            raise ValueError(f"max_length ({max_length}) and batch_size ({batch_size}) must be > 0")
        card = read_card(path)
        if card is not None and list(card.get("labels", labels)) != list(labels):
            raise ModelError(
                f"{path}: {CARD} names labels {card.get('labels')}, config.json {list(labels)}"
            )
        return cls(path, labels, card, device=device, max_length=max_length, batch_size=batch_size)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels in id order, from config.json's `id2label`."""
        return self._labels

    @property
    def field(self) -> str | None:
        """The judgement field from the model card, or None for a directory without one."""
        if self.card is None:
            return None
        field = self.card.get("field")
        return str(field) if field is not None else None

    def _load(self) -> tuple[Any, Any, str, int]:
        with self._lock:
            if self._loaded is None:
                # transformers takes seconds to import: it is imported with the first model.
                from transformers import AutoModelForSequenceClassification, AutoTokenizer

                device = resolve_device(self.device)
                with quiet_transformers():
                    tokenizer = AutoTokenizer.from_pretrained(self.path)
                    model, info = AutoModelForSequenceClassification.from_pretrained(
                        self.path, output_loading_info=True
                    )
                # Weights transformers had to make up would predict noise: a bare encoder
                # (no classification head) or a head of another size is not a usable model.
                made_up = sorted(info["missing_keys"]) + sorted(
                    key for key, *_ in info["mismatched_keys"]
                )
                if made_up:
                    raise ModelError(
                        f"{self.path}: weights missing from the checkpoint: {', '.join(made_up)};"
                        " is it a fine-tuned classification model?"
                    )
                if tokenizer.pad_token is None:
                    raise ModelError(f"{self.path}: the tokenizer has no padding token")
                model.to(device).eval()
                self._loaded = (
                    model,
                    tokenizer,
                    device,
                    token_limit(self.max_length, tokenizer, model),
                )
            return self._loaded

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """(label, probability of that label) per text; texts longer than `max_length` tokens
        are truncated."""
        if not texts:
            return []
        model, tokenizer, device, limit = self._load()
        predicted = predict_batches(
            model,
            tokenizer,
            texts,
            device=device,
            max_length=limit,
            batch_size=self.batch_size,
        )
        return [(self._labels[i], float(p)) for i, p in predicted]


class TransformersBackend:
    """Sentiment and category from one transformers model each; a field without a model comes
    from the `fallback` backend, whose prediction of the other field is ignored."""

    name = "transformers"

    def __init__(
        self,
        sentiment: TransformersModel | None,
        category: TransformersModel | None,
        fallback: Backend | None = None,
    ) -> None:
        missing = [f for f, m in (("sentiment", sentiment), ("category", category)) if m is None]
        if missing and fallback is None:
            raise ModelError(
                f"no transformers model for {' or '.join(missing)}; pass one or a fallback backend"
            )
        for field, model in (("sentiment", sentiment), ("category", category)):
            if model is None:
                continue
            if model.field is not None and model.field != field:
                raise ModelError(f"{model.path}: a {model.field} model, not a {field} model")
            unexpected = [label for label in model.labels if label not in FIELD_LABELS[field]]
            if unexpected:
                raise ModelError(
                    f"{model.path}: labels {unexpected} are not {field} labels;"
                    f" expected some of {list(FIELD_LABELS[field])}"
                )
        self.sentiment = sentiment
        self.category = category
        self.fallback = fallback

    @classmethod
    def load(
        cls,
        sentiment: Path | None,
        category: Path | None,
        fallback: Backend | None = None,
        *,
        device: str = "auto",
        max_length: int = 256,
        batch_size: int = 32,
    ) -> TransformersBackend:
        """The backend over model directories `sentiment` and `category` (either may be None)."""
        options: dict[str, Any] = {
            "device": device,
            "max_length": max_length,
            "batch_size": batch_size,
        }
        return cls(
            TransformersModel.load(sentiment, **options) if sentiment is not None else None,
            TransformersModel.load(category, **options) if category is not None else None,
            fallback,
        )

    def predict(self, texts: list[str]) -> list[Prediction]:
        """Sentiment and category for each normalised text.

        A model's field carries no deciding terms (a transformer points at no passage); a
        field taken from the fallback keeps the fallback's terms.
        """
        if not texts:
            return []
        borrowed: list[Prediction] = []
        if self.sentiment is None or self.category is None:
            assert self.fallback is not None  # __init__ refuses a missing field without one
            borrowed = self.fallback.predict(texts)
        no_terms: tuple[str, ...] = ()
        sentiments = (
            [(label, p, no_terms) for label, p in self.sentiment.predict(texts)]
            if self.sentiment is not None
            else [(b.sentiment, b.sentiment_score, b.sentiment_terms) for b in borrowed]
        )
        categories = (
            [(label, p, no_terms) for label, p in self.category.predict(texts)]
            if self.category is not None
            else [(b.category, b.category_score, b.category_terms) for b in borrowed]
        )
        if self.sentiment is None:
            # The fallback's sentiment already carries the harm reading (`nlp.harm`).
            return [
                Prediction(sentiment, s_prob, category, c_prob, s_terms, c_terms)
                for (sentiment, s_prob, s_terms), (category, c_prob, c_terms) in zip(
                    sentiments, categories, strict=True
                )
            ]
        return harm.apply(
            list(texts),
            [
                Prediction(sentiment, s_prob, category, c_prob, s_terms, c_terms)
                for (sentiment, s_prob, s_terms), (category, c_prob, c_terms) in zip(
                    sentiments, categories, strict=True
                )
            ],
        )
