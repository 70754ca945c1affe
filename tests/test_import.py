"""`yuqing import FILE`: mentions handed over by people go through relevance, de-duplication
and classification like crawled ones, into a real SQLite database, through the command line."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from typer.testing import CliRunner

from responder.cli import app
from responder.db import Database
from responder.intake.columns import BadRow, parse_count
from responder.intake.mentions import MentionRecord, clean, content_hash, store
from responder.intake.tables import BATCH_ROWS, PROGRESS_EVERY
from responder.models import AuditEntry, CrawlRun, Judgement, Mention, Source
from responder.settings import Settings, load_settings

# Relevant to the office by config/keywords.yaml (统计局, 普查, 临江~统计).
RELEVANT = [
    {
        "url": "https://news.example.cn/2026/11/20/gdp.html",
        "title": "临江县统计局发布前三季度经济数据",
        "text": "临江县统计局今天发布数据，前三季度地区生产总值同比增长5.6%。",
        "author": "记者 王芳",
        "outlet": "临江日报",
        "published": "2026-11-20T09:30:00+08:00",
    },
    {
        "url": "https://weibo.example.com/status/4242",
        "title": "",
        "text": "有人冒充普查员上门要银行卡验证码，大家小心，已经报警了。",
        "author": "临江小李",
        "outlet": "微博",
        "published": "2026-11-21T20:05:00+08:00",
    },
]
IRRELEVANT = {
    "url": "https://sports.example.cn/match.html",
    "title": "县篮球联赛决赛",
    "text": "昨晚的县篮球联赛决赛打到加时，主队以两分险胜客队夺冠。",
}


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def import_json(*args: str) -> tuple[dict[str, Any], str]:
    """Run `yuqing import ... --json`; the summary and what went to stderr."""
    code, stdout, stderr = invoke("import", *args, "--json")
    assert code == 0, stderr
    return json.loads(stdout), stderr


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def mentions(db: Database) -> list[Mention]:
    with db.transaction() as session:
        return list(
            session.scalars(
                select(Mention)
                .options(selectinload(Mention.judgements), selectinload(Mention.source))
                .order_by(Mention.id)
            )
        )


def fields(m: Mention) -> tuple[Any, ...]:
    return (m.url, m.title, m.text, m.author, m.outlet, m.published_at)


# --- round trip with `yuqing export mentions` ---------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_then_import_into_a_fresh_database_gives_the_same_mentions(
    fmt: str,
    settings: Settings,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with db.transaction() as session:
        for row in RELEVANT:
            record = clean(MentionRecord(**row), settings.tz)  # as a crawl stores them
            assert record is not None and store(session, record) is not None
    exported = tmp_path / f"mentions.{fmt}"
    code, _, stderr = invoke("export", "mentions", "--format", fmt, "--output", str(exported))
    assert code == 0, stderr
    before = [fields(m) for m in mentions(db)]

    monkeypatch.setenv("YUQING_DATA", str(tmp_path / "fresh"))
    summary, _ = import_json(str(exported), "--no-classify")

    fresh = Database(load_settings())
    try:
        after = mentions(fresh)
    finally:
        fresh.dispose()
    assert [fields(m) for m in after] == before
    assert summary["read"] == summary["stored"] == len(RELEVANT)
    assert summary["encoding"] == ("utf-8-sig" if fmt == "csv" else "utf-8")
    assert {m.source.name for m in after if m.source} == {f"导入:mentions.{fmt}"}


# --- other platforms' files -----------------------------------------------------------------


def test_gb18030_csv_with_chinese_headers_is_detected_and_read(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "平台导出.csv"
    with path.open("w", encoding="gb18030", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["序号", " 标题 ", "正文", "摘要", "原文链接", "来源", "博主", "发布时间"]
            + ["转发数", "评论数", "点赞数"]
        )
        writer.writerow(
            ["1", "网传临江统计数据造假", "网传临江县统计局篡改统计数据，真相如何？", "摘要不用",
             "https://weibo.example.com/1", "新浪微博", "某大V", "2026/11/20 09:30",
             "1.2万", "3,456", "10万+"]
        )  # fmt: skip

    summary, stderr = import_json(str(path), "--no-classify")

    assert "GB18030" in stderr
    assert summary["encoding"] == "gb18030"
    assert summary["columns"]["text"] == "正文" and summary["columns"]["title"] == " 标题 "
    [m] = mentions(db)
    assert m.title == "网传临江统计数据造假"
    assert m.text.startswith("网传临江县统计局篡改统计数据")
    assert (m.url, m.outlet, m.author) == ("https://weibo.example.com/1", "新浪微博", "某大V")
    assert (m.reposts, m.comments, m.likes) == (12_000, 3_456, 100_000)
    assert m.published_at == datetime(2026, 11, 20, 1, 30, tzinfo=UTC)


def test_xlsx_with_a_title_row_a_named_sheet_and_a_column_mapping(
    db: Database, tmp_path: Path
) -> None:
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["本表由上级局舆情处提供"])
    sheet = book.create_sheet("舆情")
    sheet.append(["上级转来的舆情线索（2026年11月）"])
    sheet.append(["信息标题", "信息主体", "所在网址", "时间", "转"])
    sheet.append(
        ["普查员冒充事件", "多地出现冒充普查员诈骗的情况，统计局提醒群众注意。",
         "https://bbs.example.cn/t/9", datetime(2026, 11, 22, 8, 0), 15]
    )  # fmt: skip
    sheet.append([None, None, None, None, None])
    sheet.append(
        ["", "经济普查登记工作即将开始，请配合普查员入户登记。", None, "2026年11月23日 10:15", None]
    )
    path = tmp_path / "upper.xlsx"
    book.save(path)

    summary, _ = import_json(
        str(path), "--sheet", "舆情", "--map", "信息主体=text", "--map", "信息标题=title",
        "--map", "所在网址=url", "--map", " 转 =reposts", "--no-classify",
    )  # fmt: skip

    assert summary["format"] == "xlsx" and summary["encoding"] is None
    assert (summary["read"], summary["stored"], summary["bad_rows"]) == (2, 2, 0)
    first, second = mentions(db)
    assert (first.title, first.url, first.reposts) == (
        "普查员冒充事件",
        "https://bbs.example.cn/t/9",
        15,
    )
    assert first.published_at == datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
    assert second.published_at == datetime(2026, 11, 23, 2, 15, tzinfo=UTC)
    assert second.url == f"import:{content_hash(second.title, second.text)}"


def test_naive_times_are_read_in_the_office_time_zone(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YUQING_TIMEZONE", "Asia/Kathmandu")  # UTC+05:45: no accident
    path = write_jsonl(
        tmp_path / "times.jsonl",
        [
            {"text": "临江县统计局发布第一份统计公报。", "published_at": "2026-11-20 09:30"},
            {"text": "临江县统计局发布第二份统计公报。", "published_at": "2026年11月21日 08:00"},
            {"text": "临江县统计局发布第三份统计公报。", "published_at": "2026-11-22T09:30:00Z"},
        ],
    )

    import_json(str(path), "--no-classify")

    db = Database(load_settings())
    try:
        times = [m.published_at for m in mentions(db)]
    finally:
        db.dispose()
    assert times == [
        datetime(2026, 11, 20, 3, 45, tzinfo=UTC),
        datetime(2026, 11, 21, 2, 15, tzinfo=UTC),
        datetime(2026, 11, 22, 9, 30, tzinfo=UTC),
    ]


# --- the same pipeline as crawled mentions --------------------------------------------------


def test_irrelevant_rows_are_counted_and_left_out_unless_all(db: Database, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "mixed.jsonl", [*RELEVANT, IRRELEVANT])

    summary, _ = import_json(str(path), "--no-classify")

    assert (summary["stored"], summary["not_relevant"]) == (2, 1)
    assert all(m.keywords_matched for m in mentions(db))

    summary, _ = import_json(str(path), "--no-classify", "--all")

    assert (summary["stored"], summary["duplicates"], summary["not_relevant"]) == (1, 2, 0)
    assert mentions(db)[-1].url == IRRELEVANT["url"]
    assert mentions(db)[-1].keywords_matched == []


def test_duplicates_in_the_file_and_already_stored_ones_are_counted_not_stored(
    db: Database, tmp_path: Path
) -> None:
    with db.transaction() as session:
        store(session, MentionRecord(url="https://old.example.cn/a", text=RELEVANT[1]["text"]))
    rows = [
        RELEVANT[0],
        {**RELEVANT[0], "url": RELEVANT[0]["url"] + "?utm_source=wechat"},  # same page
        {**RELEVANT[0], "url": "https://copy.example.cn/x", "text": RELEVANT[0]["text"] + " "},
        {**RELEVANT[1], "url": "https://other.example.cn/b"},  # stored before
    ]
    path = write_jsonl(tmp_path / "dups.jsonl", rows)

    summary, _ = import_json(str(path), "--no-classify")

    assert (summary["read"], summary["stored"], summary["duplicates"]) == (4, 1, 3)
    assert len(mentions(db)) == 2

    again, _ = import_json(str(path), "--no-classify")

    assert (again["stored"], again["duplicates"]) == (0, 4)


def test_a_rerun_stores_only_the_rows_not_stored_before(db: Database, tmp_path: Path) -> None:
    rows = [
        {"text": f"临江县统计局第{i}号统计数据发布，欢迎查阅。", "reposts": i}
        for i in range(max(BATCH_ROWS, PROGRESS_EVERY) + 100)  # several batches
    ]
    half = write_jsonl(tmp_path / "half.jsonl", rows[:300])
    whole = write_jsonl(tmp_path / "whole.jsonl", rows)
    import_json(str(half), "--no-classify")

    summary, stderr = import_json(str(whole), "--no-classify")

    assert (summary["stored"], summary["duplicates"]) == (len(rows) - 300, 300)
    assert len(mentions(db)) == len(rows)
    assert f"{PROGRESS_EVERY} rows read" in stderr
    with db.transaction() as session:
        run = session.scalars(
            select(CrawlRun).where(CrawlRun.cycle_id == summary["cycle_id"])
        ).one()
        assert (run.found, run.stored, run.skipped) == (len(rows), len(rows) - 300, 300)
        assert run.status == "ok"


def test_bad_rows_are_reported_by_line_and_the_good_ones_stored(
    db: Database, tmp_path: Path
) -> None:
    good = {"text": "临江县统计局发布了最新的人口普查数据公报。"}
    path = tmp_path / "bad.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps(RELEVANT[0], ensure_ascii=False),
                "{not json",
                "[1, 2]",
                "",
                json.dumps({"text": "  "}),
                json.dumps({**good, "published_at": "上个月某天"}, ensure_ascii=False),
                json.dumps({**good, "likes": -3}, ensure_ascii=False),
                json.dumps({**good, "title": {"x": 1}}, ensure_ascii=False),
                json.dumps(good, ensure_ascii=False),
            ]
        )
        + "\n",
        encoding="utf-8",
    )

    code, stdout, stderr = invoke("import", str(path), "--no-classify")

    assert code == 0, stderr
    lines = stderr.splitlines()
    for number, reason in [
        (2, "not JSON"),
        (3, "not a JSON object"),
        (5, "no text"),
        (6, "unreadable time '上个月某天'"),
        (7, "negative count -3"),
        (8, "title is not text"),
    ]:
        assert any(f"line {number}:" in line and reason in line for line in lines), (number, stderr)
    assert "8 rows read, 2 stored, 0 duplicates, 0 not relevant, 6 bad rows" in stdout
    assert len(mentions(db)) == 2
    with db.transaction() as session:
        run = session.scalars(select(CrawlRun)).one()
        assert (run.found, run.stored, run.failed) == (8, 2, 6)
        assert run.cycle_id.startswith("import-") and run.finished_at is not None
        source = session.get(Source, run.source_id)
        assert source is not None and (source.name, source.kind) == ("导入:bad.jsonl", "import")
        entry = session.scalars(select(AuditEntry)).one()
        assert (entry.action, entry.object_id) == ("mentions.import", str(run.id))
        assert entry.after is not None and entry.after["bad_rows"] == 6


def test_a_csv_bad_row_is_reported_by_its_spreadsheet_row(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(
        "标题,内容,发布时间\n"
        '多行,"临江县统计局发布公报，\n内容有两行。",2026-11-20\n'
        "坏时间,临江县统计局发布公报的另一篇报道。,不详\n",
        encoding="utf-8",
    )

    summary, stderr = import_json(str(path), "--no-classify", "--source", "上级转办")

    assert "row 3: skipped, unreadable time '不详'" in stderr
    assert (summary["stored"], summary["bad_rows"], summary["source"]) == (1, 1, "上级转办")


# --- unusable input -------------------------------------------------------------------------


def test_unusable_input_exits_2_with_a_clear_message(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("标题,正文\n临江,临江县统计局发布公报的报道。\n", encoding="utf-8")
    no_text = tmp_path / "no_text.csv"
    no_text.write_text("标题,备注\n临江,无\n", encoding="utf-8")

    code, _, stderr = invoke("import", str(path), "--map", "内文=text")
    assert code == 2
    assert "no column '内文'" in stderr and "'标题', '正文'" in stderr

    code, _, stderr = invoke("import", str(no_text))
    assert code == 2
    assert "no text column" in stderr and "'备注'" in stderr

    for args, message in [
        ((str(path), "--map", "正文=body"), "unknown field 'body'"),
        ((str(tmp_path / "missing.csv"),), "no such file"),
        ((str(tmp_path / "list.pdf"),), "unknown format '.pdf'"),
        ((str(path), "--format", "xml"), "unknown format 'xml'"),
        ((str(path), "--sheet", "Sheet1"), "--sheet is for .xlsx"),
    ]:
        code, _, stderr = invoke("import", *args)
        assert code == 2, args
        assert message in stderr, (args, stderr)
    assert not (data_dir / "yuqing.db").exists(), "nothing is written for unusable input"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, 0),
        ("", 0),
        ("-", 0),
        (17, 17),
        (12.0, 12),
        ("1,234", 1234),
        ("1.2万", 12_000),
        ("3.5w", 35_000),
        ("10万+", 100_000),
        ("2亿", 200_000_000),
    ],
)
def test_counts_as_exports_write_them(value: Any, expected: int) -> None:
    assert parse_count(value) == expected


@pytest.mark.parametrize("value", ["-3", -1, "很多", True, float("nan")])
def test_counts_that_are_not_counts(value: Any) -> None:
    with pytest.raises(BadRow):
        parse_count(value)


# --- classification -------------------------------------------------------------------------


def test_imported_mentions_are_classified(db: Database, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "judge.jsonl", RELEVANT)

    code, stdout, stderr = invoke("import", str(path))

    assert code == 0, stderr
    assert "2 stored" in stdout and "2 classified" in stdout
    stored = mentions(db)
    assert all(m.judgement is not None for m in stored)
    scam = stored[1].judgement
    assert scam is not None and scam.category == "scam"
    with db.transaction() as session:
        assert len(session.scalars(select(Judgement)).all()) == 2
