"""`yuqing export mentions`: JSONL and Excel-friendly CSV with the judgements."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime

from typer.testing import CliRunner

from responder.cli import app
from responder.intake.mentions import MentionRecord, store
from responder.models import Judgement


def seed(db) -> None:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        mention = store(
            session,
            MentionRecord(
                url="http://news.example/a.html?utm_source=x",
                title="临江县统计局发布公报",
                text="2025年临江县地区生产总值增长5.8%，“稳中有进”。",
                published_at=datetime(2026, 11, 20, 1, 30, tzinfo=UTC),
            ),
        )
        assert mention is not None
        session.add(
            Judgement(
                mention_id=mention.id,
                sentiment="positive",
                sentiment_score=0.9,
                category="general",
                category_score=0.8,
                misinfo=False,
            )
        )


def test_csv_export_starts_with_a_bom_and_keeps_chinese_and_quotes(db, tmp_path):
    seed(db)
    out = tmp_path / "mentions.csv"

    result = CliRunner().invoke(
        app, ["export", "mentions", "--format", "csv", "--output", str(out)]
    )

    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0]["title"] == "临江县统计局发布公报"
    assert rows[0]["text"].endswith("“稳中有进”。")
    assert rows[0]["sentiment"] == "positive" and rows[0]["misinfo"] == "False"
    assert rows[0]["published_at"] == "2026-11-20T01:30:00+00:00"


def test_jsonl_export_has_one_object_per_mention_with_every_field(db):
    seed(db)

    result = CliRunner().invoke(app, ["export", "mentions", "--format", "jsonl"])

    assert result.exit_code == 0, result.output
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(objects) == 1
    assert set(objects[0]) >= {
        "url",
        "source",
        "title",
        "text",
        "published_at",
        "fetched_at",
        "sentiment",
        "category",
        "misinfo",
        "incident_id",
    }
    assert objects[0]["category"] == "general"
