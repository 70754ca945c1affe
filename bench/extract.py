"""`python -m bench.extract`: generic article extraction on real pages, per extractor, in one table.

Every extractor reads the same pages of `real_pages_dev` (see its README, beside the product
checkout in `../shared/data/real_pages_dev`), decoded once the way the crawler decodes them
(Scrapy with yuqing's encoding middleware, no charset header), and is scored the way the data
set's README says: NFKC and no whitespace on both sides; a title equals the label or one of its
alternatives; a date is the right China-time calendar day; a body holds both snippets; an
outlet equals the label or an alternative, on the pages that show one. yuqing is
`crawlers.extract.extract_article` without selectors, its time read by `responder.intake.dates`.

Single extractors: trafilatura and htmldate (yuqing's dependencies), readability-lxml,
goose3, newspaper4k and gne (the `bench` extra). A library without a field scores "—".
Pages/s is extraction alone, decoding left out, one process, one core.

This is the development set: yuqing's rules were tuned looking at these pages, so its scores
here overstate what it does on pages it never saw.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from scrapy.http import HtmlResponse, Request

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "data" / "real_pages_dev"
TZ = ZoneInfo("Asia/Shanghai")
_SPACE = re.compile(r"\s+")
# Text read with the wrong codec: U+FFFD, or Latin-1 letters where Chinese should be.
MOJIBAKE = re.compile("[\ufffd\u00c0-\u00ff]{2,}|\ufffd")


@dataclass
class Page:
    id: str
    url: str
    html: str
    response: HtmlResponse
    label: dict[str, Any]


@dataclass
class Found:
    title: str | None = None
    date: datetime | None = None
    text: str | None = None
    outlet: str | None = None


@dataclass
class Score:
    name: str
    fields: set[str]
    title: int = 0
    date: int = 0
    body: int = 0
    outlet: int = 0
    all_three: int = 0
    mojibake: int = 0
    seconds: float = 0.0
    misses: dict[str, list[str]] = field(default_factory=dict)


def key(text: str | None) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", text or ""))


def load_pages(folder: Path) -> list[Page]:
    from crawlers.encoding import EncodingMiddleware

    pages = []
    for line in (folder / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        label = json.loads(line)
        url = label["original_url"] or f"http://127.0.0.1:8000/{label['id']}.html"
        raw = HtmlResponse(url=url, body=(folder / label["file"]).read_bytes())
        response = EncodingMiddleware(None).process_response(Request(url), raw)
        assert isinstance(response, HtmlResponse)
        pages.append(Page(label["id"], url, response.text, response, label))
    return pages


def _day(value: Any) -> datetime | None:
    from responder.intake.dates import parse_time

    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=TZ)
    return parse_time(str(value), TZ)


# --- the extractors -----------------------------------------------------------------------------


def yuqing(page: Page) -> Found:
    from crawlers.extract import extract_article

    found = extract_article(page.response, {})
    return Found(
        found.get("title"),
        _day(found.get("published")),
        found.get("text"),
        found.get("outlet") or None,
    )


def trafilatura_(page: Page) -> Found:
    import trafilatura

    doc = trafilatura.bare_extraction(
        page.html, url=page.url, with_metadata=True, include_comments=False
    )
    if doc is None:
        return Found()
    return Found(
        getattr(doc, "title", None), _day(getattr(doc, "date", None)), getattr(doc, "text", None)
    )


def htmldate_(page: Page) -> Found:
    from htmldate import find_date

    return Found(date=_day(find_date(page.html, url=page.url, original_date=True)))


def readability_(page: Page) -> Found:
    from readability import Document

    from crawlers.extract import html_to_text

    doc = Document(page.html)
    return Found(doc.short_title(), None, html_to_text(doc.summary(html_partial=True)))


def goose_(page: Page) -> Found:
    from goose3 import Goose
    from goose3.text import StopWordsChinese

    with Goose({"stopwords_class": StopWordsChinese, "enable_image_fetching": False}) as g:
        article = g.extract(raw_html=page.html)
    return Found(article.title, _day(article.publish_date), article.cleaned_text)


def newspaper_(page: Page) -> Found:
    from newspaper import Article

    article = Article(page.url, language="zh", fetch_images=False)
    article.download(input_html=page.html)
    article.parse()
    return Found(article.title, _day(article.publish_date), article.text)


def gne_(page: Page) -> Found:
    from gne import GeneralNewsExtractor

    doc = GeneralNewsExtractor().extract(page.html)
    return Found(doc.get("title"), _day(doc.get("publish_time")), doc.get("content"))


EXTRACTORS: dict[str, tuple[Callable[[Page], Found], set[str]]] = {
    "trafilatura": (trafilatura_, {"title", "date", "body"}),
    "htmldate": (htmldate_, {"date"}),
    "readability-lxml": (readability_, {"title", "body"}),
    "goose3": (goose_, {"title", "date", "body"}),
    "newspaper4k": (newspaper_, {"title", "date", "body"}),
    "gne": (gne_, {"title", "date", "body"}),
    "yuqing": (yuqing, {"title", "date", "body", "outlet"}),
}


# --- scoring ------------------------------------------------------------------------------------


def judge(found: Found, label: dict[str, Any]) -> dict[str, bool]:
    titles = {key(t) for t in [label["title"], *label["title_alt"]]}
    days = {d for d in [label["date"], *label["date_alt"]] if d}
    day = found.date.astimezone(TZ).date().isoformat() if found.date else None
    text = key(found.text)
    outlets = {key(o) for o in [label["outlet"], *label["outlet_alt"]] if o}
    return {
        "title": key(found.title) in titles,
        "date": day in days if days else day is None,
        "body": all(key(s) in text for s in label["body_snippets"]),
        "outlet": key(found.outlet) in outlets if outlets else True,
    }


def run(name: str, pages: list[Page]) -> Score:
    extractor, fields = EXTRACTORS[name]
    score = Score(name, fields)
    for page in pages:
        started = time.perf_counter()
        try:
            found = extractor(page)
        except Exception as exc:  # a library failing on a page scores nothing for that page
            print(f"[bench.extract] {name} failed on {page.id}: {exc!r}", file=sys.stderr)
            found = Found()
        score.seconds += time.perf_counter() - started
        right = judge(found, page.label)
        for what in ("title", "date", "body", "outlet"):
            if right[what]:
                setattr(score, what, getattr(score, what) + 1)
            elif what in fields:
                score.misses.setdefault(what, []).append(page.id)
        score.all_three += right["title"] and right["date"] and right["body"]
        score.mojibake += bool(MOJIBAKE.search(f"{found.title or ''}{found.text or ''}"))
    return score


def print_table(scores: list[Score], pages: list[Page]) -> None:
    total = len(pages)
    shown = sum(1 for p in pages if p.label["outlet"])
    print(f"\n{total} pages of real_pages_dev (the development set: tuned on, not held out)\n")
    print("| extractor | title | date | body | all three | outlet | mojibake | pages/s |")
    print("|---|---|---|---|---|---|---|---|")
    for s in scores:

        def cell(what: str, right: int, out_of: int = total, s: Score = s) -> str:
            return f"{right / out_of:.0%}" if what in s.fields else "—"

        both = "title" in s.fields and "body" in s.fields and "date" in s.fields
        outlet = s.outlet - (total - shown)  # pages without an outlet count as right in judge
        print(
            f"| {s.name} | {cell('title', s.title)} | {cell('date', s.date)} | "
            f"{cell('body', s.body)} | {f'{s.all_three / total:.0%}' if both else '—'} | "
            f"{cell('outlet', outlet, shown)} | {s.mojibake} | {total / s.seconds:.0f} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.extract",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", type=Path, default=DEV, help="real_pages_dev folder")
    parser.add_argument("--only", nargs="*", choices=list(EXTRACTORS), help="extractors to run")
    parser.add_argument("--misses", action="store_true", help="list the pages each got wrong")
    args = parser.parse_args(argv)
    if not (args.data / "labels.jsonl").is_file():
        print(f"no development set at {args.data}", file=sys.stderr)
        return 1
    pages = load_pages(args.data)
    scores = []
    for name in args.only or EXTRACTORS:
        try:
            scores.append(run(name, pages))
        except ImportError as exc:
            # The comparison extractors come from `make bench`, not from `make test`.
            print(f"{name}: not installed ({exc.name}); `make bench` installs it", file=sys.stderr)
    print_table(scores, pages)
    if args.misses:
        for s in scores:
            for what, ids in s.misses.items():
                print(f"{s.name} {what} wrong ({len(ids)}): {' '.join(ids)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
