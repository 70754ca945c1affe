"""Bad input for every parser of outside data: each either parses or fails with its named error.

Property-based (hypothesis): pages and their encodings, feeds, publication times, engagement
counts, numbers and units in claims, imported JSONL/CSV/XLSX and the configuration files.
Examples are kept few (`FUZZ`) so the module runs in seconds; the `@example`s are inputs that
once broke a parser.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawlers.encoding import EncodingMiddleware, choose_encoding
from crawlers.extract import extract_article, html_to_text, listed_articles, next_page
from crawlers.items import MentionItem
from crawlers.spiders.rss import RssSpider
from nlp import Fact
from nlp.claims import claims_about
from responder.intake.columns import ALIASES, BadRow
from responder.intake.columns import read_record as _record
from responder.intake.counts import parse_count
from responder.intake.dates import parse_time
from responder.intake.tables import UnusableInput, open_file
from responder.settings import ConfigError, Section, Settings, Source, load_settings

# Modest on purpose: the whole module must stay well under half a minute on two cores.
FUZZ = settings(max_examples=120, deadline=None)
FEW = settings(max_examples=40, deadline=None)
# Tests that write files into a pytest tmp_path reuse it across examples; each example writes
# its own files first, so no example sees another's.
FILES = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 22, 10, 30, tzinfo=TZ)
SITE = "http://news.example.cn"

# Characters pages and posts are made of: CJK, ASCII, full-width punctuation, digits of other
# scripts (`\d` matches them), NUL and other control characters. Lone surrogates are left out:
# decoded text cannot hold them.
CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
TEXT_CHARS = st.one_of(
    CJK,
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.sampled_from(
        "，。：；！？“”（）【】《》、·—…０１２３４５６７８９\u3000\u00a0\t\n\r\x00\x0b\x1f"
    ),
    st.characters(categories=["Nd"]),
    st.characters(exclude_categories=["Cs"]),
)
text = st.text(TEXT_CHARS, max_size=80)
# Sentences as county news pages write them.
SENTENCES = [
    "临江县统计局发布2025年国民经济和社会发展统计公报。",
    "全县地区生产总值同比增长5.8%，城镇居民人均可支配收入46320元。",
    "第七次全国人口普查入户登记工作全面展开，请广大居民积极配合。",
    "近日有网民反映，部分调查员入户时未出示证件。",
    "县统计局回应称，将进一步规范普查员的工作流程。",
    "网传我县失业率高达百分之十二，经核实系谣言。",
    "本站讯（记者 周敏）",
    "今年一季度，全县规模以上工业增加值增长六点二个百分点。",
]


# --- publication times --------------------------------------------------------------------

TIME_PIECES = st.sampled_from(
    [
        "刚刚",
        "分钟前",
        "小时前",
        "天前",
        "周前",
        "秒前",
        "今天",
        "昨天",
        "前天",
        "年",
        "月",
        "日",
        "-",
        "/",
        ".",
        ":",
        "：",
        "时",
        "分",
        " ",
        "T",
        "Z",
        "+08:00",
        "发布时间：",
    ]
)
time_text = st.lists(st.one_of(TIME_PIECES, st.integers(0, 10**12).map(str), text), max_size=8).map(
    "".join
)


@FUZZ
@given(time_text)
@example("99999999999天前")
@example("9999999999周前")
def test_any_time_text_gives_an_aware_time_or_none(written: str) -> None:
    found = parse_time(written, TZ, now=NOW)
    assert found is None or found.tzinfo is not None


@FUZZ
@given(
    st.integers(0, 10_000),
    st.sampled_from(["秒", "分钟", "小时", "天", "周"]),
    st.sampled_from(["", "发布于 ", "· "]),
)
def test_a_relative_time_is_never_after_now(n: int, unit: str, prefix: str) -> None:
    found = parse_time(f"{prefix}{n}{unit}前", TZ, now=NOW)
    assert found is not None and found <= NOW
    seconds = {"秒": 1, "分钟": 60, "小时": 3600, "天": 86400, "周": 604800}[unit]
    assert NOW - found == timedelta(seconds=n * seconds)


@FUZZ
@given(
    st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)).map(
        lambda d: d.replace(second=0, microsecond=0)
    )
)
def test_a_written_chinese_date_reads_back(moment: datetime) -> None:
    written = f"{moment.year}年{moment.month}月{moment.day}日 {moment.hour:02d}:{moment.minute:02d}"
    assert parse_time(written, TZ, now=NOW) == moment.replace(tzinfo=TZ)


@FUZZ
@given(st.datetimes(datetime(1900, 1, 1), datetime(2999, 12, 31), timezones=st.just(UTC)))
def test_an_iso_time_reads_back(moment: datetime) -> None:
    assert parse_time(moment.isoformat().replace("+00:00", "Z"), TZ, now=NOW) == moment


@FUZZ
@given(st.integers(1, 12), st.integers(1, 31), st.integers(0, 23), st.integers(0, 59))
def test_a_day_without_a_year_is_at_most_a_day_ahead(m: int, d: int, hh: int, mm: int) -> None:
    found = parse_time(f"{m:02d}-{d:02d} {hh:02d}:{mm:02d}", TZ, now=NOW)
    assert found is None or found <= NOW + timedelta(days=1)


# --- engagement counts --------------------------------------------------------------------

count_text = st.one_of(
    text,
    st.lists(
        st.one_of(
            st.sampled_from(["万", "w", "W", "亿", "千", "k", "+", ",", "，", ".", "-", " ", "e"]),
            st.integers(0, 10**400).map(str),
            st.characters(categories=["Nd"]),
        ),
        max_size=6,
    ).map("".join),
)


@FUZZ
@given(st.one_of(count_text, st.integers(), st.floats(), st.none(), st.booleans()))
@example("9" * 400)
@example(float("nan"))
def test_any_count_is_a_non_negative_int_or_a_value_error(value: Any) -> None:
    try:
        count = parse_count(value)
    except ValueError as exc:
        assert str(exc)  # names the value
        return
    assert isinstance(count, int) and count >= 0


@FUZZ
# Up to 10**15: counts are read through a float, exact below 2**53, far above any real count.
@given(st.integers(0, 10**7), st.sampled_from([("", 1), ("万", 10_000), ("亿", 10**8)]))
def test_a_written_count_reads_back(n: int, unit: tuple[str, int]) -> None:
    suffix, scale = unit
    assert parse_count(f"{n:,}{suffix}") == n * scale
    assert parse_count(f"{n}{suffix}+") == n * scale


# --- encodings ----------------------------------------------------------------------------

CHARSETS = ["utf-8", "gbk", "gb2312", "gb18030", "big5", "iso-8859-1", "ascii", "utf-16", "x-bogus"]
charset = st.one_of(st.sampled_from(CHARSETS), st.text(max_size=12))
content_type = st.one_of(
    st.none(), charset.map(lambda c: f"text/html; charset={c}"), st.text(max_size=30)
)


@st.composite
def html_bodies(draw: st.DrawFn) -> bytes:
    """A page as servers send it: a declared (or no) meta charset, text in some encoding,
    perhaps a BOM, perhaps cut short or with stray bytes."""
    meta = draw(st.one_of(st.none(), charset))
    encoding = draw(st.sampled_from(["utf-8", "gb18030", "big5hkscs", "cp1252", "utf-16"]))
    words = draw(st.text(TEXT_CHARS, max_size=60))
    body = f"<html><head>{f'<meta charset={meta}>' if meta else ''}</head><body><p>{words}</p>"
    raw = body.encode(encoding, "replace")
    if draw(st.booleans()):
        raw = draw(st.sampled_from([codecs.BOM_UTF8, codecs.BOM_UTF16_LE, b""])) + raw
    if draw(st.booleans()):
        raw = raw[: draw(st.integers(0, len(raw)))] + draw(st.binary(max_size=8))
    return raw


@FUZZ
@given(content_type, st.one_of(html_bodies(), st.binary(max_size=200)))
def test_any_page_gets_a_real_encoding_and_decodes_to_text(header: str | None, body: bytes) -> None:
    chosen = choose_encoding(header, body)
    assert chosen is None or codecs.lookup(chosen)
    headers = {"Content-Type": header} if header else {}
    response = HtmlResponse(SITE + "/a.html", body=body, headers=headers)
    decoded = EncodingMiddleware(None).process_response(Request(SITE), response)
    assert isinstance(decoded, HtmlResponse)
    assert isinstance(decoded.text, str)
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in decoded.text)


@FUZZ
@given(
    st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=4).map("".join),
    st.sampled_from(["iso-8859-1", "utf-8", None]),
    st.sampled_from(["gbk", "gb2312", None]),
)
def test_a_gbk_page_behind_a_wrong_header_reads_as_written(
    words: str, header: str | None, meta: str | None
) -> None:
    body = f"<html><head>{f'<meta charset={meta}>' if meta else ''}</head><body>{words}</body>"
    raw = body.encode("gb18030")
    # Bytes valid in several encodings are told apart by how plausible the text reads
    # (crawlers.encoding, rule 3), so the words are real sentences: strings such as
    # "一一一一丁丁丁丁" read as Big5 or UTF-8 just as well, and no rule can know better.
    headers = {"Content-Type": f"text/html; charset={header}"} if header else {}
    response = HtmlResponse(SITE + "/a.html", body=raw, headers=headers)
    decoded = EncodingMiddleware(None).process_response(Request(SITE), response)
    assert words in decoded.text


# --- HTML → text and links ----------------------------------------------------------------

TAGS = ["p", "div", "br", "span", "a", "h1", "li", "ul", "script", "style", "table", "td", "b"]


@st.composite
def tag_soup(draw: st.DrawFn) -> str:
    """HTML as broken as sites write it: unclosed and stray tags, odd attributes, entities,
    comments, CDATA, text in any script."""
    parts = []
    for _ in range(draw(st.integers(0, 20))):
        kind = draw(st.integers(0, 6))
        tag = draw(st.sampled_from(TAGS))
        if kind == 0:
            attrs = draw(
                st.sampled_from(
                    [
                        "",
                        ' class="content"',
                        ' href="/news/2026/1234.html"',
                        " href=",
                        ' rel="next"',
                    ]
                )
            )
            parts.append(f"<{tag}{attrs}>")
        elif kind == 1:
            parts.append(f"</{tag}>")
        elif kind == 2:
            parts.append(draw(st.sampled_from(["&amp;", "&#0;", "&#x1F600;", "&nbsp;", "&bogus;"])))
        elif kind == 3:
            parts.append(
                draw(st.sampled_from(["<!--", "-->", "<![CDATA[", "]]>", "<", ">", "<?xml?>"]))
            )
        elif kind == 4:
            parts.append(
                draw(
                    st.sampled_from(
                        ["下一页", "发布时间：2026-11-20 08:00", "来源：新华网", "评论 12"]
                    )
                )
            )
        else:
            parts.append(draw(text))
    return "".join(parts)


@FUZZ
@given(st.one_of(tag_soup(), text))
@example("\x00<p>a</p>")
def test_any_fragment_gives_clean_lines(fragment: str) -> None:
    extracted = html_to_text(fragment)
    assert isinstance(extracted, str)
    for line in extracted.splitlines():
        assert line and line == line.strip()


@FUZZ
@given(
    st.lists(
        st.text(st.one_of(CJK, st.characters(min_codepoint=0x30, max_codepoint=0x7A)), min_size=1),
        min_size=1,
        max_size=6,
    )
)
def test_paragraphs_come_back_one_per_line(paragraphs: list[str]) -> None:
    html = "".join(f"<p>{p}</p>" for p in paragraphs)
    assume(all(c not in p for p in paragraphs for c in "<>&"))
    assert html_to_text(html) == "\n".join(paragraphs)


@FEW
@given(tag_soup(), st.sampled_from(["utf-8", "gb18030"]), st.booleans())
def test_any_page_is_extracted_or_skipped_without_crashing(
    soup: str, encoding: str, with_selectors: bool
) -> None:
    page = f"<html><head><title>标题</title></head><body>{soup}</body></html>"
    response = HtmlResponse(
        SITE + "/news/2026/1.html", body=page.encode(encoding, "replace"), encoding=encoding
    )
    selectors = {"body": "div.content", "title": "h1::text"} if with_selectors else {}
    found = extract_article(response, selectors)
    for key in ("title", "text", "author", "outlet", "published"):
        assert isinstance(found.get(key, ""), str)
    for key in ("reposts", "comments", "likes"):
        assert isinstance(found.get(key, 0), int) and found.get(key, 0) >= 0
    for url in listed_articles(response, {}, TZ):
        assert url.startswith(SITE)
    following = next_page(response, {}, 1)
    assert following is None or isinstance(following, str)


@FUZZ
@given(
    st.text(CJK, min_size=1, max_size=20),
    st.lists(st.text(CJK, min_size=1, max_size=30), min_size=1, max_size=5),
)
def test_configured_selectors_return_the_page_text(title: str, paragraphs: list[str]) -> None:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    page = f"<html><body><h1>{title}</h1><div class='content'>{body}</div></body></html>"
    response = HtmlResponse(SITE + "/a.html", body=page.encode(), encoding="utf-8")
    found = extract_article(response, {"body": "div.content", "title": "h1::text"})
    assert found["title"] == title
    text_lines = "\n".join(paragraphs)
    # A title repeated at the start of the body is cut from the text.
    assert found["text"] in (text_lines, text_lines[len(title) :].lstrip())


# --- numbers and units in claims ----------------------------------------------------------

GDP = Fact(
    indicator="地区生产总值增速",
    aliases=["GDP", "GDP增长", "经济增长"],
    excludes=["人均GDP"],
    region="临江县",
    period="2025年",
    value=5.8,
    unit="%",
    source="临江县2025年统计公报",
)
INCOME = Fact(
    indicator="城镇居民人均可支配收入",
    aliases=["城镇居民收入"],
    region="临江县",
    period="2025年",
    value=46320,
    unit="元",
    source="临江县2025年统计公报",
)
POPULATION = Fact(
    indicator="常住人口",
    region="临江县",
    period="2025年",
    value=52.3,
    unit="万人",
    source="临江县2025年统计公报",
)
CLAIM_PIECES = st.sampled_from(
    [
        "临江县",
        "我县",
        "邻县",
        "2025年",
        "去年",
        "一季度",
        "GDP",
        "GDP增长",
        "人均GDP",
        "城镇居民人均可支配收入",
        "常住人口",
        "增长",
        "减少了",
        "百分之",
        "点",
        "点几",
        "零",
        "〇",
        "一",
        "两",
        "九",
        "十",
        "百",
        "千",
        "万",
        "亿",
        "多",
        "余",
        "%",
        "个百分点",
        "元",
        "万元",
        "万人",
        "人",
        "约",
        "突破",
        "不到",
        "接近",
        "左右",
        "以上",
        "以下",
        "出头",
        "吗",
        "？",
        "。",
        "，",
        "谣言",
        ".",
        ",",
        "-",
        "几",
    ]
)
claim_text = st.lists(
    st.one_of(CLAIM_PIECES, st.integers(-(10**6), 10**25).map(str), st.floats().map(str), text),
    max_size=14,
).map("".join)


@FUZZ
@given(claim_text, st.sampled_from([GDP, INCOME, POPULATION]))
@example("临江县GDP增长百分之点几", GDP)
@example("临江县常住人口1e+300万人", POPULATION)
def test_any_text_gives_claims_with_sound_ranges(written: str, fact: Fact) -> None:
    for claim in claims_about(written, fact):
        q = claim.quantity
        assert not math.isnan(q.low) and not math.isnan(q.high)
        assert q.low <= q.high
        assert isinstance(claim.contradicts, bool)
        assert claim.sentence and claim.sentence in written


@FUZZ
@given(st.decimals(0, 99, places=1, allow_nan=False), st.booleans())
@example(Decimal("10.0"), True)  # was read as anything from 5 % to 15 %
@example(Decimal("10"), False)
def test_a_stated_growth_rate_reads_back(rate: Decimal, in_words: bool) -> None:
    import cn2an

    value = float(rate)
    written = f"百分之{cn2an.an2cn(str(rate))}" if in_words else f"{rate}%"
    found = claims_about(f"临江县2025年GDP增长{written}。", GDP)
    assert len(found) == 1
    assert found[0].quantity.low <= value <= found[0].quantity.high
    if value == 5.8:
        assert not found[0].contradicts
    if abs(value - 5.8) >= 1:
        assert found[0].contradicts


@FUZZ
@given(st.integers(1, 10**6))
@example(2050)  # was taken for a year
def test_a_stated_income_reads_back(income: int) -> None:
    found = claims_about(f"2025年临江县城镇居民人均可支配收入{income}元。", INCOME)
    assert len(found) == 1
    assert found[0].quantity.low <= income <= found[0].quantity.high


# --- feeds --------------------------------------------------------------------------------

feed_date = st.one_of(
    st.sampled_from(
        [
            "Fri, 31 Dec 9999 23:59:59 -1200",
            "Mon, 01 Jan 0001 00:00:00 +1400",
            "2026-11-20T08:00:00+08:00",
            "Sun, 22 Nov 2026 08:00:00 +0800",
            "9999-12-31T23:59:59-23:59",
            "not a date",
        ]
    ),
    text,
)
feed_text = st.one_of(text, tag_soup())


@st.composite
def feeds(draw: st.DrawFn) -> bytes:
    """An RSS 2.0 or Atom feed with odd dates, markup in titles, missing links, bad bytes."""
    atom = draw(st.booleans())
    entries = []
    for _ in range(draw(st.integers(0, 4))):
        title, body, when = draw(feed_text), draw(feed_text), draw(feed_date)
        link = draw(
            st.sampled_from(
                ["", "/news/1.html", "http://other.example.cn/2", "javascript:", "http://[::1"]
            )
        )
        esc = {k: _xml(v) for k, v in {"t": title, "b": body, "d": when, "l": link}.items()}
        if atom:
            entries.append(
                f"<entry><title type='html'>{esc['t']}</title><link href='{esc['l']}'/>"
                f"<updated>{esc['d']}</updated><content type='html'>{esc['b']}</content></entry>"
            )
        else:
            entries.append(
                f"<item><title>{esc['t']}</title><link>{esc['l']}</link>"
                f"<pubDate>{esc['d']}</pubDate><description>{esc['b']}</description>"
                f"<author>{esc['t']}</author></item>"
            )
    if atom:
        doc = f"<feed xmlns='http://www.w3.org/2005/Atom'><title>t</title>{''.join(entries)}</feed>"
    else:
        doc = f"<rss version='2.0'><channel><title>t</title>{''.join(entries)}</channel></rss>"
    raw = f"<?xml version='1.0' encoding='utf-8'?>{doc}".encode()
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(raw)))
        raw = raw[:cut] + draw(st.binary(max_size=6)) + raw[cut:]
    return raw


def _xml(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&apos;")
    )


class _OfflineRss(RssSpider):
    """The rss spider with nothing stored yet: no database behind `new_links`."""

    def _stored(self, canonical: set[str]) -> set[str]:
        return set()


def _rss_spider() -> RssSpider:
    """A new spider per feed: a spider requests each link once per crawl."""
    yuqing = Settings()
    crawler = get_crawler(_OfflineRss, {"YUQING": yuqing})
    source = Source(name="feed", kind="rss", url=SITE + "/feed.xml", lookback_days=36500)
    spider = _OfflineRss.from_crawler(crawler, source=source)
    return spider


@FEW
@given(st.one_of(feeds(), st.binary(max_size=300)))
# An unparsable date made feedparser's issue-310 fallback warn; one past 9999 in UTC crashed.
@example(
    b"<rss version='2.0'><channel><item><title>t</title><link>/a</link>"
    b"<pubDate>not a date</pubDate></item></channel></rss>"
)
@example(
    b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><title>t</title><link href='/a'/>"
    b"<updated>9999-12-31T23:59:59-23:59</updated></entry></feed>"
)
@example(b"<rss><channel><item><title>t</title><link>javascript:</link></item></channel></rss>")
# A garbled encoding declaration made feedparser itself raise (found by CI's random run).
@example(b"<?xml version='1.0' encoding='\x80utf-8'?><rss version='2.0'><channel></channel></rss>")
@example(b"<?xml version='1.0' encoding='\x00utf-8'?><rss version='2.0'><channel></channel></rss>")
def test_any_feed_gives_mentions_or_a_recorded_error(feed: bytes) -> None:
    response = HtmlResponse(SITE + "/feed.xml", body=feed, encoding="utf-8")
    spider = _rss_spider()
    for result in spider.parse_feed(response):
        if isinstance(result, MentionItem):
            assert isinstance(result.title, str) and isinstance(result.text, str)
            assert result.url
            when = result.published_at
            assert when is None or (when.tzinfo is not None and when.year <= 9999)
        else:
            assert isinstance(result, Request) and result.url.startswith(("http://", "https://"))


# --- imported JSONL, CSV and XLSX ---------------------------------------------------------

HEADER = ["标题", "正文", "发布时间", "转发数", "链接"]
cell_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)


def _read_all(path: Path, fmt: str | None = None) -> list[Any]:
    """Every row of the file as a record or the BadRow it is; UnusableInput passes through."""
    table = open_file(path, fmt)
    results: list[Any] = []
    for row in table.rows:
        assert row.where
        if row.error:
            results.append(BadRow(row.error))
            continue
        try:
            results.append(_record(row.values, table.resolved))
        except BadRow as exc:
            results.append(exc)
    return results


def _has_text(cells: list[str]) -> bool:
    return any("".join(c.split()) for c in cells)


@FILES
@given(
    st.lists(st.lists(cell_text, min_size=5, max_size=5), max_size=6),
    st.sampled_from(["utf-8-sig", "utf-8", "gb18030"]),
)
@example([["a\rb", "\x00", "", "", ""]], "utf-8")
def test_a_written_csv_reads_back(tmp_path: Path, rows: list[list[str]], encoding: str) -> None:
    path = tmp_path / "export.csv"
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([HEADER, *rows])
    path.write_bytes(buffer.getvalue().encode(encoding))
    table = open_file(path)
    read = [row.values for row in table.rows]
    # The csv module reads a row of one empty cell as [], and rows with no text are skipped.
    assert read == [dict(zip(HEADER, cells, strict=True)) for cells in rows if _has_text(cells)]


@FILES
@given(st.binary(max_size=300), st.sampled_from(["csv", "jsonl", "xlsx"]))
@example(b"\xef\xbb\xbf", "csv")
@example(b"PK\x05\x06" + bytes(18), "xlsx")
# Hostile files from issue 21: JSON nested 100k deep (RecursionError before), a line past
# limits.import_row_chars, a cell past limits.import_cell_chars.
@example(b'{"text": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n", "jsonl")
@example(b"[" * 100_000, "jsonl")
@example(b'{"text": "' + b"x" * 1_100_000 + b'"}\n', "jsonl")
@example("正文\n".encode() + b"x" * 300_000 + b"\n", "csv")
@example('正文\n"'.encode() + b"x\n" * 200_000 + b'"\n', "csv")
def test_any_bytes_import_or_fail_with_a_clear_error(tmp_path: Path, raw: bytes, fmt: str) -> None:
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(raw)
    try:
        results = _read_all(path)
    except UnusableInput as exc:
        assert str(exc)
        return
    for result in results:
        assert isinstance(result, BadRow) or result.text is not None


json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), cell_text),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(cell_text, inner, max_size=3)
    ),
    max_leaves=6,
)


@FILES
@given(
    st.lists(
        st.one_of(
            st.fixed_dictionaries(
                {"text": json_value}, optional={k: json_value for k in ALIASES if k != "text"}
            ),
            json_value,
        ),
        max_size=5,
    )
)
def test_any_json_lines_give_records_or_bad_rows(tmp_path: Path, objects: list[Any]) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(json.dumps(o, ensure_ascii=False) for o in objects), encoding="utf-8")
    try:
        results = _read_all(path)
    except UnusableInput:
        assert not any(isinstance(o, dict) and "text" in o for o in objects)
        return
    for result in results:
        if not isinstance(result, BadRow):
            assert isinstance(result.text, str)
            assert min(result.reposts, result.comments, result.likes) >= 0


spreadsheet_cell = st.one_of(
    st.none(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.datetimes(datetime(1900, 3, 1), datetime(2100, 1, 1)).map(
        lambda d: d.replace(microsecond=0)
    ),
    # openpyxl refuses control characters in cells, as Excel does.
    st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=30),
)


@FILES
@given(st.lists(st.lists(spreadsheet_cell, min_size=5, max_size=5), max_size=5))
def test_a_written_workbook_reads_back(tmp_path: Path, rows: list[list[Any]]) -> None:
    path = tmp_path / "export.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for cells in rows:
        sheet.append(cells)
    book.save(path)
    table = open_file(path)
    read = [row.values for row in table.rows]
    assert len(read) <= len(rows)
    for values in read:
        assert set(values) <= set(HEADER)
    for result in _read_all(path):
        if not isinstance(result, BadRow):
            assert isinstance(result.text, str) and isinstance(result.published, str)


@FILES
@given(st.integers(0, 10**6), st.binary(min_size=1, max_size=4))
@example(223, b"\x01")  # zlib.error escaped from openpyxl
@example(14712, b"\x00")  # a workbook without worksheets: IndexError
@example(4499, b"\x01")  # a part flagged encrypted: zipfile's RuntimeError
def test_a_damaged_workbook_imports_or_fails_with_a_clear_error(
    tmp_path: Path, at: int, garbage: bytes
) -> None:
    good = tmp_path / "good.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    sheet.append(
        ["标题", "临江县统计局发布统计公报，全县生产总值增长5.8%", "2026-11-20", "1万+", ""]
    )
    book.save(good)
    raw = good.read_bytes()
    at %= len(raw)
    path = tmp_path / "damaged.xlsx"
    path.write_bytes(raw[:at] + garbage + raw[at + len(garbage) :])
    try:
        _read_all(path)
    except UnusableInput as exc:
        assert "damaged.xlsx" in str(exc)


# --- configuration files ------------------------------------------------------------------


def _known_keys() -> list[str]:
    names: list[str] = []
    for name, declared in Settings.model_fields.items():
        names.append(name)
        section = declared.annotation
        if isinstance(section, type) and issubclass(section, Section):
            names.extend(section.model_fields)
    return names


KNOWN_KEYS = _known_keys()
config_key = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=10))
config_scalar = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=20),
    st.sampled_from(["Asia/Shanghai", "Mars/Olympus", "../../etc/passwd", "*/5 * * * *", "30m"]),
)
config_value = st.recursive(
    config_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(config_key, inner, max_size=3)
    ),
    max_leaves=8,
)
config_doc = st.dictionaries(config_key, config_value, max_size=4)


def _toml(doc: dict[str, Any]) -> str:
    """A TOML document of inline values (json.dumps writes valid TOML strings)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float):
            return (
                "nan"
                if math.isnan(v)
                else ("inf" if v > 0 else "-inf")
                if math.isinf(v)
                else repr(v)
            )
        if isinstance(v, int):
            return str(v)
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return "{" + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + "}"

    return "\n".join(f"{json.dumps(k)} = {value(v)}" for k, v in doc.items()) + "\n"


def _loads_or_names_the_file(
    config_dir: Path, filename: str, env: dict[str, str] | None = None
) -> None:
    try:
        loaded = load_settings(config_dir, env=env or {})
    except ConfigError as exc:
        assert filename in str(exc), str(exc)
        return
    assert isinstance(loaded, Settings)


@FILES
@given(st.one_of(config_doc.map(_toml), st.text(max_size=60)))
@example("demo = 5\n")
@example("sources = 5\n")
@example('[demo]\nworld_port = "x"\n')
def test_any_settings_file_loads_or_names_itself(tmp_path: Path, document: str) -> None:
    (tmp_path / "settings.toml").write_text(document, encoding="utf-8")
    _loads_or_names_the_file(tmp_path, "settings.toml")


@FILES
@given(
    st.sampled_from(
        [
            "sources.yaml",
            "keywords.yaml",
            "facts.yaml",
            "debunks.yaml",
            "recipients.yaml",
            "duty.yaml",
            "severity.yaml",
        ]
    ),
    st.one_of(
        config_doc.map(lambda d: yaml.safe_dump(d, allow_unicode=True)),
        config_value.map(lambda v: yaml.safe_dump({"sources": v, "facts": v, "debunks": v})),
        st.text(max_size=60),
    ),
)
@example("sources.yaml", "sources: 5\n")
@example(
    "sources.yaml", "sources: [{name: a, kind: rss, url: 'http://x', schedule: '99 * * * *'}]\n"
)
def test_any_yaml_file_loads_or_names_itself(tmp_path: Path, filename: str, document: str) -> None:
    for old in tmp_path.glob("*.yaml"):
        old.unlink()
    (tmp_path / filename).write_text(document, encoding="utf-8")
    _loads_or_names_the_file(tmp_path, filename)


@FILES
@given(st.binary(max_size=40), st.sampled_from(["settings.toml", "sources.yaml", "duty.yaml"]))
@example(b"\xff\xfe", "settings.toml")
def test_a_file_that_is_not_text_names_itself(tmp_path: Path, raw: bytes, filename: str) -> None:
    for old in tmp_path.iterdir():
        old.unlink()
    (tmp_path / filename).write_bytes(raw)
    _loads_or_names_the_file(tmp_path, filename)


@FEW
@given(
    st.sampled_from(
        [
            "MAIL__SMTP_PORT",
            "TIMEZONE",
            "CRAWL__REDIS_URL",
            "WEB__PORT",
            "DEMO",
            "NLP",
            "DEMO__WORLD_PORT",
            "NOPE",
            "MAIL__NOPE__DEEPER",
            "DATA",
            "__",
            "",
        ]
    ),
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=20),
)
def test_any_environment_override_loads_or_names_its_variable(key: str, value: str) -> None:
    name = f"YUQING_{key}"
    try:
        loaded = load_settings(env={name: value})
    except ConfigError as exc:
        assert name in str(exc), str(exc)
        return
    assert isinstance(loaded, Settings)


def test_an_article_nested_200k_deep_is_named_as_the_problem() -> None:
    """Issue 21: lxml stops building the tree past its depth limit; the page was skipped with
    no error. The spiders record this reason instead."""
    from crawlers.extract import article_problem

    nested = "<div>" * 200_000 + "临江县统计局发布统计公报" + "</div>" * 200_000
    page = HtmlResponse(
        "http://news.example/a.html", body=f"<html><body>{nested}</body></html>".encode()
    )
    assert article_problem(page) == (
        "is nested 200002 elements deep (more than 1000); it cannot be parsed"
    )
    flat = HtmlResponse("http://news.example/b.html", body=b"<html><body><p>x</p></body></html>")
    assert article_problem(flat) is None
