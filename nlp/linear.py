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
import re
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nlp import harm
from nlp.calibration import calibrate
from nlp.cards import parse_card
from nlp.text import EMOTICON, Segmenter
from nlp.types import ModelError, Prediction

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion

    from nlp.types import Backend

log = logging.getLogger(__name__)

CARD = "model.json"
FEATURES = "features.joblib"
FORMAT = 2  # 2: features ignore @usernames and links
EXPLAIN_TERMS = 4  # deciding passages reported per judgement field
EXPLAIN_NGRAMS = 8  # strongest n-grams marked in the text to find them
_EDGES = re.compile(r"^[^\w\[]+|[^\w\]]+$")  # punctuation and spaces around a passage
BATCH = 2048  # texts featurised at once; bounds memory for very long lists

# The segmenter behind word features. It loads jieba's dictionary on first use, never at import;
# the office's user dictionary is deliberately not used, so a model does not depend on config.
_segmenter = Segmenter()


_USERNAME = re.compile(r"@[\w\-]+")
_LINK = re.compile(r"https?://\S+")


def feature_text(text: str) -> str:
    """What the features read: lower case, with @usernames and links reduced to "@" and
    "http": that a post mentions someone or links somewhere says something, which one rarely
    does. Module level so a fitted vectorizer can be pickled."""
    return _LINK.sub(" http ", _USERNAME.sub("@", text)).lower()


def jieba_words(text: str) -> list[str]:
    """jieba tokens of `text`; module level so a fitted vectorizer that uses it can be pickled."""
    return _segmenter.cut(text)


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
    nb_weighting: bool = False  # scale features by naive-Bayes log-count ratios (NB-LR)

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
                preprocessor=feature_text,
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
                    preprocessor=feature_text,
                ),
            )
        )
    return FeatureUnion(parts)


# The candidates `nlp.training.train` chooses from on its held-out split when no options are
# given. On SMP2020 three-way polarity (dev split) NB weighting over character 1-4-grams scored
# 0.81 against 0.79 for the default; on CED rumours word unigrams scored 0.91 against 0.89; on
# the corpus the default was best.
CANDIDATES: dict[str, LinearOptions] = {
    "chars": LinearOptions(),
    "chars-nb": LinearOptions(char_ngrams=(1, 4), nb_weighting=True),
    "chars-words": LinearOptions(word_ngrams=(1, 1)),
}


class NBLogisticRegression:
    """Logistic regression on features scaled by naive-Bayes log-count ratios, one-vs-rest
    (Wang and Manning 2012, "NBSVM"). Written here because scikit-learn has no such estimator.

    It offers what `LinearBackend` uses of a scikit-learn classifier: `fit`, `predict`,
    `predict_proba`, `classes_` and `coef_` (the effective weight of each feature per class).
    """

    def __init__(self, C: float, class_weight: str | None, alpha: float = 1.0) -> None:
        self.C, self.class_weight, self.alpha = C, class_weight, alpha

    def fit(self, X: Any, y: Sequence[str]) -> NBLogisticRegression:
        from sklearn.linear_model import LogisticRegression

        labels = np.asarray(y)
        self.classes_ = np.array(sorted(set(labels.tolist())))
        present = (X > 0).astype(np.float64)
        # Two classes need one model, for the second class, as LogisticRegression does.
        targets = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
        self.ratios_, self.models_ = [], []
        for target in targets:
            inside = np.asarray(present[labels == target].sum(axis=0)).ravel() + self.alpha
            outside = np.asarray(present[labels != target].sum(axis=0)).ravel() + self.alpha
            ratio = np.log((inside / inside.sum()) / (outside / outside.sum()))
            model = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=5000)
            self.ratios_.append(ratio)
            self.models_.append(model.fit(X.multiply(ratio).tocsr(), labels == target))
        return self

    @property
    def coef_(self) -> Any:
        return np.vstack([m.coef_[0] * r for m, r in zip(self.models_, self.ratios_, strict=True)])

    def predict_proba(self, X: Any) -> Any:
        scores = np.column_stack(
            [
                m.predict_proba(X.multiply(r).tocsr())[:, 1]
                for m, r in zip(self.models_, self.ratios_, strict=True)
            ]
        )
        if len(self.classes_) == 2:
            return np.column_stack([1 - scores[:, 0], scores[:, 0]])
        return scores / scores.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> Any:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def make_classifier(options: LinearOptions) -> LogisticRegression | NBLogisticRegression:
    from sklearn.linear_model import LogisticRegression

    if options.nb_weighting:
        return NBLogisticRegression(options.C, options.class_weight)
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
    import sklearn

    return str(sklearn.__version__)
