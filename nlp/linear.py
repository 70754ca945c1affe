"""The linear backend: TF-IDF n-grams shared by one logistic regression per judgement field.

It owns the model directory format and prediction; the features and classifiers it is made of
are `nlp.features`', fitting, held-out evaluation and the model card's contents `nlp.training`'s.

A model directory holds `model.json` (the model card), `features.joblib` (the fitted feature
extractor, shared by every field, so a text is featurised once) and one `<field>.joblib`
classifier per trained field (`sentiment`, `category`, or any other such as `label`).
The joblib files are pickles: load only directories you trained yourself.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nlp import harm
from nlp.calibration import calibrate
from nlp.cards import parse_card

# Models pickled before `nlp.features` existed name these three as `nlp.linear.<name>`; unpickling
# them looks the names up here.
from nlp.features import NBLogisticRegression as NBLogisticRegression
from nlp.features import feature_text as feature_text
from nlp.features import jieba_words as jieba_words
from nlp.text import EMOTICON
from nlp.types import Backend, ModelError, Prediction

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion

log = logging.getLogger(__name__)

CARD = "model.json"
FEATURES = "features.joblib"
FORMAT = 2  # 2: features ignore @usernames and links
EXPLAIN_TERMS = 4  # deciding passages reported per judgement field
EXPLAIN_NGRAMS = 8  # strongest n-grams marked in the text to find them
_EDGES = re.compile(r"^[^\w\[]+|[^\w\]]+$")  # punctuation and spaces around a passage
BATCH = 2048  # texts featurised at once; bounds memory for very long lists


def save_model(
    out_dir: Path,
    features: FeatureUnion,
    classifiers: dict[str, LogisticRegression],
    card: dict[str, Any],
) -> None:
    """Write a model directory, replacing the model files a previous model left there."""
    # joblib (scikit-learn's pickler) is imported with the model, not with the module.
    import joblib

    out_dir.mkdir(parents=True, exist_ok=True)
    stale = [CARD, FEATURES]
    try:
        stale += [f"{f}.joblib" for f in read_card(out_dir)["fields"]]
    except ModelError:
        pass  # no previous model, or a broken one: only the standard names are replaced
    for name in stale:
        (out_dir / name).unlink(missing_ok=True)
    joblib.dump(features, out_dir / FEATURES, compress=3)
    for field, classifier in classifiers.items():
        joblib.dump(classifier, out_dir / f"{field}.joblib", compress=3)
    # The card goes last: a directory with a card is a complete model.
    (out_dir / CARD).write_text(
        json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def read_card(path: Path) -> dict[str, Any]:
    """The model card of directory `path`, checked for format and for the files it names."""
    card_path = path / CARD
    if not card_path.is_file():
        raise ModelError(f"{path}: no {CARD}; train a model with `yuqing train`")
    card = parse_card(card_path, "linear", FORMAT)
    names = [FEATURES, *(f"{f}.joblib" for f in card.get("fields", {}))]
    missing = [name for name in names if not (path / name).is_file()]
    if missing:
        raise ModelError(f"{path}: model files missing: {', '.join(missing)}")
    return card


class LinearBackend:
    """Sentiment and category from a trained model directory.

    A field whose model is not in the directory falls back to nothing: `load` raises
    `ModelError` naming it, unless a `fallback` backend is passed, which then supplies that
    field (and only that field). A model of another field such as `label` is reachable through
    `predict_field`.
    """

    name = "linear"

    def __init__(self, path: Path, card: dict[str, Any], fallback: Backend | None = None) -> None:
        self.path = path
        self.card = card
        self.fallback = fallback
        self._lock = threading.Lock()
        self._features: FeatureUnion | None = None
        self._classifiers: dict[str, LogisticRegression] = {}
        self._weights: dict[str, Any] = {}
        self._feature_names: list[str] | None = None

    @classmethod
    def load(
        cls, path: Path, fallback: Backend | None = None, *, partial: bool = False
    ) -> LinearBackend:
        """Check the directory and its card now; the model files load on first prediction.

        `partial` accepts a model without sentiment or category (a rumour model) for use
        through `predict_field` only.
        """
        card = read_card(path)
        missing = [f for f in ("sentiment", "category") if f not in card["fields"]]
        if missing and fallback is None and not partial:
            raise ModelError(
                f"{path}: no model for {', '.join(missing)} (it has {', '.join(card['fields'])});"
                " train one or pass a fallback backend for it"
            )
        installed = sklearn_version()
        if card.get("sklearn") != installed:
            log.warning(
                "%s was trained with scikit-learn %s, %s is installed; retrain if predictions fail",
                path,
                card.get("sklearn"),
                installed,
            )
        return cls(path, card, fallback)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.card["fields"])

    def _load(self) -> tuple[FeatureUnion, dict[str, LogisticRegression]]:
        with self._lock:
            if self._features is None:
                # joblib (scikit-learn's pickler) is imported with the model, not with the module.
                import joblib

                classifiers = {f: joblib.load(self.path / f"{f}.joblib") for f in self.fields}
                self._features = joblib.load(self.path / FEATURES)
                self._classifiers = classifiers
            return self._features, self._classifiers

    def _terms(self, field: str, label: str, text: str, data: Any, indices: Any) -> tuple[str, ...]:
        """The passages of one text that pushed `field` most towards `label`; `data` and
        `indices` are the text's row of the feature matrix (its values and their columns).

        An n-gram's push is its TF-IDF value times its weight for `label` minus its mean weight
        over all labels, so n-grams common to every label do not count. The strongest n-grams
        are marked in the text and overlapping marks merged, so a reader sees "假普查员上门"
        rather than the fragments "假普查", "查员上" and "员上门".
        """
        classifier = self._classifiers[field]
        weights = self._relative_weights(field)[list(classifier.classes_).index(label)]
        push = data * weights[indices]
        names = self._names()
        lowered = text.lower()  # the vectorizer lowercases
        strength = [0.0] * len(text)
        for position in push.argsort()[::-1][:EXPLAIN_NGRAMS]:
            value = float(push[position])
            if value <= 0:
                break
            gram = names[indices[position]]
            start = lowered.find(gram)
            while start != -1:
                for i in range(start, start + len(gram)):
                    strength[i] += value
                start = lowered.find(gram, start + 1)
        if "[" in text:
            for emoticon in EMOTICON.finditer(text):  # a marked emoticon is shown whole: "[赞]"
                inside = strength[emoticon.start() : emoticon.end()]
                if any(inside):
                    strength[emoticon.start() : emoticon.end()] = [max(inside)] * len(inside)
        # Every push added is positive: the marked characters are the ones above zero, and a
        # passage is a run of them.
        marked = [i for i, value in enumerate(strength) if value]
        spans: list[tuple[float, str]] = []
        run = 0
        for k in range(len(marked)):
            if k + 1 == len(marked) or marked[k + 1] != marked[k] + 1:
                i, j = marked[run], marked[k] + 1
                passage = _EDGES.sub("", text[i:j])
                if len(passage) >= 2:
                    spans.append((max(strength[i:j]), passage))
                run = k + 1
        spans.sort(key=lambda span: -span[0])
        return tuple(dict.fromkeys(passage for _, passage in spans[:EXPLAIN_TERMS]))

    def _relative_weights(self, field: str) -> Any:
        cached = self._weights.get(field)
        if cached is None:
            coef = self._classifiers[field].coef_
            if coef.shape[0] == 1:  # binary: one row of weights, for the second class
                coef = np.vstack([-coef[0], coef[0]])
            cached = self._weights[field] = coef - coef.mean(axis=0)
        return cached

    def _names(self) -> list[str]:
        if self._feature_names is None:
            features, _ = self._load()
            # FeatureUnion prefixes each name with its part ("chars__上门").
            self._feature_names = [
                name.split("__", 1)[1] for name in features.get_feature_names_out()
            ]
        return self._feature_names

    def predict_fields(
        self, texts: Sequence[str], fields: Sequence[str] | None = None, *, explain: bool = False
    ) -> dict[str, list[tuple[str, float, tuple[str, ...]]]]:
        """(label, probability, deciding terms) per text for each of `fields` (default: every
        trained field). The terms are empty unless `explain` is set."""
        return {
            field: [(label, score, terms) for label, score, _, terms in rows]
            for field, rows in self._predict(texts, fields, explain).items()
        }

    def temperature(self, field: str) -> float:
        """The field's calibration temperature from the card (1.0: an uncalibrated model)."""
        return float(self.card["fields"][field].get("temperature", 1.0))

    def _predict(
        self, texts: Sequence[str], fields: Sequence[str] | None, explain: bool
    ) -> dict[str, list[tuple[str, float, float, tuple[str, ...]]]]:
        """(label, calibrated probability, margin over the runner-up, terms) per text."""
        features, classifiers = self._load()
        wanted = list(self.fields if fields is None else fields)
        unknown = [f for f in wanted if f not in classifiers]
        if unknown:
            raise ModelError(f"{self.path}: no model for {', '.join(unknown)}")
        out: dict[str, list[tuple[str, float, float, tuple[str, ...]]]] = {f: [] for f in wanted}
        for start in range(0, len(texts), BATCH):
            batch = list(texts[start : start + BATCH])
            matrix = features.transform(batch).tocsr()
            for field in wanted:
                classifier = classifiers[field]
                probabilities = calibrate(classifier.predict_proba(matrix), self.temperature(field))
                ranked = np.sort(probabilities, axis=1)
                margins = ranked[:, -1] - (ranked[:, -2] if ranked.shape[1] > 1 else 0.0)
                best = probabilities.argmax(axis=1)
                labels = [str(label) for label in classifier.classes_[best]]
                scores = probabilities[range(len(best)), best]
                pointers = matrix.indptr
                for i, (label, score) in enumerate(zip(labels, scores, strict=True)):
                    row = slice(pointers[i], pointers[i + 1])
                    terms = (
                        self._terms(field, label, batch[i], matrix.data[row], matrix.indices[row])
                        if explain
                        else ()
                    )
                    out[field].append((label, float(score), float(margins[i]), terms))
        return out

    def predict_field(self, field: str, texts: Sequence[str]) -> list[tuple[str, float]]:
        return [(label, p) for label, p, _ in self.predict_fields(texts, [field])[field]]

    def predict(self, texts: list[str]) -> list[Prediction]:
        """Sentiment and category, with their deciding terms, for each normalised text."""
        if not texts:
            return []
        own = [f for f in ("sentiment", "category") if f in self.fields]
        ranked = self._predict(texts, own, explain=True)
        predicted = {
            field: [(label, score, terms) for label, score, _, terms in rows]
            for field, rows in ranked.items()
        }
        margins = [m for _, _, m, _ in ranked["sentiment"]] if "sentiment" in ranked else None
        if len(own) < 2:
            if self.fallback is None:
                raise ModelError(f"{self.path}: judges {', '.join(self.fields)} only")
            borrowed = self.fallback.predict(texts)
            if "sentiment" not in predicted:
                predicted["sentiment"] = [
                    (p.sentiment, p.sentiment_score, p.sentiment_terms) for p in borrowed
                ]
                margins = [p.sentiment_margin for p in borrowed]
            if "category" not in predicted:
                predicted["category"] = [
                    (p.category, p.category_score, p.category_terms) for p in borrowed
                ]
        assert margins is not None
        # The guideline's reading of calm reports of harm (`nlp.harm`) completes the model's.
        return harm.apply(
            list(texts),
            [
                Prediction(sentiment, s_prob, category, c_prob, s_terms, c_terms, margin)
                for (sentiment, s_prob, s_terms), (category, c_prob, c_terms), margin in zip(
                    predicted["sentiment"], predicted["category"], margins, strict=True
                )
            ],
        )


def sklearn_version() -> str:
    # scikit-learn is imported on first use: `yuqing` commands that judge nothing start faster.
    import sklearn

    return str(sklearn.__version__)
