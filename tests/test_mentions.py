"""Canonical URLs, content hashes and de-duplicated storage of mentions in a real SQLite DB."""

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from responder import plaintext
from responder.db import Database
from responder.intake.mentions import MentionRecord, canonical_url, content_hash, store
from responder.models import Mention
from responder.settings import load_settings

ARTICLE = "https://news.example.cn/2026/11/20/statistics.html"


# --- canonical_url -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "param",
    [
        "utm_source=weixin",
        "utm_medium=social",
        "UTM_Campaign=x",
        "spm=a2c4g.11186623",
        "from=timeline",
        "share_token=abc",
        "fbclid=IwAR0",
        "gclid=Cj0",
        "vd_source=1f2e",
        "timestamp=1700000000",
    ],
)
def test_canonical_url_strips_tracking_parameters(param: str) -> None:
    assert canonical_url(f"{ARTICLE}?id=7&{param}") == f"{ARTICLE}?id=7"


def test_canonical_url_keeps_other_parameters_sorted() -> None:
    url = "https://news.example.cn/list?page=2&cat=stats&utm_source=wx&amp=&b=1"

    assert canonical_url(url) == "https://news.example.cn/list?amp=&b=1&cat=stats&page=2"


def test_canonical_url_keeps_parameters_that_only_start_like_tracking_ones() -> None:
    assert canonical_url(f"{ARTICLE}?fromage=brie&from=qq") == f"{ARTICLE}?fromage=brie"


def test_canonical_url_lower_cases_scheme_and_host_but_not_path() -> None:
    assert canonical_url("HTTPS://News.Example.CN/Stats/A.html") == (
        "https://news.example.cn/Stats/A.html"
    )


def test_canonical_url_drops_the_fragment() -> None:
    assert canonical_url(f"{ARTICLE}#comments") == ARTICLE


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://news.example.cn:80/a.html", "http://news.example.cn/a.html"),
        ("https://news.example.cn:443/a.html", "https://news.example.cn/a.html"),
    ],
)
def test_canonical_url_drops_the_default_port(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8701/news/a.html", "https://news.example.cn:80/a.html"],
)
def test_canonical_url_keeps_a_port_that_is_not_the_scheme_default(url: str) -> None:
    assert canonical_url(url) == url


def test_canonical_url_gives_an_empty_path_a_slash() -> None:
    assert canonical_url("https://news.example.cn") == "https://news.example.cn/"


def test_urls_differing_only_in_tracking_and_order_share_one_canonical_form() -> None:
    shared = "https://M.Weibo.cn/status/123?b=2&a=1&utm_source=share&spm=x#reply"

    assert canonical_url(shared) == canonical_url("https://m.weibo.cn/status/123?a=1&b=2")


# --- content_hash --------------------------------------------------------------------------


def test_content_hash_ignores_whitespace_and_punctuation() -> None:
    plain = content_hash("临江县统计局回应", "数据 真实可靠，欢迎监督！")

    assert plain == content_hash("临江县统计局回应 ", "数据真实可靠 欢迎监督")
    assert plain == content_hash("临江县统计局回应：", "数据\n真实可靠。。。欢迎监督")


def test_content_hash_ignores_letter_case() -> None:
    assert content_hash("GDP", "Growth") == content_hash("gdp", "growth")


def test_content_hash_differs_for_different_words() -> None:
    assert content_hash("临江县统计局回应", "数据真实可靠") != content_hash(
        "临江县统计局回应", "数据造假严重"
    )


def test_content_hash_is_a_sha256_hex_digest() -> None:
    digest = content_hash("标题", "正文")

    assert len(digest) == 64
    assert int(digest, 16) >= 0


# --- store ---------------------------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    settings = load_settings(env={"YUQING_DATA": str(tmp_path)})
    database = Database(settings)
    yield database
    database.dispose()


def record(
    url: str = ARTICLE, text: str = "临江县统计局发布2025年统计公报，GDP增长5.8%。", **kw: Any
) -> MentionRecord:
    return MentionRecord(url=url, text=text, title=kw.pop("title", "统计公报发布"), **kw)


def mention_count(db: Database) -> int:
    with db.transaction() as s:
        return s.scalar(select(func.count()).select_from(Mention)) or 0


def test_store_saves_the_mention_with_its_canonical_url_and_hash(db: Database) -> None:
    published = datetime(2026, 11, 20, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    with db.transaction() as s:
        stored = store(
            s,
            record(
                url=f"{ARTICLE}?utm_source=wx#top",
                outlet="江州日报",
                published_at=published,
                reposts=3,
                keywords_matched=["统计公报"],
            ),
        )
        assert stored is not None

    with db.transaction() as s:
        row = s.scalars(select(Mention)).one()
        assert row.url == f"{ARTICLE}?utm_source=wx#top"
        assert row.canonical_url == ARTICLE
        assert row.content_hash == content_hash(row.title, row.text)
        assert row.outlet == "江州日报"
        assert row.published_at == published
        assert row.reposts == 3
        assert row.keywords_matched == ["统计公报"]


def test_second_store_of_same_url_with_tracking_params_is_skipped(db: Database) -> None:
    with db.transaction() as s:
        assert store(s, record()) is not None
    with db.transaction() as s:
        again = record(url=f"{ARTICLE}?utm_source=weixin&spm=1.2#comments", text="完全不同的正文。")
        assert store(s, again) is None

    assert mention_count(db) == 1


def test_second_store_of_same_text_at_another_url_is_skipped(db: Database) -> None:
    with db.transaction() as s:
        assert store(s, record()) is not None
    with db.transaction() as s:
        repost = record(
            url="https://bbs.example.cn/thread/99",
            text="临江县统计局发布2025年统计公报 GDP增长5.8%",
        )
        assert store(s, repost) is None

    assert mention_count(db) == 1


def test_duplicate_within_one_transaction_is_skipped(db: Database) -> None:
    with db.transaction() as s:
        assert store(s, record()) is not None
        assert store(s, record(url=f"{ARTICLE}?from=timeline")) is None

    assert mention_count(db) == 1


def test_different_url_and_text_are_both_stored(db: Database) -> None:
    with db.transaction() as s:
        assert store(s, record()) is not None
        assert store(s, record(url=f"{ARTICLE}?id=2", text="普查员上门登记，请配合。")) is not None

    assert mention_count(db) == 2


def test_a_batch_store_stays_in_the_callers_transaction(db):
    """A failure later in the same transaction takes the stored batch back with it (pysqlite
    would otherwise commit the batch's SAVEPOINT on its own)."""
    from sqlalchemy import func, select

    from responder.intake.mentions import MentionRecord, store_many
    from responder.models import Mention

    class Later(Exception):
        pass

    records = [
        MentionRecord(url=f"http://a.example/{n}", text=f"统计局发布公报第{n}期") for n in range(3)
    ]
    try:
        with db.transaction() as session:
            assert store_many(session, records)[0] == 3
            raise Later
    except Later:
        pass
    with db.sessions() as session:
        assert session.scalar(select(func.count(Mention.id))) == 0


# --- clean: stored text is the page's own text ----------------------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _non_space(text: str) -> list[str]:
    """The characters a reader sees: whitespace aside, and the control characters that
    `responder.plaintext` takes out where text enters (they drive terminals, not readers)."""
    return [c for c in plaintext.multi_line(text) if not c.isspace()]


def test_stored_title_and_text_keep_full_width_punctuation_and_traditional_characters() -> None:
    from responder.intake.mentions import clean
    from responder.settings import PrivacySettings

    record = MentionRecord(
        url=ARTICLE,
        title="统计局：系冒充诈骗？",
        text="  市统计局提醒：近期有人冒充“普查员”（上门）收费！\n\n臺灣讀者亦請留意。😭  ",
    )
    cleaned = clean(record, SHANGHAI, PrivacySettings(mask=False))

    assert cleaned is not None
    assert cleaned.title == "统计局：系冒充诈骗？"
    assert cleaned.text == "市统计局提醒：近期有人冒充“普查员”（上门）收费！\n臺灣讀者亦請留意。😭"


def test_content_hash_matches_full_width_and_half_width_copies_of_a_story() -> None:
    assert content_hash("统计局：系冒充诈骗？", "全文ＡＢＣ１２３") == content_hash(
        "统计局:系冒充诈骗?", "全文ABC123"
    )


def test_keywords_match_full_width_and_traditional_text_that_is_stored_as_is() -> None:
    import nlp
    from nlp.types import KeywordRules

    rules = KeywordRules(include=["统计局", "CPI"])
    assert nlp.match_keywords("臨江縣統計局發佈ＣＰＩ", rules) == ["统计局", "CPI"]


@given(st.text(max_size=300), st.text(max_size=60))
def test_storage_never_changes_a_character_other_than_whitespace_and_controls(
    text: str, title: str
) -> None:
    from responder.intake.mentions import clean
    from responder.settings import PrivacySettings

    cleaned = clean(
        MentionRecord(url=ARTICLE, text=text, title=title), SHANGHAI, PrivacySettings(mask=False)
    )
    if cleaned is None:
        return  # under MIN_TEXT_CHARS: not stored at all
    assert _non_space(cleaned.text) == _non_space(text)
    assert _non_space(cleaned.title) == _non_space(title)
