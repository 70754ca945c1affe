"""The rotating duty: who is on duty on each day, overrides, and handover notes."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from responder import clock
from responder.cli import app
from responder.db import Database
from responder.models import AuditEntry, DutyRoster
from responder.notices.duty import duty_day, record_handover, schedule
from responder.settings import ConfigError, load_settings

PEOPLE = [
    {"name": "王敏", "email": "wm@example.org", "phone": "13800000001"},
    {"name": "李强", "email": "lq@example.org", "phone": "13800000002"},
    {"name": "赵雪", "email": "zx@example.org", "phone": "13800000003"},
]


def config(tmp_path: Path, **duty: object) -> Path:
    folder = tmp_path / "config"
    folder.mkdir(exist_ok=True)
    doc = {"start": "2026-11-01", "people": PEOPLE, "order": ["王敏", "李强", "赵雪"], **duty}
    (folder / "duty.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return folder


def test_the_rotation_follows_the_order_from_the_start_date_with_overrides(tmp_path, data_dir):
    settings = load_settings(config(tmp_path, overrides={"2026-11-05": "赵雪"}))
    db = Database(settings)
    with db.sessions() as session:
        plan = schedule(session, settings, date(2026, 11, 1), 6)
    db.dispose()
    assert [(d.person.name if d.person else None, d.how) for d in plan] == [
        ("王敏", "rotation"),
        ("李强", "rotation"),
        ("赵雪", "rotation"),
        ("王敏", "rotation"),
        ("赵雪", "override"),
        ("赵雪", "rotation"),
    ]


def test_an_override_naming_someone_not_on_the_list_is_refused(tmp_path, data_dir):
    with pytest.raises(ConfigError, match="overrides.2026-11-05") as caught:
        load_settings(config(tmp_path, overrides={"2026-11-05": "张三"}))
    assert "duty.yaml" in str(caught.value) and "张三" in str(caught.value)


def test_a_roster_entry_for_another_person_wins_over_the_rotation(tmp_path, data_dir):
    settings = load_settings(config(tmp_path))
    db = Database(settings)
    with db.transaction() as session:
        session.add(DutyRoster(day=date(2026, 11, 1), person="赵雪"))
    with db.sessions() as session:
        day = duty_day(session, settings, date(2026, 11, 1))
    db.dispose()
    assert day.person is not None and (day.person.name, day.how) == ("赵雪", "roster")


def test_a_handover_note_is_stored_audited_and_keeps_the_rotation(tmp_path, data_dir):
    settings = load_settings(config(tmp_path))
    db = Database(settings)
    day = date(2026, 11, 2)
    with db.transaction() as session:
        record_handover(session, settings, day, "论坛帖子仍在发酵，请继续关注。", "李强")
    with db.transaction() as session:
        record_handover(session, settings, day, "已报分管领导。", "李强")
    with db.sessions() as session:
        planned = duty_day(session, settings, day)
        audits = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "duty.handover").order_by(AuditEntry.id)
        ).all()
        with pytest.raises(ValueError, match="empty"):
            record_handover(session, settings, day, "  ", "李强")
    db.dispose()
    assert planned.person is not None
    assert (planned.person.name, planned.how, planned.handover_note) == (
        "李强",
        "rotation",
        "已报分管领导。",
    )
    assert [a.before for a in audits] == [None, {"handover_note": "论坛帖子仍在发酵，请继续关注。"}]
    assert audits[1].after == {"person": "李强", "handover_note": "已报分管领导。"}


def test_yuqing_duty_shows_today_the_next_fourteen_days_and_the_handover(tmp_path, data_dir):
    folder = config(tmp_path)
    runner = CliRunner()
    done = runner.invoke(
        app, ["--config", str(folder), "duty", "handover", "--note", "普查泄露帖已报领导"]
    )
    assert done.exit_code == 0, done.output
    shown = runner.invoke(app, ["--config", str(folder), "duty"])
    assert shown.exit_code == 0
    lines = shown.stdout.splitlines()
    today = clock.now().astimezone(load_settings(folder).tz).date()
    assert lines[0].startswith(f"今天 {today.isoformat()}")
    days = [line for line in lines if re.match(r"^(今天 | {5})\d{4}-\d\d-\d\d 周", line)]
    assert len(days) == 15
    assert "普查泄露帖已报领导" in shown.stdout
    as_json = json.loads(runner.invoke(app, ["--config", str(folder), "duty", "--json"]).stdout)
    assert len(as_json) == 15
    assert as_json[14]["day"] == (today + timedelta(days=14)).isoformat()
    assert as_json[0]["handover_note"] == "普查泄露帖已报领导"

    empty = runner.invoke(app, ["--config", str(folder), "duty", "handover", "--note", " "])
    assert empty.exit_code == 2 and "empty" in empty.stderr
