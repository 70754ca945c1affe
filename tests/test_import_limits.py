"""`yuqing import` within its bounds: a file too big, a line or cell too long, too many rows,
JSON nested too deep and an XLSX zip bomb are refused with the line or row and the setting,
quickly and without the memory they ask for."""

from __future__ import annotations

import csv
import json
import time
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest

from responder.intake.columns import BadRow
from responder.intake.columns import read_record as _record
from responder.intake.tables import UnusableInput, open_file
from responder.settings import LimitsSettings
from tests.test_import import RELEVANT, invoke, mentions, write_jsonl

GOOD = {"text": "临江县统计局发布了最新的人口普查数据公报。"}


def read(path: Path, limits: LimitsSettings) -> list[str]:
    """Each row's outcome: "ok" or the reason it was refused, prefixed by where it is."""
    table = open_file(path, limits=limits)
    outcomes = []
    for row in table.rows:
        try:
            if row.error:
                raise BadRow(row.error)
            _record(row.values, table.resolved, limits.import_cell_chars)
            outcomes.append(f"{row.where}: ok")
        except BadRow as exc:
            outcomes.append(f"{row.where}: {exc}")
    return outcomes


def test_a_json_line_nested_100k_deep_is_a_bad_line_not_a_crash(db, tmp_path, monkeypatch):
    path = write_jsonl(tmp_path / "deep.jsonl", [RELEVANT[0]])
    with path.open("a", encoding="utf-8") as f:
        f.write('{"text": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
        f.write("[" * 100_000 + "\n")  # unbalanced as well
        f.write(json.dumps(RELEVANT[1], ensure_ascii=False) + "\n")

    code, stdout, stderr = invoke("import", str(path), "--no-classify")

    assert code == 0, stderr
    assert "line 2: skipped, JSON nested more than 20 levels deep" in stderr
    assert "line 3: skipped, JSON nested more than 20 levels deep" in stderr
    assert "RecursionError" not in stderr and len(mentions(db)) == 2


def test_a_long_cell_or_line_is_refused_with_its_row_and_setting(tmp_path):
    limits = LimitsSettings(import_cell_chars=1_000, import_row_chars=5_000)
    jsonl = write_jsonl(
        tmp_path / "long.jsonl", [GOOD, {"text": "统" * 2_000}, {"text": "统" * 9_000}, GOOD]
    )
    assert read(jsonl, limits) == [
        "line 1: ok",
        "line 2: text longer than 1000 characters (limits.import_cell_chars)",
        "line 3: longer than 5000 characters (limits.import_row_chars)",
        "line 4: ok",
    ]
    table = tmp_path / "long.csv"
    with table.open("w", encoding="utf-8", newline="") as f:
        rows = [["标题", "正文"], ["a", GOOD["text"]], ["b", "统" * 2_000], ["c", "d"]]
        csv.writer(f).writerows(rows)
    outcomes = read(table, limits)
    assert outcomes[0] == "row 2: ok"
    assert outcomes[1].startswith("row 3: a cell longer than 1000 characters")
    assert "the rest of the file is not read" in outcomes[1] and len(outcomes) == 2


def test_a_sixty_megabyte_cell_is_refused_fast_and_in_little_memory(tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("w", encoding="utf-8") as f:
        f.write("标题,正文\nx,")
        for _ in range(60):
            f.write("a" * (1 << 20))
        f.write("\n")
    started = time.perf_counter()
    tracemalloc.start()
    try:
        outcomes = read(path, LimitsSettings())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert outcomes == [
        "row 2: longer than 1000000 characters (limits.import_row_chars); "
        "the rest of the file is not read"
    ]
    assert peak < 50 << 20 and time.perf_counter() - started < 20


def test_more_rows_than_allowed_stop_at_the_first_one_over(tmp_path):
    path = write_jsonl(tmp_path / "many.jsonl", [GOOD] * 5)
    assert read(path, LimitsSettings(import_rows=3))[-1] == (
        "line 4: more than 3 rows; this one and the rest not read (limits.import_rows)"
    )
    table = tmp_path / "many.csv"
    with table.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["正文"]] + [[GOOD["text"]]] * 5)
    assert read(table, LimitsSettings(import_rows=3)) == [
        "row 2: ok",
        "row 3: ok",
        "row 4: ok",
        "row 5: more than 3 rows; this one and the rest not read (limits.import_rows)",
    ]


def test_a_file_over_the_size_bound_is_refused_before_reading(data_dir, tmp_path, monkeypatch):
    path = write_jsonl(tmp_path / "big.jsonl", [GOOD] * 2_000)
    monkeypatch.setenv("YUQING_LIMITS__IMPORT_FILE_MB", "0.01")
    code, _stdout, stderr = invoke("import", str(path), "--no-classify")
    assert code == 2 and "limits.import_file_mb" in stderr


def test_an_xlsx_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    path = tmp_path / "bomb.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["正文"])
    sheet.append([GOOD["text"]])
    book.save(path)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("xl/bomb.xml", "w") as part:
            for _ in range(30):
                part.write(bytes(1 << 20))
    assert path.stat().st_size < 1 << 20
    with pytest.raises(UnusableInput, match=r"unpacks to 30 MB.*limits.import_xlsx_mb"):
        open_file(path, limits=LimitsSettings(import_xlsx_mb=10))
    assert read(path, LimitsSettings()) == ["row 2: ok"]
