"""`yuqing classify`, `yuqing train`, `yuqing eval` and `yuqing export corrections`: the NLP
contract as the command line offers it, and the classifier the pipeline builds from settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import nlp
from nlp.linear import LinearBackend
from nlp.training import corpus_rows
from responder.cli import app
from responder.db import Database
from responder.intake.mentions import MentionRecord, store
from responder.judging.classifier import build_classifier
from responder.judging.classify import classify_pending
from responder.models import Judgement
from responder.settings import Settings, load_settings

CONTRACT_FIELDS = {
    "sentiment",
    "sentiment_score",
    "category",
    "misinfo",
    "misinfo_reasons",
    "keywords_matched",
}


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def test_classify_adds_the_contract_fields_and_keeps_the_input_fields(
    data_dir: Path, tmp_path: Path
) -> None:
    source = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"id": 1, "text": "网传临江县2025年GDP增长12%，统计局数据造假！", "source": "微博"},
            {"id": 2, "title": "防骗提示", "text": "假普查员上门索要银行卡验证码，请勿轻信"},
        ],
    )
    out = tmp_path / "out.jsonl"

    code, _, stderr = invoke("classify", "--input", str(source), "--output", str(out))

    assert code == 0, stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [1, 2]
    assert rows[0]["source"] == "微博"
    for row in rows:
        assert CONTRACT_FIELDS <= set(row)
        assert row["sentiment"] in {"positive", "neutral", "negative"}
        assert 0 <= row["sentiment_score"] <= 1
    assert rows[0]["misinfo"] is True
    assert rows[0]["misinfo_reasons"][0]["kind"] == "contradicts_fact"
    assert rows[1]["category"] == "scam"
    assert rows[1]["category_terms"], "the category is explained by passages of the text"


def test_classify_skips_a_bad_line_and_judges_the_rest(data_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "统计局发布公报"}\nnot json\n{"no_text": 1}\n{"text": "好"}\n')

    code, stdout, stderr = invoke("classify", "--input", str(source))

    assert code == 0
    assert len(stdout.splitlines()) == 2
    assert "line 2" in stderr and "line 3" in stderr


def test_classify_reports_a_missing_input_file_without_a_traceback(data_dir: Path) -> None:
    code, _, stderr = invoke("classify", "--input", "/nonexistent/in.jsonl")

    assert code == 2
    assert "/nonexistent/in.jsonl" in stderr and "Traceback" not in stderr


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = corpus_rows()[::3]
    return write_jsonl(tmp_path_factory.mktemp("data") / "labelled.jsonl", rows)


def test_train_saves_a_model_with_a_card_and_eval_scores_it(
    data_dir: Path, labelled: Path, tmp_path: Path
) -> None:
    code, stdout, stderr = invoke("train", "--data", str(labelled), "--json")

    assert code == 0, stderr
    result = json.loads(stdout)
    model = Path(result["model"])
    assert model.parent == data_dir / "models"
    assert result["fields"] == ["sentiment", "category"]
    card = json.loads((model / "model.json").read_text(encoding="utf-8"))
    assert card["data"]["path"] == str(labelled)
    # Every candidate feature set was scored on the held-out rows and the best one kept.
    assert set(card["selection"]) == {"chars", "chars-nb", "chars-words"}
    kept = max(card["selection"], key=lambda n: sum(card["selection"][n].values()))
    assert card["options"]["nb_weighting"] is (kept == "chars-nb")
    assert card["fields"]["sentiment"]["holdout"]["macro_f1"] == pytest.approx(
        result["metrics"]["sentiment"]["macro_f1"], abs=1e-4
    )

    test_rows = corpus_rows()[1::7]
    test_file = write_jsonl(tmp_path / "test.jsonl", test_rows)
    code, stdout, stderr = invoke("eval", str(test_file), "--model", str(model), "--json")

    assert code == 0, stderr
    report = json.loads(stdout)
    assert set(report["fields"]) == {"sentiment", "category"}
    for field in ("sentiment", "category"):
        assert report["fields"][field]["judged_by"] == str(model)
        assert 0.5 < report["fields"][field]["macro_f1"] <= 1
        matrix = report["fields"][field]["confusion"]["matrix"]
        labelled_rows = sum(1 for row in test_rows if field in row)
        assert sum(map(sum, matrix)) == report["fields"][field]["n"] == labelled_rows


def test_eval_prints_a_table_per_field(data_dir: Path, tmp_path: Path) -> None:
    test_file = write_jsonl(
        tmp_path / "t.jsonl",
        [
            {"text": "假普查员上门索要银行卡验证码", "category": "scam", "misinfo": False},
            {"text": "临江县2025年GDP增长12%，千真万确", "category": "data_doubt", "misinfo": True},
        ],
    )

    code, stdout, stderr = invoke("eval", str(test_file))

    assert code == 0, stderr
    assert "[category] judged by classifier (linear)" in stdout
    assert "[misinfo]" in stdout and "macro-F1" in stdout and "confusion" in stdout


def test_a_rumour_model_is_trained_on_label_and_scored_with_model(
    data_dir: Path, tmp_path: Path
) -> None:
    rumours = ["内部消息，统计局要查每家存款，速转", "紧急扩散！普查员收费了，不转不是中国人"]
    facts = ["统计局发布三季度经济数据", "全县人口普查登记工作顺利完成"]
    rows = [{"text": f"{t}{i}", "label": "rumor"} for t in rumours for i in range(8)] + [
        {"text": f"{t}{i}", "label": "non_rumor"} for t in facts for i in range(8)
    ]
    data = write_jsonl(tmp_path / "rumours.jsonl", rows)

    code, stdout, stderr = invoke("train", "--data", str(data))

    assert code == 0, stderr
    assert "label: macro-F1" in stdout
    assert "nlp.rumor.model_path" in stdout
    model = data_dir / "models" / f"{tmp_path.name}-rumours"
    code, stdout, stderr = invoke("eval", str(data), "--model", str(model), "--json")
    assert code == 0, stderr
    assert json.loads(stdout)["fields"]["label"]["macro_f1"] == 1.0


def test_eval_without_a_model_cannot_score_label_and_says_why(
    data_dir: Path, tmp_path: Path
) -> None:
    data = write_jsonl(tmp_path / "r.jsonl", [{"text": "据说要收费", "label": "rumor"}])

    code, stdout, _ = invoke("eval", str(data), "--json")

    assert code == 0
    report = json.loads(stdout)
    assert report["fields"] == {}
    assert "--model" in report["skipped"]["label"]


def test_train_with_named_features_tries_nothing_else(
    data_dir: Path, labelled: Path, tmp_path: Path
) -> None:
    out = tmp_path / "nb"
    code, _, stderr = invoke(
        "train", "--data", str(labelled), "--features", "chars-nb", "--output", str(out)
    )

    assert code == 0, stderr
    card = json.loads((out / "model.json").read_text(encoding="utf-8"))
    assert list(card["selection"]) == ["given"]
    assert card["options"]["nb_weighting"] is True
    assert classify_with(out, "假普查员上门索要银行卡验证码").category == "scam"

    code, _, stderr = invoke("train", "--data", str(labelled), "--features", "bigrams")
    assert code == 2 and "bigrams" in stderr


def classify_with(model: Path, text: str) -> nlp.Judgement:
    return nlp.Classifier(LinearBackend.load(model)).classify(text)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"text": "x"}\n{"oops"\n', "line 2"),
        ('{"text": "只有文本"}\n', "no labels"),
        ('{"text": "a", "sentiment": "happy"}\n{"text": "b", "sentiment": "sad"}\n', "unknown"),
    ],
)
def test_train_rejects_bad_data_with_a_clear_message(
    data_dir: Path, tmp_path: Path, content: str, message: str
) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text(content, encoding="utf-8")

    code, _, stderr = invoke("train", "--data", str(data))

    assert code == 2
    assert message in stderr and "Traceback" not in stderr


def test_train_without_data_rebuilds_the_shipped_model_and_scores_the_domain_test_set(
    data_dir: Path,
) -> None:
    code, stdout, stderr = invoke("train", "--json")

    assert code == 0, stderr
    result = json.loads(stdout)
    card = json.loads((Path(result["model"]) / "model.json").read_text(encoding="utf-8"))
    assert card["domain_test"]["sentiment"]["macro_f1"] > 0.85
    assert result["metrics"]["category"]["macro_f1"] > 0.75


def test_corrections_export_as_training_data_that_train_accepts(
    db: Database, data_dir: Path, tmp_path: Path
) -> None:
    with db.transaction() as session:
        for i in range(12):
            mention = store(
                session,
                MentionRecord(url=f"http://x.example/{i}", title="", text=f"第{i}条：普查员没上门"),
            )
            assert mention is not None
            session.add(
                Judgement(
                    mention_id=mention.id,
                    sentiment="neutral",
                    sentiment_score=0.5,
                    category="general",
                    category_score=0.5,
                    misinfo=False,
                )
            )
            if i % 2 == 0:
                session.add(
                    Judgement(
                        mention_id=mention.id,
                        origin="correction",
                        actor="张敏",
                        sentiment="negative" if i % 4 else "positive",
                        sentiment_score=1.0,
                        category="procedure",
                        category_score=1.0,
                        misinfo=False,
                    )
                )
    out = tmp_path / "corrections.jsonl"

    code, _, stderr = invoke("export", "corrections", "--output", str(out))

    assert code == 0, stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 6
    assert {r["corrected_by"] for r in rows} == {"张敏"}
    assert rows[0]["text"] == "第0条：普查员没上门" and rows[0]["sentiment"] == "positive"
    # One field and one named feature set: the choice among feature sets (three models) and
    # both fields are tested apart; here what matters is that the export is training data.
    code, stdout, stderr = invoke(
        "train",
        "--data",
        str(out),
        "--with-corpus",
        "--field",
        "sentiment",
        "--features",
        "chars",
        "--json",
    )
    assert code == 0, stderr
    assert json.loads(stdout)["rows"] == 6 + len(corpus_rows())


def test_the_pipeline_stores_judgements_with_their_deciding_passages(
    settings: Settings, db: Database
) -> None:
    with db.transaction() as session:
        store(
            session,
            MentionRecord(url="http://x.example/scam", title="", text="假普查员索要银行卡验证码"),
        )
    with db.transaction() as session:
        assert classify_pending(session, build_classifier(settings), 10) == 1
    with db.sessions() as session:
        judgement = session.query(Judgement).one()
        assert judgement.backend == "linear"
        assert judgement.category == "scam"
        assert judgement.terms["category"]


def test_settings_select_a_trained_linear_model_relative_to_the_data_dir(
    data_dir: Path, labelled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, stdout, stderr = invoke(
        "train", "--data", str(labelled), "--field", "category", "--features", "chars", "--json"
    )
    assert code == 0, stderr
    name = Path(json.loads(stdout)["model"]).name
    monkeypatch.setenv("YUQING_NLP__MODEL_PATH", f"models/{name}")

    classifier = build_classifier(load_settings())

    backend = classifier.backend
    assert isinstance(backend, LinearBackend)
    assert backend.path == data_dir / "models" / name
    # The model judges category only; sentiment comes from the shipped model.
    assert backend.fallback is not None
    assert classifier.classify("假普查员上门索要银行卡验证码").category == "scam"


def test_a_missing_configured_model_is_a_clear_error(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YUQING_NLP__MODEL_PATH", "models/nothing-here")

    code, _, stderr = invoke("classify", "--input", "/dev/null")

    assert code == 2
    assert "nothing-here" in stderr and "yuqing train" in stderr
