"""The transformers backend: model directories, prediction, fine-tuning and the classifier.

Every test runs on a tiny randomly initialised BERT written to a temporary directory, so the
real loading code runs without a download; its predictions mean nothing until fine-tuned.
"""

from __future__ import annotations

import itertools
import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from nlp import Classifier
from nlp.finetune import fine_tune
from nlp.lexicon import LexiconBackend
from nlp.transformer import CARD, TransformersBackend, TransformersModel, read_card
from nlp.types import SENTIMENTS, ModelError

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
TINY_LABELS = ("negative", "neutral", "positive")
POSITIVE_CHARS = "好棒赞"
NEGATIVE_CHARS = "差烂坑"
OTHER_TEXTS = ["统计局发布公报", "今天天气不错", "数据造假举报"]


def _rows(chars: str, label: str, n: int) -> list[dict[str, Any]]:
    # Every 3-character string over `chars` (27 of them), in a fixed order, cut to n.
    texts = ["".join(p) for p in itertools.product(chars, repeat=3)][:n]
    return [{"text": text, "sentiment": label} for text in texts]


ROWS = _rows(POSITIVE_CHARS, "positive", 20) + _rows(NEGATIVE_CHARS, "negative", 20)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 32-wide BERT with a 3-way sentiment head and a character vocabulary."""
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    out = tmp_path_factory.mktemp("tiny")
    chars = sorted(set(POSITIVE_CHARS + NEGATIVE_CHARS + "".join(OTHER_TEXTS)))
    vocab = [*SPECIALS, *chars]
    (out / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    # transformers 5 takes the vocabulary file as `vocab`; `vocab_file=` is silently ignored
    # and leaves a tokenizer that knows only the special tokens.
    tokenizer = BertTokenizerFast(vocab=str(out / "vocab.txt"), tokenize_chinese_chars=True)
    assert tokenizer.convert_tokens_to_ids("好") == vocab.index("好")
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        num_labels=3,
        id2label=dict(enumerate(TINY_LABELS)),
        label2id={label: i for i, label in enumerate(TINY_LABELS)},
    )
    BertForSequenceClassification(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> tuple[Path, dict, list]:
    """The tiny model fine-tuned on ROWS: (directory, held-out metrics, progress lines)."""
    out = tmp_path_factory.mktemp("tuned") / "sentiment"
    lines: list[str] = []
    metrics = fine_tune(
        ROWS,
        "sentiment",
        tiny_model,
        out,
        # A random tiny model needs a high rate: at 1e-3 and 8 epochs the loss is still 0.68
        # and held-out accuracy depends on the seed; at 3e-3 and 10 it is 0.04-0.17 for seeds.
        epochs=10,
        batch_size=8,
        learning_rate=3e-3,
        data={"path": "rows.jsonl"},
        progress=lines.append,
    )
    return out, metrics, lines


def _copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def test_a_model_predicts_one_label_and_probability_per_text(tiny_model: Path) -> None:
    model = TransformersModel.load(tiny_model, device="cpu")
    assert model.labels == TINY_LABELS
    assert model.field is None  # no yuqing.json: not fine-tuned here
    assert model.path == tiny_model
    texts = [*OTHER_TEXTS, "", "好棒赞 unknown words"]
    predictions = model.predict(texts)
    assert len(predictions) == len(texts)
    for label, probability in predictions:
        assert label in TINY_LABELS
        # the probability of the most likely of three labels
        assert 1 / 3 <= probability <= 1
    assert model.predict([]) == []


def test_padding_does_not_change_a_prediction(tuned: tuple[Path, dict, list]) -> None:
    # The fine-tuned model: the random one gives about 1/3 to every label whatever it reads.
    model = TransformersModel.load(tuned[0], device="cpu", batch_size=4)
    alone = model.predict(["好棒"])[0]
    padded = model.predict(["好棒", "统计局发布公报" * 5])[0]
    assert padded[0] == alone[0]
    assert padded[1] == pytest.approx(alone[1], abs=1e-5)


def test_a_long_text_is_truncated_to_the_model_positions(tiny_model: Path) -> None:
    # 5,000 characters are 5,000 tokens; the model has 128 positions, fewer than max_length.
    model = TransformersModel.load(tiny_model, device="cpu", max_length=256)
    long_text = "统计局发布公报" * 715
    assert len(long_text) >= 5000
    [(label, probability)] = model.predict([long_text])
    assert label in TINY_LABELS and 0 <= probability <= 1
    assert model.predict([long_text + "好"]) == model.predict([long_text])


def test_concurrent_first_predictions_load_once_and_agree(tiny_model: Path) -> None:
    model = TransformersModel.load(tiny_model, device="cpu")
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: model.predict(OTHER_TEXTS), range(4)))
    assert all(r == results[0] for r in results)


def _without(*names: str) -> Any:
    def damage(path: Path) -> None:
        for name in names:
            (path / name).unlink()

    return damage


def _config_without_id2label(path: Path) -> None:
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    del config["id2label"], config["label2id"]
    (path / "config.json").write_text(json.dumps(config), encoding="utf-8")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_without("config.json"), "no config.json"),
        (_without("tokenizer.json", "vocab.txt", "tokenizer_config.json"), "no tokenizer files"),
        (_without("model.safetensors"), "no model weights"),
        (_config_without_id2label, "config has no id2label"),
    ],
    ids=["config", "tokenizer", "weights", "id2label"],
)
def test_an_incomplete_directory_is_refused_naming_the_problem(
    tiny_model: Path, tmp_path: Path, damage: Any, message: str
) -> None:
    broken = _copy(tiny_model, tmp_path / "broken")
    damage(broken)
    with pytest.raises(ModelError, match=message) as raised:
        TransformersModel.load(broken)
    assert str(broken) in str(raised.value)


def test_a_missing_directory_or_a_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such model directory"):
        TransformersModel.load(tmp_path / "absent")
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(ModelError, match="not a directory"):
        TransformersModel.load(tmp_path / "file")


def test_a_checkpoint_without_classification_head_fails_on_first_prediction(
    tiny_model: Path, tmp_path: Path
) -> None:
    # A bare encoder passes the file checks, but transformers would make up a random head.
    from transformers import BertConfig, BertModel

    bare = _copy(tiny_model, tmp_path / "bare")
    (bare / "model.safetensors").unlink()
    BertModel(BertConfig.from_pretrained(bare)).save_pretrained(bare)
    model = TransformersModel.load(bare, device="cpu")
    with pytest.raises(ModelError, match="weights missing from the checkpoint: classifier"):
        model.predict(["好"])


def test_the_backend_takes_a_field_without_model_from_the_fallback(tiny_model: Path) -> None:
    lexicon = LexiconBackend()
    backend = TransformersBackend(TransformersModel.load(tiny_model), None, lexicon)
    texts = ["假普查员上门索要银行卡验证码", "统计局发布公报"]
    predictions = backend.predict(texts)
    assert len(predictions) == 2
    for prediction, borrowed in zip(predictions, lexicon.predict(texts), strict=True):
        sentiment, s_prob, category, c_prob = prediction[:4]
        assert sentiment in TINY_LABELS and 0 <= s_prob <= 1
        assert (category, c_prob) == (borrowed.category, borrowed.category_score)
        assert prediction.category_terms == borrowed.category_terms
    assert backend.predict([]) == []


def test_the_backend_refuses_wrong_labels_and_a_field_without_any_model(
    tiny_model: Path,
) -> None:
    model = TransformersModel.load(tiny_model)
    with pytest.raises(ModelError, match=r"'negative', 'neutral', 'positive'.*not category"):
        TransformersBackend(None, model, LexiconBackend())
    with pytest.raises(ModelError, match="no transformers model for category"):
        TransformersBackend(model, None, None)


def test_fine_tuning_learns_a_separable_set_and_writes_a_card(
    tuned: tuple[Path, dict, list],
) -> None:
    out, metrics, lines = tuned
    assert metrics["accuracy"] == 1.0
    epochs = [line for line in lines if line.startswith("epoch ")]
    assert len(epochs) == 10 and epochs[0].startswith("epoch 1/10: loss ")
    assert float(epochs[-1].split()[-1]) < float(epochs[0].split()[-1]) / 2
    card = read_card(out)
    assert card is not None
    assert card == json.loads((out / CARD).read_text(encoding="utf-8"))
    assert card["format"] == 1 and card["backend"] == "transformers"
    assert card["field"] == "sentiment"
    assert card["labels"] == ["negative", "positive"]
    assert card["label_counts"] == {"negative": 20, "positive": 20}
    assert card["data"] == {"path": "rows.jsonl", "rows": 40}
    assert card["options"]["epochs"] == 10 and card["options"]["learning_rate"] == 3e-3
    holdout = card["holdout"]
    assert holdout["train_rows"] + holdout["test_rows"] == 40
    assert holdout["test_rows"] == 6
    assert holdout["accuracy"] == 1.0 and holdout["per_label_f1"] == {
        "negative": 1.0,
        "positive": 1.0,
    }
    for key in ("created", "base_model", "transformers", "torch"):
        assert card[key]


def test_a_fine_tuned_directory_loads_and_predicts_its_labels(
    tuned: tuple[Path, dict, list],
) -> None:
    model = TransformersModel.load(tuned[0], device="cpu")
    assert model.labels == ("negative", "positive")
    assert model.field == "sentiment"
    predicted = [label for label, _ in model.predict(["好赞棒", "赞好", "坑差烂", "烂坑"])]
    assert predicted == ["positive", "positive", "negative", "negative"]
    with pytest.raises(ModelError, match="a sentiment model, not a category model"):
        TransformersBackend(None, model, LexiconBackend())


def test_the_classifier_runs_end_to_end_on_the_backend(tuned: tuple[Path, dict, list]) -> None:
    backend = TransformersBackend(
        TransformersModel.load(tuned[0], device="cpu"), None, LexiconBackend()
    )
    judgements = Classifier(backend).classify_many([(None, "好棒赞"), (None, "差烂坑")])
    assert [j.backend for j in judgements] == ["transformers", "transformers"]
    assert [j.sentiment for j in judgements] == ["positive", "negative"]
    assert all(j.sentiment in SENTIMENTS and 0 <= j.sentiment_score <= 1 for j in judgements)


def test_fine_tuning_without_holdout_scores_nothing(tiny_model: Path, tmp_path: Path) -> None:
    metrics = fine_tune(ROWS[::4], "sentiment", tiny_model, tmp_path / "m", holdout=0, epochs=1)
    assert metrics == {}
    card = read_card(tmp_path / "m")
    assert card is not None and "holdout" not in card


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"text": "好棒"}, {"text": "差烂"}], "no row has a sentiment label"),
        (_rows(POSITIVE_CHARS, "positive", 5), "only one label"),
        ([{"text": "好", "sentiment": "great"}, *ROWS], "unknown labels"),
    ],
    ids=["no-labels", "one-label", "unknown-label"],
)
def test_fine_tuning_refuses_unusable_rows(
    tiny_model: Path, tmp_path: Path, rows: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        fine_tune(rows, "sentiment", tiny_model, tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_fine_tuning_needs_a_base_model_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a directory"):
        fine_tune(ROWS, "sentiment", tmp_path / "absent", tmp_path / "m")


def test_a_broken_card_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    broken = _copy(tiny_model, tmp_path / "broken")
    (broken / CARD).write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="not valid JSON"):
        TransformersModel.load(broken)


def test_settings_select_the_transformers_backend_with_the_linear_model_for_category(
    tuned: tuple[Path, dict, list], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from responder.judging.classifier import build_classifier
    from responder.settings import load_settings

    model_dir = tuned[0]
    monkeypatch.setenv("YUQING_NLP__BACKEND", "transformers")
    monkeypatch.setenv("YUQING_NLP__SENTIMENT__MODEL_PATH", str(model_dir))
    monkeypatch.setenv("YUQING_NLP__DEVICE", "cpu")

    classifier = build_classifier(load_settings())
    judgement = classifier.classify("好棒赞")

    assert judgement.backend == "transformers"
    assert judgement.sentiment == "positive"
    # No category model is configured: the shipped linear model decides, with its passages.
    scam = classifier.classify("假普查员上门索要银行卡验证码")
    assert scam.category == "scam" and scam.category_terms


def test_yuqing_train_fine_tunes_a_transformers_model_from_the_command_line(
    tiny_model: Path, data_dir: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from responder.cli import app

    data = tmp_path / "labelled.jsonl"
    data.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS), encoding="utf-8"
    )

    result = CliRunner().invoke(
        app,
        [
            "train",
            "--data",
            str(data),
            "--backend",
            "transformers",
            "--base-model",
            str(tiny_model),
            "--epochs",
            "1",
            "--json",
        ],
    )

    assert result.exit_code == 0, result.stderr
    out = Path(json.loads(result.stdout)["model"])
    assert out == data_dir / "models" / f"{tmp_path.name}-labelled-transformers"
    assert read_card(out)["field"] == "sentiment"
    assert "epoch 1/1" in result.stderr
    assert TransformersModel.load(out).labels == ("negative", "positive")


def test_yuqing_train_transformers_without_a_base_model_is_a_clear_error(
    data_dir: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from responder.cli import app

    data = tmp_path / "labelled.jsonl"
    data.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS), encoding="utf-8"
    )

    result = CliRunner().invoke(app, ["train", "--data", str(data), "--backend", "transformers"])

    assert result.exit_code == 2
    assert "--base-model" in result.stderr
