"""The linear backend: training, the model directory, prediction and evaluation."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from nlp import normalise
from nlp.evaluation import evaluate, evaluate_rows, format_report, label_of
from nlp.features import CANDIDATES, LinearOptions
from nlp.lexicon import LexiconBackend
from nlp.linear import CARD, LinearBackend
from nlp.training import corpus_rows, corpus_test_rows, load_jsonl, train
from nlp.types import CATEGORIES, SENTIMENTS, ModelError

# Measured 2026-11-22 with the default options, trained on corpus_rows() and scored on
# corpus_test_rows(): sentiment 0.927, category 0.830. The margin absorbs corpus edits.
MIN_SENTIMENT_F1 = 0.87
MIN_CATEGORY_F1 = 0.77


@pytest.fixture(scope="module")
def corpus_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models") / "corpus"
    train(corpus_rows(), ["sentiment", "category"], out, holdout=0)
    return out


@pytest.fixture(scope="module")
def small_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Trained once for the module (a test that changes it works on a copy)."""
    out = tmp_path_factory.mktemp("models") / "small"
    train(corpus_rows()[::6], ["sentiment", "category"], out, holdout=0.2, data={"path": "x"})
    return out


def test_training_writes_a_model_directory_with_a_card(small_model: Path) -> None:
    card = json.loads((small_model / CARD).read_text(encoding="utf-8"))
    assert card["backend"] == "linear"
    assert card["data"] == {"path": "x", "rows": len(corpus_rows()[::6])}
    assert set(card["fields"]) == {"sentiment", "category"}
    assert card["fields"]["sentiment"]["labels"] == sorted(SENTIMENTS)
    assert card["fields"]["category"]["labels"] == sorted(CATEGORIES)
    holdout = card["fields"]["category"]["holdout"]
    assert holdout["test_rows"] + holdout["train_rows"] == card["fields"]["category"]["rows"]
    assert 0 < holdout["macro_f1"] <= 1
    assert {p.name for p in small_model.iterdir()} == {
        "model.json",
        "features.joblib",
        "sentiment.joblib",
        "category.joblib",
    }


def test_a_loaded_model_predicts_valid_labels_and_probabilities(small_model: Path) -> None:
    backend = LinearBackend.load(small_model)
    texts = [normalise(t) for t in ["假普查员上门索要银行卡验证码", "统计公报发布", ""]]
    predictions = backend.predict(texts)
    assert len(predictions) == 3
    for sentiment, s_prob, category, c_prob, s_terms, c_terms, margin in predictions:
        assert sentiment in SENTIMENTS and category in CATEGORIES
        assert 0 < s_prob <= 1 and 0 < c_prob <= 1 and 0 <= margin <= s_prob
        assert all(isinstance(term, str) and len(term) >= 2 for term in s_terms + c_terms)
    assert backend.predict([]) == []


def test_retraining_into_a_directory_replaces_the_previous_model(
    small_model: Path, tmp_path: Path
) -> None:
    model = shutil.copytree(small_model, tmp_path / "small")
    train(corpus_rows()[::6], ["category"], model, holdout=0)
    assert not (model / "sentiment.joblib").exists()
    assert LinearBackend.load(model, fallback=LexiconBackend()).fields == ("category",)


def test_the_corpus_model_scores_above_its_floor_on_the_held_out_set(corpus_model: Path) -> None:
    rows = corpus_test_rows()
    predicted = LinearBackend.load(corpus_model).predict([normalise(r["text"]) for r in rows])
    results = evaluate_rows(
        rows,
        {"sentiment": [p[0] for p in predicted], "category": [p[2] for p in predicted]},
    )
    assert results["sentiment"]["macro_f1"] > MIN_SENTIMENT_F1
    assert results["category"]["macro_f1"] > MIN_CATEGORY_F1


def _bigrams(text: str) -> set[str]:
    chars = re.sub(r"[^\w]", "", text)
    return {chars[i : i + 2] for i in range(len(chars) - 1)}


def test_no_held_out_row_is_a_training_row_or_a_paraphrase_of_one() -> None:
    """Paraphrases across the split would score the model on what it has learnt by heart."""
    training = [_bigrams(r["text"]) for r in corpus_rows()]
    closest = max(
        (
            max(len(test & seen) / len(test | seen) for seen in training if seen)
            for test in (_bigrams(r["text"]) for r in corpus_test_rows())
        ),
        default=0.0,
    )
    assert closest < 0.5
    assert {r["category"] for r in corpus_test_rows() if "category" in r} == set(CATEGORIES)


def test_a_missing_field_model_is_an_error_unless_a_fallback_is_given(tmp_path: Path) -> None:
    rows = [
        {"text": "谣言说统计局要查每家存款", "label": "rumor"},
        {"text": "网传普查员要收费，纯属谣言", "label": "rumor"},
        {"text": "统计局发布三季度数据", "label": "non_rumor"},
        {"text": "全县人口普查登记工作顺利完成", "label": "non_rumor"},
    ]
    train(rows, ["label"], tmp_path, holdout=0)
    with pytest.raises(ModelError, match="sentiment, category"):
        LinearBackend.load(tmp_path)
    backend = LinearBackend.load(tmp_path, fallback=LexiconBackend())
    assert backend.predict_field("label", ["网传统计局要查存款"])[0][0] in {"rumor", "non_rumor"}
    assert backend.predict(["普查员入户被打"]) == LexiconBackend().predict(["普查员入户被打"])
    with pytest.raises(ModelError, match="no model for sentiment"):
        backend.predict_field("sentiment", ["x"])


def test_a_model_with_word_features_survives_saving_and_loading(tmp_path: Path) -> None:
    rows = corpus_rows()[::20]
    train(rows, ["category"], tmp_path, holdout=0, options=LinearOptions(word_ngrams=(1, 1)))
    card = json.loads((tmp_path / CARD).read_text(encoding="utf-8"))
    assert card["options"]["word_ngrams"] == [1, 1]
    backend = LinearBackend.load(tmp_path, fallback=LexiconBackend())
    assert backend.predict_field("category", ["假普查员索要银行卡验证码"])[0][0] in CATEGORIES


def test_a_directory_without_a_card_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no model.json"):
        LinearBackend.load(tmp_path)


def test_sentiment_labels_may_come_from_polarity_or_label() -> None:
    assert label_of({"text": "x", "polarity": "positive", "label": "happy"}, "sentiment") == (
        "positive"
    )
    # "surprise" has no polarity: the row is unlabelled, not labelled with its emotion
    assert label_of({"text": "x", "polarity": None, "label": "surprise"}, "sentiment") is None
    assert label_of({"text": "x", "label": "negative"}, "sentiment") == "negative"
    assert label_of({"text": "x", "label": "rumor"}, "sentiment") is None
    assert label_of({"text": "x", "label": "rumor"}, "label") == "rumor"
    assert label_of({"text": "x", "misinfo": True}, "misinfo") == "true"


def test_training_rejects_labels_outside_the_field(tmp_path: Path) -> None:
    rows = [{"text": "甲", "category": "fraud"}, {"text": "乙", "category": "general"}]
    with pytest.raises(ValueError, match=r"unknown labels \['fraud'\]"):
        train(rows, ["category"], tmp_path)
    with pytest.raises(ValueError, match="no row has a sentiment label"):
        train(rows, ["sentiment"], tmp_path)


def test_a_bad_jsonl_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "好"}\n\n{"text": "坏"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl, line 3: not valid JSON"):
        load_jsonl(path)
    path.write_text('{"text": "好"}\n["text"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="line 2: expected a JSON object"):
        load_jsonl(path)
    path.write_text('{"text": "好"}\n{"sentiment": "neutral"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="line 2: no non-empty string field 'text'"):
        load_jsonl(path)


def test_evaluation_metrics_are_exact_on_a_hand_made_example() -> None:
    gold = ["neg", "neg", "neg", "neu", "neu", "pos"]
    predicted = ["neg", "neg", "neu", "neu", "pos", "pos"]
    result = evaluate(gold, predicted)
    assert result["n"] == 6
    assert result["accuracy"] == pytest.approx(4 / 6)
    # neg: P 2/2, R 2/3, F1 0.8; neu: P 1/2, R 1/2, F1 0.5; pos: P 1/2, R 1/1, F1 2/3
    assert result["per_label"]["neg"] == pytest.approx(
        {"precision": 1.0, "recall": 2 / 3, "f1": 0.8, "support": 3}
    )
    assert result["per_label"]["neu"] == pytest.approx(
        {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    )
    assert result["per_label"]["pos"] == pytest.approx(
        {"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 1}
    )
    assert result["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert result["confusion"] == {
        "labels": ["neg", "neu", "pos"],
        "matrix": [[2, 1, 0], [0, 1, 1], [0, 0, 1]],
    }


def test_a_label_never_predicted_scores_zero_without_a_warning() -> None:
    result = evaluate(["a", "b"], ["a", "a"])
    assert result["per_label"]["b"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert result["macro_f1"] == pytest.approx((2 / 3 + 0) / 2)


def test_the_report_shows_each_field_with_its_figures_and_confusion() -> None:
    report = format_report({"sentiment": evaluate(["neg", "pos"], ["neg", "neg"])})
    assert "sentiment: n=2  accuracy=0.500  macro-F1=0.333" in report
    assert "confusion (rows: gold, columns: predicted)" in report
    lines = report.splitlines()
    assert any(line.split() == ["neg", "1", "0"] for line in lines)
    assert any(line.split() == ["pos", "1", "0"] for line in lines)


def test_judgements_name_the_passages_that_decided_them(corpus_model: Path) -> None:
    text = normalise("假普查员上门索要银行卡验证码，大家千万小心[怒]")
    prediction = LinearBackend.load(corpus_model).predict([text])[0]

    assert prediction.category == "scam"
    assert prediction.category_terms and all(t in text for t in prediction.category_terms)
    assert any("普查员" in t or "银行卡" in t or "验证码" in t for t in prediction.category_terms)
    assert all(t in text for t in prediction.sentiment_terms)


@pytest.mark.parametrize("field", ["sentiment", "label"])
def test_nb_weighted_models_predict_probabilities_and_explain_them(
    tmp_path: Path, field: str
) -> None:
    if field == "label":  # two classes: one weight row, as LogisticRegression has
        rows = [{"text": f"内部消息紧急扩散第{i}条", "label": "rumor"} for i in range(12)] + [
            {"text": f"统计局发布公报第{i}期", "label": "non_rumor"} for i in range(12)
        ]
    else:
        rows = corpus_rows()[::10]
    train(rows, [field], tmp_path, holdout=0, options=CANDIDATES["chars-nb"])
    model = LinearBackend.load(tmp_path, partial=True)
    text = normalise("内部消息！普查员没上门，紧急扩散")

    [(label, probability, terms)] = model.predict_fields([text], [field], explain=True)[field]

    assert (
        label
        in json.loads((tmp_path / CARD).read_text(encoding="utf-8"))["fields"][field]["labels"]
    )
    assert 0.5 <= probability <= 1 if field == "label" else 0 < probability <= 1
    assert all(term in text for term in terms)
    if field == "label":
        assert label == "rumor" and any("内部消息" in t or "紧急扩散" in t for t in terms)
