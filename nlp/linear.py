"""The linear backend: TF-IDF n-grams shared by one logistic regression per judgement field.

It owns the model itself (features and classifier), the model directory format and prediction;
fitting, held-out evaluation and the model card's contents are `nlp.training`'s.

A model directory holds `model.json` (the model card), `features.joblib` (the fitted feature
extractor, shared by every field, so a text is featurised once) and one `<field>.joblib`
classifier per trained field (`sentiment`, `category`, or any other such as `label`).
The joblib files are pickles: load only directories you trained yourself.

Features are character 1-3-grams by default. Word n-grams from jieba are an option
(`LinearOptions.word_ngrams`). They add 0.01-0.02 macro-F1 on the CED rumour set, at most
0.01 on the corpus and nothing on SMP2020. They also cut batched speed on 200-character texts
from about 4,400 to about 1,150 texts a second on one core, because jieba segments only
750-1,200 such texts a second. Lexicon features were tried and cost about 0.01 category
macro-F1 on the corpus, so they are not used.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nlp.text import Segmenter

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion

    from nlp.classifier import Backend

log = logging.getLogger(__name__)

CARD = "model.json"
FEATURES = "features.joblib"
FORMAT = 1
BATCH = 2048  # texts featurised at once; bounds memory for very long lists

# The segmenter behind word features. It loads jieba's dictionary on first use, never at import;
# the office's user dictionary is deliberately not used, so a model does not depend on config.
_segmenter = Segmenter()


def jieba_words(text: str) -> list[str]:
    """jieba tokens of `text`; module level so a fitted vectorizer that uses it can be pickled."""
    return _segmenter.cut(text)


class ModelError(ValueError):
    """A model directory that is missing, incomplete, of another format, or lacks a field."""


@dataclass(frozen=True)
class LinearOptions:
    """Feature and classifier settings, recorded in the model card.

    The alternatives tried were character 1-2-, 1-3- and 1-4-grams, word unigrams on top,
    min_df 1 or 2, C from 1 to 30, balanced or unbalanced class weights, and LinearSVC. They were
    scored with 5-fold cross-validation on the corpus and on the test splits of SMP2020 and CED.
    These defaults were best or within 0.01 macro-F1 of the best, except on CED, where word
    unigrams add about 0.02. Unbalanced weights or C=1 cost 0.03-0.1 sentiment macro-F1 on the
    corpus.
    """

    char_ngrams: tuple[int, int] = (1, 3)
    word_ngrams: tuple[int, int] | None = None  # e.g. (1, 1); slow, see the module docstring
    min_df: int = 2  # n-grams seen in one training text only are noise and bloat the model
    C: float = 10.0
    class_weight: str | None = "balanced"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_features(options: LinearOptions) -> FeatureUnion:
    """An unfitted feature extractor: sublinear TF-IDF over character (and word) n-grams."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    parts: list[tuple[str, Any]] = [
        (
            "chars",
            TfidfVectorizer(
                analyzer="char",
                ngram_range=options.char_ngrams,
                min_df=options.min_df,
                sublinear_tf=True,
                lowercase=True,
            ),
        )
    ]
    if options.word_ngrams is not None:
        parts.append(
            (
                "words",
                TfidfVectorizer(
                    tokenizer=jieba_words,
                    token_pattern=None,
                    ngram_range=options.word_ngrams,
                    min_df=options.min_df,
                    sublinear_tf=True,
                    lowercase=False,
                ),
            )
        )
    return FeatureUnion(parts)


def make_classifier(options: LinearOptions) -> LogisticRegression:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=options.C, class_weight=options.class_weight, max_iter=5000)


def save_model(
    out_dir: Path,
    features: FeatureUnion,
    classifiers: dict[str, LogisticRegression],
    card: dict[str, Any],
) -> None:
    """Write a model directory, replacing the model files a previous model left there."""
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
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelError(f"{card_path}: not valid JSON ({exc})") from exc
    if (
        not isinstance(card, dict)
        or card.get("format") != FORMAT
        or card.get("backend") != "linear"
    ):
        raise ModelError(f"{card_path}: not a linear model card of format {FORMAT}")
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

    @classmethod
    def load(cls, path: Path, fallback: Backend | None = None) -> LinearBackend:
        """Check the directory and its card now; the model files load on first prediction."""
        card = read_card(path)
        missing = [f for f in ("sentiment", "category") if f not in card["fields"]]
        if missing and fallback is None:
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
                import joblib

                classifiers = {f: joblib.load(self.path / f"{f}.joblib") for f in self.fields}
                self._features = joblib.load(self.path / FEATURES)
                self._classifiers = classifiers
            return self._features, self._classifiers

    def predict_fields(
        self, texts: Sequence[str], fields: Sequence[str] | None = None
    ) -> dict[str, list[tuple[str, float]]]:
        """(label, probability) per text for each of `fields` (default: every trained field)."""
        features, classifiers = self._load()
        wanted = list(self.fields if fields is None else fields)
        unknown = [f for f in wanted if f not in classifiers]
        if unknown:
            raise ModelError(f"{self.path}: no model for {', '.join(unknown)}")
        out: dict[str, list[tuple[str, float]]] = {f: [] for f in wanted}
        for start in range(0, len(texts), BATCH):
            matrix = features.transform(list(texts[start : start + BATCH]))
            for field in wanted:
                classifier = classifiers[field]
                probabilities = classifier.predict_proba(matrix)
                best = probabilities.argmax(axis=1)
                labels = classifier.classes_[best]
                scores = probabilities[range(len(best)), best]
                out[field].extend(
                    (str(label), float(score)) for label, score in zip(labels, scores, strict=True)
                )
        return out

    def predict_field(self, field: str, texts: Sequence[str]) -> list[tuple[str, float]]:
        return self.predict_fields(texts, [field])[field]

    def predict(self, texts: list[str]) -> list[tuple[str, float, str, float]]:
        """(sentiment, probability, category, probability) for each normalised text."""
        if not texts:
            return []
        own = [f for f in ("sentiment", "category") if f in self.fields]
        predicted = self.predict_fields(texts, own)
        if len(own) < 2:
            assert self.fallback is not None  # load() refuses a missing field without one
            borrowed = self.fallback.predict(texts)
            if "sentiment" not in predicted:
                predicted["sentiment"] = [(s, p) for s, p, _, _ in borrowed]
            if "category" not in predicted:
                predicted["category"] = [(c, p) for _, _, c, p in borrowed]
        return [
            (sentiment, s_prob, category, c_prob)
            for (sentiment, s_prob), (category, c_prob) in zip(
                predicted["sentiment"], predicted["category"], strict=True
            )
        ]


def sklearn_version() -> str:
    import sklearn

    return str(sklearn.__version__)
