"""Publication times as Chinese sites write them, read against a fixed `now` in office time."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from responder.intake.dates import parse_time

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Sunday in March: far from a year boundary, so short dates stay in the current year.
NOW = datetime(2026, 3, 15, 10, 0, tzinfo=SHANGHAI)
EARLY_JANUARY = datetime(2026, 1, 5, 10, 0, tzinfo=SHANGHAI)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3分钟前", NOW - timedelta(minutes=3)),
        ("2小时前", NOW - timedelta(hours=2)),
        ("30秒前", NOW - timedelta(seconds=30)),
        ("2天前", NOW - timedelta(days=2)),
        ("1周前", NOW - timedelta(weeks=1)),
        # Traditional characters, as Big5 pages and Hong Kong/Taiwan reposts write them.
        ("3分鐘前", NOW - timedelta(minutes=3)),
        ("2小時前", NOW - timedelta(hours=2)),
        ("1週前", NOW - timedelta(weeks=1)),
    ],
)
def test_relative_times_count_back_from_now(text: str, expected: datetime) -> None:
    assert parse_time(text, SHANGHAI, NOW) == expected


def test_just_now_is_now() -> None:
    assert parse_time("刚刚", SHANGHAI, NOW) == NOW
    assert parse_time("剛剛", SHANGHAI, NOW) == NOW


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今天 09:15", at(2026, 3, 15, 9, 15)),
        ("昨天 12:30", at(2026, 3, 14, 12, 30)),
        ("前天 08:00", at(2026, 3, 13, 8, 0)),
        ("昨天", at(2026, 3, 14, 0, 0)),
    ],
)
def test_day_words_name_a_day_back_from_today(text: str, expected: datetime) -> None:
    assert parse_time(text, SHANGHAI, NOW) == expected


def test_relative_times_are_read_in_office_time_zone() -> None:
    # 20:00 UTC on the 14th is already 04:00 on the 15th in Shanghai, so "昨天" is the 14th.
    utc_now = datetime(2026, 3, 14, 20, 0, tzinfo=UTC)

    found = parse_time("昨天 12:30", SHANGHAI, utc_now)

    assert found == at(2026, 3, 14, 12, 30)
    assert found is not None and found.utcoffset() == timedelta(hours=8)


def test_day_word_crosses_a_month_boundary() -> None:
    assert parse_time("前天 23:59", SHANGHAI, at(2026, 3, 1, 8, 0)) == at(2026, 2, 27, 23, 59)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024年1月2日 08:00", at(2024, 1, 2, 8, 0)),
        ("2024年1月2日", at(2024, 1, 2)),
        ("2024-01-02 08:00:05", at(2024, 1, 2, 8, 0, 5)),
        ("2024/1/2", at(2024, 1, 2)),
        ("2024.1.2 18:05", at(2024, 1, 2, 18, 5)),
        ("发布时间：2024-01-02 08:00", at(2024, 1, 2, 8, 0)),
    ],
)
def test_full_dates_are_read_in_office_time_zone(text: str, expected: datetime) -> None:
    found = parse_time(text, SHANGHAI, NOW)

    assert found == expected
    assert found is not None and found.tzinfo == SHANGHAI


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("01-02", at(2026, 1, 2)),
        ("3月10日 14:20", at(2026, 3, 10, 14, 20)),
        ("03/14", at(2026, 3, 14)),
    ],
)
def test_short_dates_fall_in_the_current_year(text: str, expected: datetime) -> None:
    assert parse_time(text, SHANGHAI, NOW) == expected


def test_december_date_read_in_january_means_last_year() -> None:
    assert parse_time("12-30", SHANGHAI, EARLY_JANUARY) == at(2025, 12, 30)


def test_short_date_later_in_the_year_means_last_year() -> None:
    # A page cannot be published in the future: 3月20日 read on 15 March is last year's.
    assert parse_time("3月20日", SHANGHAI, NOW) == at(2025, 3, 20)


def test_short_date_of_tomorrow_is_kept_in_this_year() -> None:
    # Clock skew between sites tolerates one day ahead.
    assert parse_time("3月16日", SHANGHAI, NOW) == at(2026, 3, 16)


def test_iso_time_with_offset_keeps_its_offset() -> None:
    found = parse_time("2024-01-02T08:00:00+00:00", SHANGHAI, NOW)

    assert found == datetime(2024, 1, 2, 8, 0, tzinfo=UTC)
    assert found is not None and found.utcoffset() == timedelta(0)


def test_iso_time_with_z_suffix_is_utc() -> None:
    assert parse_time("2024-01-02T08:00:00Z", SHANGHAI, NOW) == datetime(
        2024, 1, 2, 8, 0, tzinfo=UTC
    )


def test_iso_time_without_offset_is_office_time() -> None:
    found = parse_time("2024-01-02T08:00:00", SHANGHAI, NOW)

    assert found == at(2024, 1, 2, 8, 0)
    assert found is not None and found.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize("text", ["", "   ", "garbage", "暂无日期", "阅读 1234"])
def test_text_without_a_time_gives_none(text: str) -> None:
    assert parse_time(text, SHANGHAI, NOW) is None


@pytest.mark.parametrize("text", ["2024-02-30", "2024年2月30日", "2023-13-01 08:00", "02-30"])
def test_impossible_dates_give_none(text: str) -> None:
    assert parse_time(text, SHANGHAI, NOW) is None


def test_without_now_relative_times_use_the_clock() -> None:
    before = datetime.now(SHANGHAI)

    found = parse_time("刚刚", SHANGHAI)

    assert found is not None
    assert before <= found <= datetime.now(SHANGHAI)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24-5-13 17:07", at(2024, 5, 13, 17, 7)),  # Weibo: a post from an earlier year
        ("25-12-31", at(2025, 12, 31)),
        ("来自 24-5-13 17:08 来自福建", at(2024, 5, 13, 17, 8)),
    ],
)
def test_a_two_digit_year_is_this_century(text: str, expected: datetime) -> None:
    assert parse_time(text, SHANGHAI, NOW) == expected


def test_a_two_digit_year_in_the_future_is_not_a_date() -> None:
    # "99-12-31" would be 2099: not a time anything was published; nor are a phone's digits.
    assert parse_time("99-12-31", SHANGHAI, NOW) is None
    assert parse_time("0571-8888-1234", SHANGHAI, NOW) is None
