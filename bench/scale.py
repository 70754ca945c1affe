"""`python -m bench.scale`: yuqing with many stored mentions, in one table.

1. Processing. N synthetic mentions (default 10,000; `--process 10000,100000`) are stored as a
   crawl leaves them (`store_many`), then one `Cycle.run(crawl=False)` does everything after
   the crawl: reprint grouping, classification, triage into incidents, drafts, notices. The
   table shows its seconds and mentions per second, the seconds of its triage step and, of
   those, grouping's (reading a mention's event features and scoring it against open
   incidents), in CPU seconds of this process, since the machine may be shared and wall time
   would count the others' work. Then the same judged mentions are triaged again, in a
   transaction rolled back afterwards, as triage did before event grouping (`TermTriage`):
   the cost it replaced, side by side.
2. Reading at scale. A database of `--stored` mentions (default 1,000,000) with judgements
   and the search index, spread over the 30 days up to the end of today, is written with Core
   inserts. The real web app (Starlette TestClient, logged in) then answers the dashboard, the
   list, searches (a word in 85% of the mentions, two words, a phrase found once) and a
   filter `--requests` times each (default 20), and the dashboard's 7-day chart data is
   worked out as often; the table shows p50 and p95 latency. `--database URL` runs this part
   on another database (for example PostgreSQL) instead of a temporary SQLite file; a
   database that already holds mentions is read as it is.
3. Memory: the process's peak resident set size.

The synthetic texts are Chinese sentences about the office built from a few hundred phrases,
so they are relevant, varied enough for MinHash, and about 150 characters long.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from responder import clock
from responder.incidents.grouping import Features, Join
from responder.incidents.triage import Triage, seen_at
from responder.models import Incident, Judgement, Mention
from responder.statuses import IncidentStatus

if TYPE_CHECKING:
    from responder.settings import Settings

SUBJECTS = ["临江县统计局", "县统计局", "普查办", "统计执法队", "临江县第七次人口普查办公室"]
TOPICS = [
    "人口普查入户登记",
    "经济普查数据发布",
    "居民收入统计",
    "GDP增速公报",
    "统计数据造假举报",
    "普查员上门",
    "个人信息保护",
    "统计调查问卷",
    "失业率数据",
    "物价指数",
]
VIEWS = [
    "网友质疑数据与实际感受不符",
    "居民反映普查员态度很好",
    "有人称接到冒充普查员的诈骗电话",
    "评论区有人要求公开统计方法",
    "当地媒体进行了解读报道",
    "部分住户对入户登记表示担心",
    "有网友转发相关截图并配文",
    "官方回应已安排专人核实",
]
PLACES = ["临江镇", "江北街道", "南湖社区", "青石村", "东关街道", "城西区", "新华路", "北塘镇"]
OUTLETS = ["临江论坛", "微博", "临江新闻网", "江州日报", "东川日报", "微信公众号 临江身边事", ""]
SENTIMENTS = ["negative", "neutral", "positive"]
CATEGORIES = ["general", "data_doubt", "privacy_leak", "scam", "procedure", "staff_conduct"]


def synthetic_text(rng: random.Random, n: int) -> tuple[str, str]:
    subject, topic, place = rng.choice(SUBJECTS), rng.choice(TOPICS), rng.choice(PLACES)
    views = "，".join(rng.sample(VIEWS, 3))
    title = f"{place}{topic}引关注（{n}）"
    text = (
        f"{subject}近日开展{topic}工作，{place}的情况在网上引发讨论。{views}。"
        f"记者从{subject}了解到，相关工作按计划推进，第{n % 97}批数据将于近期公布。"
        f"编号{n}，{rng.randint(1, 9999)}人参与讨论。"
    )
    return title, text


def settings_for(folder: Path, database_url: str = "") -> Settings:
    from responder.settings import load_settings

    overrides: dict[str, object] = {"data_dir": str(folder)}
    if database_url:
        overrides["database"] = {"url": database_url}
    return load_settings(overrides=overrides)


@dataclass
class Processed:
    seconds: float  # the whole cycle
    triage: float  # its triage step
    grouping: float  # of which event features and scoring against open incidents
    incidents: int
    by_terms: float  # triage of the same mentions as before event grouping (issue 18)
    by_terms_incidents: int


class TermTriage(Triage):
    """Triage as it was before event grouping (issue 18), kept here as the cost to compare
    with: a mention joins the open incident of its category, seen within the window, that
    shares the most of its ten distinctive terms (at least `min_shared_terms`); no places,
    figures or consolidation."""

    def features(self, mention: Mention) -> Features:
        terms = self.segmenter.keywords(f"{mention.title}\n{mention.text}", 10, self.common)
        return Features(vector=dict.fromkeys(terms, 1.0), places=[], numbers=[])

    def _match(
        self, session: Session, mention: Mention, features: Features, candidates: list[Incident]
    ) -> tuple[Incident | None, Join | None]:
        judgement = mention.judgement
        assert judgement is not None
        since = seen_at(mention) - timedelta(hours=self.settings.incidents.window_hours)
        # Queried once a mention, as it did, rather than from the run's `candidates`.
        same_kind = session.scalars(
            select(Incident).where(
                Incident.status == IncidentStatus.OPEN,
                Incident.category == judgement.category,
                Incident.last_seen >= since,
            )
        ).all()
        best, best_shared = None, 0
        for incident in same_kind:
            shared = len(set(features.vector) & set(incident.terms or []))
            if shared > best_shared:
                best, best_shared = incident, shared
        if best_shared < self.settings.incidents.min_shared_terms:
            return None, None
        return best, Join(score=best_shared)

    def _consolidate(self, session: Session, opened: list[Incident], actor: str) -> list[Incident]:
        return []


def process(count: int) -> Processed:
    """One cycle over `count` freshly stored mentions, timed, then its triage again as it was
    before event grouping."""
    from responder.db import Database
    from responder.intake.mentions import MentionRecord, store_many
    from responder.running.cycle import Cycle

    rng = random.Random(count)
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as folder:
        settings = settings_for(Path(folder))
        db = Database(settings)
        records = []
        for n in range(count):
            title, text = synthetic_text(rng, n)
            records.append(
                MentionRecord(
                    url=f"http://bench.example/{n}",
                    title=title,
                    text=text,
                    outlet=rng.choice(OUTLETS),
                    published_at=now - timedelta(minutes=rng.randint(0, 6 * 24 * 60)),
                    keywords_matched=["统计局"],
                )
            )
        for start in range(0, count, 1000):
            with db.transaction() as session:
                store_many(session, records[start : start + 1000])
        cycle = Cycle(settings, db)
        triage_run = cycle.triage.run
        triage_seconds = 0.0

        def timed_triage(*args: Any, **kwargs: Any) -> Any:
            nonlocal triage_seconds
            begun = time.process_time()
            try:
                return triage_run(*args, **kwargs)
            finally:
                triage_seconds += time.process_time() - begun

        cycle.triage.run = timed_triage  # type: ignore[method-assign]
        grouping = _clocked(cycle.triage, ("features", "_match", "_consolidate"))
        started = time.perf_counter()
        cycle.run(crawl=False)
        seconds = time.perf_counter() - started
        with db.sessions() as session:
            incidents = len(session.scalars(select(Incident.id)).all())
        by_terms, by_terms_incidents = _triage_by_terms(settings, db)
        db.dispose()
    return Processed(seconds, triage_seconds, grouping[0], incidents, by_terms, by_terms_incidents)


def _clocked(triage: Any, names: tuple[str, ...]) -> list[float]:
    """Wraps these methods of `triage` so their seconds add up in the returned list's only
    item (a consolidation's own scoring is inside `_consolidate`, not counted twice)."""
    total = [0.0]
    for name in names:
        method = getattr(triage, name)

        def clocked(*args: Any, _method: Any = method, **kwargs: Any) -> Any:
            begun = time.process_time()
            try:
                return _method(*args, **kwargs)
            finally:
                total[0] += time.process_time() - begun

        setattr(triage, name, clocked)
    return total


def _triage_by_terms(settings: Settings, db: Any) -> tuple[float, int]:
    """CPU seconds and incidents of the triage that event grouping replaced, over the
    stored judged mentions; rolled back."""
    return _triage_once(TermTriage.from_settings(settings), db)


def _triage_once(triage: Triage, db: Any) -> tuple[float, int]:
    """CPU seconds and incidents of one triage over every judged mention; rolled back. The
    dictionaries load before the clock starts: once a process, not per mention."""
    from sqlalchemy import func, update

    triage.grouper.features("临江县青石镇", "普查员入户登记")
    with db.sessions() as session:
        session.execute(update(Mention).values(triaged=False, incident_id=None, join_reason=None))
        before = session.scalar(select(func.count(Incident.id))) or 0
        started = time.process_time()
        triage.run(session)
        seconds = time.process_time() - started
        opened = (session.scalar(select(func.count(Incident.id))) or 0) - before
        session.rollback()
    return seconds, opened


def triage_only(count: int) -> list[tuple[str, str]]:
    """Triage alone over `count` stored, judged mentions of the last 6 days (Core inserts,
    random judgements, no classifier): grouping by event, then the triage it replaced."""
    from responder.db import Database

    with tempfile.TemporaryDirectory() as folder:
        settings = settings_for(Path(folder))
        db = Database(settings)
        for mentions, judgements in _rows(count, datetime.now(UTC), days=6, triaged=False):
            with db.transaction() as session:
                session.execute(insert(Mention), mentions)
                session.execute(insert(Judgement), judgements)
        triage = Triage.from_settings(settings)
        grouping = _clocked(triage, ("features", "_match", "_consolidate"))
        grouped, grouped_incidents = _triage_once(triage, db)
        by_terms, by_terms_incidents = _triage_by_terms(settings, db)
        db.dispose()
    return [
        (
            f"triage of {count:,} judged mentions, grouping by event",
            f"{grouped:.1f} CPU s (grouping itself {grouping[0]:.1f} CPU s), "
            f"{grouped_incidents:,} incidents",
        ),
        (
            "  the same, by shared terms (before issue 18)",
            f"{by_terms:.1f} CPU s, {by_terms_incidents:,} incidents",
        ),
    ]


def _rows(
    count: int, end: datetime, days: int = 30, triaged: bool = True
) -> Iterator[tuple[list[dict[str, object]], list[dict[str, object]]]]:
    rng = random.Random(1)
    batch = 10_000
    for start in range(0, count, batch):
        mentions, judgements = [], []
        for n in range(start, min(start + batch, count)):
            title, text = synthetic_text(rng, n)
            at = end - timedelta(seconds=rng.randint(1, days * 86400))
            mentions.append(
                {
                    "id": n + 1,
                    "url": f"http://bench.example/{n}",
                    "canonical_url": f"http://bench.example/{n}",
                    "content_hash": f"{n:064x}",
                    "title": title,
                    "text": text,
                    "author": "",
                    "outlet": rng.choice(OUTLETS),
                    "published_at": at,
                    "fetched_at": at,
                    "reposts": rng.randint(0, 50),
                    "comments": 0,
                    "likes": 0,
                    "keywords_matched": ["统计局"],
                    "triaged": triaged,
                    "minhash": b"",
                }
            )
            judgements.append(
                {
                    "mention_id": n + 1,
                    "origin": "machine",
                    "sentiment": rng.choice(SENTIMENTS),
                    "sentiment_score": 0.8,
                    "category": rng.choice(CATEGORIES),
                    "category_score": 0.7,
                    "misinfo": rng.random() < 0.02,
                    "misinfo_reasons": [],
                    "terms": {},
                    "backend": "bench",
                    "actor": "system",
                    "created_at": at,
                }
            )
        yield mentions, judgements


def populate(db: object, count: int, end: datetime) -> float:
    """Write `count` mentions with judgements and their search index, spread over the 30
    days before `end`; returns seconds."""
    from responder.intake import search

    started = time.perf_counter()
    done = 0
    for mentions, judgements in _rows(count, end):
        with db.transaction() as session:  # type: ignore[attr-defined]
            session.execute(insert(Mention), mentions)
            session.execute(insert(Judgement), judgements)
            search.index_rows(
                session.connection(),
                [
                    (cast(int, m["id"]), cast(str, m["title"]), cast(str, m["text"]))
                    for m in mentions
                ],
            )
        done += len(mentions)
        if done % 100_000 == 0:
            print(f"  stored {done:,} / {count:,}", flush=True)
    return time.perf_counter() - started


def timed(work: Callable[[], object], times: int) -> tuple[float, float]:
    """p50 and p95 seconds of `times` runs of `work`."""
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - started)
    seconds.sort()
    # Nearest rank: the 19th of 20.
    return statistics.median(seconds), seconds[math.ceil(len(seconds) * 0.95) - 1]


def latencies(client: object, path: str, requests: int) -> tuple[float, float]:
    def get() -> None:
        answer = client.get(path)  # type: ignore[attr-defined]
        assert answer.status_code == 200, (path, answer.status_code)

    return timed(get, requests)


def read_at_scale(count: int, requests: int, database_url: str) -> list[tuple[str, str]]:
    from responder.db import Database
    from responder.running.overview import week
    from tests.webclient import client_as

    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as folder:
        settings = settings_for(Path(folder), database_url)
        db = Database(settings)
        backend = db.engine.dialect.name
        with db.sessions() as session:
            have = len(session.scalars(select(Mention.id).limit(1)).all())
        if not have:
            # Up to the end of today, so that "today" on the dashboard is a full day of
            # mentions (about 33,000 at a million) whatever the hour the bench runs at.
            tomorrow = datetime.now(settings.tz).date() + timedelta(days=1)
            end = datetime.combine(tomorrow, datetime.min.time(), tzinfo=settings.tz)
            seconds = populate(db, count, end)
            rows.append((f"{backend}: write {count:,} mentions + judgements", f"{seconds:.0f} s"))
        client = client_as(settings, db, "duty")
        week_ago = datetime.now(settings.tz).date() - timedelta(days=6)
        for label, path in [
            ("dashboard /", "/"),
            ("list, newest first", "/mentions"),
            ("search a common word (85% match)", "/mentions?q=" + quote("普查")),
            ("search two words", "/mentions?q=" + quote("社区 诈骗")),
            ("search a rare phrase (1 match)", "/mentions?q=" + quote("编号777777，")),
            ("filter negative, 7 days", f"/mentions?sentiment=negative&from={week_ago}"),
        ]:
            p50, p95 = latencies(client, path, requests)
            rows.append(
                (
                    f"{backend} at {count:,}: {label}",
                    f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms",
                )
            )
        # The three charts share one week, worked out again once a mention or judgement is
        # added: timed here directly, as the app serves it from its cache in between.
        with db.sessions() as session:
            p50, p95 = timed(lambda: week(session, settings, clock.now()), requests)
        rows.append(
            (
                f"{backend} at {count:,}: 7-day chart data",
                f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms",
            )
        )
        db.dispose()
    return rows


def on_throwaway_postgres(count: int, requests: int) -> list[tuple[str, str]]:
    """The reading part on a fresh PostgreSQL cluster on 127.0.0.1, removed afterwards (the
    test suite's, tests/postgres.py)."""
    from tests.postgres import PostgresServer, Unavailable

    try:
        server = PostgresServer().start()
    except Unavailable as exc:
        return [("postgresql", f"not run: {exc}")]
    try:
        return read_at_scale(count, requests, server.create_database())
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--process", default="10000", help="comma-separated mention counts")
    parser.add_argument(
        "--triage", default="", help="comma-separated counts of judged mentions to triage alone"
    )
    parser.add_argument("--stored", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--database", default="", help="URL for the reading part")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="also run the reading part on a throwaway PostgreSQL cluster (Debian's server)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("YUQING_LOG_LEVEL", "WARNING")
    table: list[tuple[str, str]] = []
    for count in [int(c) for c in args.process.split(",") if c]:
        done = process(count)
        rows = [
            (
                f"cycle over {count:,} new mentions",
                f"{done.seconds:.1f} s, {count / done.seconds:,.0f} mentions/s, "
                f"{done.incidents:,} incidents",
            ),
            (
                "  of which triage, grouping by event",
                f"{done.triage:.1f} CPU s (grouping itself {done.grouping:.1f} CPU s)",
            ),
            (
                "  the same mentions, triage by shared terms (before issue 18)",
                f"{done.by_terms:.1f} CPU s, {done.by_terms_incidents:,} incidents",
            ),
        ]
        for row in rows:
            print(f"  {row[0]}: {row[1]}", flush=True)
        table += rows
    for count in [int(c) for c in args.triage.split(",") if c]:
        rows = triage_only(count)
        for row in rows:
            print(f"  {row[0]}: {row[1]}", flush=True)
        table += rows
    if args.stored:
        table += read_at_scale(args.stored, args.requests, args.database)
    if args.stored and args.postgres:
        table += on_throwaway_postgres(args.stored, args.requests)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    table.append(("peak memory (RSS)", f"{peak:,.0f} MB"))
    width = max(len(name) for name, _ in table)
    print(f"\n{'measure':<{width}}  result")
    for name, value in table:
        print(f"{name:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
