"""The one clock: the suite's pinned instant reaches this process and the processes it starts,
and the office's day is the day in its own time zone, at the calendar's edges too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from responder import clock
from responder.intake.dates import parse_time
from responder.intake.mentions import MentionRecord, store
from responder.running.overview import overview

SH = ZoneInfo("Asia/Shanghai")
REPO = Path(__file__).resolve().parent.parent


def child_clock(env: dict[str, str] | None = None) -> datetime:
    """What a process started now believes the time is, through its entry point's seam."""
    code = "from responder import clock; clock.follow_environment(); print(clock.now().isoformat())"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        timeout=60,
    )
    return datetime.fromisoformat(done.stdout.strip())


def test_a_started_process_reads_the_same_time_as_the_suite():
    # With `--now` both are the pinned instant plus the time since; without it both are real.
    before = clock.now()
    seen = child_clock()
    assert before - timedelta(seconds=1) <= seen <= clock.now() + timedelta(seconds=1)


def test_the_cli_in_a_started_process_follows_the_offset(tmp_path: Path, data_dir: Path):
    target = datetime(2030, 7, 15, 12, 0, tzinfo=SH)  # pinned on purpose: a day years ahead
    # The offset is against the real clock, whatever instant the suite itself is pinned to.
    hatch = time_machine.escape_hatch
    real = hatch.time.time() if hatch.is_travelling() else datetime.now(UTC).timestamp()
    offset = target.timestamp() - real
    done = subprocess.run(
        [sys.executable, "-m", "responder.cli", "duty", "--days", "1", "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, clock.OFFSET_ENV: repr(offset)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)[0]["day"] == "2030-07-15"


def test_a_bad_offset_is_refused_naming_the_variable():
    with pytest.raises(ValueError, match=clock.OFFSET_ENV):
        clock.follow_environment({clock.OFFSET_ENV: "tomorrow"})
    clock.follow_environment({})
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=1)


def test_at_five_past_midnight_pinned_the_office_day_has_begun_while_utc_is_still_yesterday():
    with time_machine.travel(datetime(2027, 3, 1, 0, 5, tzinfo=SH), tick=False):
        assert clock.today(SH) == date(2027, 3, 1)
        assert clock.now().date() == date(2027, 2, 28)


def test_the_dashboard_day_at_a_month_start_pinned_is_the_office_day(settings, db):
    # 00:05 on 1 March in Asia/Shanghai is 16:05 on 28 February in UTC: a mention at 00:01
    # office time is today's, one at 23:50 the evening before is not.
    pinned = datetime(2027, 3, 1, 0, 5, tzinfo=SH)
    with time_machine.travel(pinned, tick=False), db.transaction() as session:
        for n, at in enumerate((pinned - timedelta(minutes=4), pinned - timedelta(minutes=15))):
            record = MentionRecord(
                url=f"http://news.example/{n}",
                title=f"临江县统计局消息{n}",
                text=f"临江县统计局第{n}条消息。",
                published_at=at,
            )
            assert store(session, record) is not None
        summary = overview(session, settings, clock.now())
    assert summary.today == date(2027, 3, 1)
    assert summary.new_today == 1


def test_a_yearless_byline_of_29_february_read_on_1_march_of_a_leap_year_pinned():
    now = datetime(2028, 3, 1, 0, 5, tzinfo=SH)
    assert parse_time("02-29 23:55", SH, now) == datetime(2028, 2, 29, 23, 55, tzinfo=SH)
    assert parse_time("2月29日 23:55", SH, now) == datetime(2028, 2, 29, 23, 55, tzinfo=SH)


def test_a_december_byline_read_on_new_years_eve_pinned_is_this_year():
    # One minute before midnight office time on 31 December: UTC is still on the 31st too,
    # and a byline of that evening is not pushed back a year.
    with time_machine.travel(datetime(2026, 12, 31, 23, 59, tzinfo=SH), tick=False):
        assert parse_time("12-31 23:30", SH) == datetime(2026, 12, 31, 23, 30, tzinfo=SH)
