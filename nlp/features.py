"""The linear model's parts: what its features read (`feature_text`, word tokens), the feature
extractor, the classifiers (logistic regression, or NB-weighted logistic regression), the options
that choose among them and the candidates training tries.

Features are character 1-3-grams by default. Word n-grams from jieba are an option
(`LinearOptions.word_ngrams`). They add 0.01-0.02 macro-F1 on the CED rumour set, at most
0.01 on the corpus and nothing on SMP2020. They also cut batched speed on 200-character texts
from about 4,400 to about 1,150 texts a second on one core, because jieba segments only
750-1,200 such texts a second. Lexicon features were tried and cost about 0.01 category
macro-F1 on the corpus, so they are not used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nlp.text import Segmenter

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion

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
    # scikit-learn is imported on first use: `yuqing` commands that judge nothing start faster.
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
        # scikit-learn is imported on first use: `yuqing` commands that judge nothing start faster.
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
    # scikit-learn is imported on first use: `yuqing` commands that judge nothing start faster.
    from sklearn.linear_model import LogisticRegression

    if options.nb_weighting:
        return NBLogisticRegression(options.C, options.class_weight)
    return LogisticRegression(C=options.C, class_weight=options.class_weight, max_iter=5000)
