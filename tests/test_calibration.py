"""nlp.calibration, the unsure margin and the misinformation evaluation set's evidence."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

import nlp
from nlp.calibration import calibrate, fit_temperature, reliability
from nlp.evaluation import negative_vs_neutral
from nlp.lexicon import LexiconBackend
from nlp.quantities import written_kind
from nlp.types import Prediction

ROOT = Path(__file__).resolve().parent.parent


def test_calibration_keeps_the_label_and_softens_or_sharpens_the_score() -> None:
    probabilities = np.array([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25]])
    for temperature in (0.5, 2.0):
        calibrated = calibrate(probabilities, temperature)
        assert (calibrated.argmax(axis=1) == probabilities.argmax(axis=1)).all()
        assert np.allclose(calibrated.sum(axis=1), 1)
    assert calibrate(probabilities, 2.0)[0, 0] < 0.7 < calibrate(probabilities, 0.5)[0, 0]


def test_an_over_confident_model_gets_a_temperature_above_one() -> None:
    # Says 0.95 but is right only 60 % of the time.
    probabilities = np.array([[0.95, 0.05]] * 10)
    gold = ["a"] * 6 + ["b"] * 4
    assert fit_temperature(probabilities, gold, ["a", "b"]) > 1.5


def test_reliability_compares_stated_confidence_with_accuracy() -> None:
    table = reliability([0.95, 0.95, 0.55, 0.55], [True, False, True, True])
    assert [b["rows"] for b in table["bins"]] == [2, 2]
    assert table["ece"] == pytest.approx((2 * 0.45 + 2 * 0.45) / 4)


class CloseCall:
    name = "close-call"

    def predict(self, texts: list[str]) -> list[Prediction]:
        return [Prediction("neutral", 0.45, "general", 0.9, sentiment_margin=0.05) for _ in texts]


def test_a_close_call_is_marked_unsure_only_when_a_margin_is_set() -> None:
    assert nlp.Classifier(CloseCall(), unsure_margin=0.15).classify("普查员来过了").unsure
    assert not nlp.Classifier(CloseCall()).classify("普查员来过了").unsure
    assert not nlp.Classifier(LexiconBackend(), unsure_margin=0.15).classify("统计局").unsure


def test_the_negative_vs_neutral_table_counts_per_costly_category() -> None:
    rows = [
        {"text": "a", "sentiment": "negative", "category": "scam"},
        {"text": "b", "sentiment": "negative", "category": "scam"},
        {"text": "c", "sentiment": "neutral", "category": "scam"},
        {"text": "d", "sentiment": "negative", "category": "general"},
    ]
    table = negative_vs_neutral(rows, ["negative", "neutral", "negative", "neutral"])
    assert list(table) == ["scam"]
    assert table["scam"]["negative_as_neutral"] == 1
    assert table["scam"]["neutral_as_negative"] == 1
    assert table["scam"]["negative_recall"] == 0.5


_FIGURE = re.compile(
    r"(?:为|是否为)(?P<figure>[-\d.,几]+(?:万亿|亿|万|千)?(?P<unit>[^\d，,]*))，官方数据为"
)


def test_every_contradicts_fact_reason_in_the_misinfo_set_names_a_figure_of_its_kind() -> None:
    facts = [
        nlp.Fact(**f) for f in yaml.safe_load((ROOT / "config/facts.yaml").read_text())["facts"]
    ]
    debunks = [
        nlp.Debunk(**d)
        for d in yaml.safe_load((ROOT / "config/debunks.yaml").read_text())["debunks"]
    ]
    by_indicator = {f.indicator: f for f in facts}
    walked = 0
    for name in ("misinfo_test.jsonl", "misinfo_dev.jsonl"):
        for line in (ROOT / "nlp/corpus" / name).read_text(encoding="utf-8").splitlines():
            text = nlp.normalise(json.loads(line)["text"])
            for reason in nlp.misinfo.assess(text, facts, debunks)[1]:
                if reason.kind != "contradicts_fact":
                    continue
                walked += 1
                fact = next(f for i, f in by_indicator.items() if i in reason.detail)
                found = _FIGURE.search(reason.detail)
                assert found, reason.detail
                assert written_kind(found["unit"].strip(), "") == fact.kind, reason.detail
    assert walked > 50
