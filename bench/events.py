"""`python -m bench.events`: how well triage groups mentions into incidents, one per event.

A labelled set of mentions, each tagged with the real-world event it tells
(`bench/data/events.yaml`, written apart from the grouping code; `--set demo` reads the demo
world's storylines instead, `--set PATH` any file of the same shape), is stored in a throwaway
database, dated relative to now, and run through what follows a crawl: reprint grouping, the
trained classifier (or, with `--oracle`, the labelled categories) and triage. Printed:
pairwise precision, recall and F1 over every pair of mentions (a pair is predicted together
when both joined the same incident), and the number of incidents against the number of events.
`--show` lists each incident with its mentions' event ids and join reasons.

Targets (issue 18): pairwise F1 ≥ 0.90 with precision ≥ 0.95; incidents within 10 % of events.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).with_name("data") / "events.yaml"
DEMO = Path(__file__).resolve().parent.parent / "responder" / "demo" / "world.yaml"


@dataclass
class Outcome:
    precision: float
    recall: float
    f1: float
    incidents: int
    events: int
    mentions: int
    grouped: dict[int, list[tuple[str, str, str]]]


def load(path: Path) -> list[dict[str, Any]]:
    """The labelled items; demo-world items become the same shape (body → text, storyline
    event ids → event, items without one are one-offs)."""
    items = yaml.safe_load(path.read_text(encoding="utf-8"))["items"]
    shaped = []
    for raw in items:
        if "body" in raw and raw.get("relevant") is False:
            continue
        shaped.append(
            {
                "id": raw["id"],
                "event": raw.get("event") or f"one-off {raw['id']}",
                "category": raw["category"],
                "hours_ago": raw["hours_ago"],
                "outlet": raw.get("outlet", ""),
                "author": raw.get("author", ""),
                "title": raw.get("title", ""),
                "text": (raw.get("text") or raw.get("body", "")).strip(),
                "reposts": raw.get("reposts", 0),
                "comments": raw.get("comments", 0),
                "likes": raw.get("likes", 0),
            }
        )
    return shaped


def pairwise(gold: dict[str, str], predicted: dict[str, int | None]) -> tuple[float, float, float]:
    both = together = truly = 0
    for a, b in combinations(sorted(gold), 2):
        same_event = gold[a] == gold[b]
        same_incident = predicted[a] is not None and predicted[a] == predicted[b]
        truly += same_event
        together += same_incident
        both += same_event and same_incident
    precision = both / together if together else 1.0
    recall = both / truly if truly else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def run(path: Path, oracle: bool = False) -> Outcome:
    from sqlalchemy import select

    from responder import clock
    from responder.db import Database
    from responder.incidents.triage import Triage
    from responder.intake.mentions import MentionRecord, store_many
    from responder.intake.reprints import group_reprints
    from responder.judging.classifier import build_classifier
    from responder.judging.classify import classify_pending
    from responder.models import Incident, Mention
    from responder.settings import load_settings

    items = load(path)
    now = clock.now()
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(overrides={"data_dir": folder})
        db = Database(settings)
        try:
            with db.transaction() as session:
                store_many(
                    session,
                    [
                        MentionRecord(
                            url=f"http://events.example/{item['id']}",
                            title=item["title"],
                            text=item["text"],
                            author=item["author"],
                            outlet=item["outlet"],
                            published_at=now - timedelta(hours=item["hours_ago"]),
                            reposts=item["reposts"],
                            comments=item["comments"],
                            likes=item["likes"],
                            keywords_matched=["普查"],
                        )
                        for item in items
                    ],
                )
                group_reprints(session, settings)
            with db.transaction() as session:
                if oracle:
                    _label(session, items)
                else:
                    classify_pending(session, build_classifier(settings), 64)
            with db.transaction() as session:
                Triage.from_settings(settings).run(session)
            with db.sessions() as session:
                rows = [
                    (
                        m.url,
                        m.incident_id,
                        m.join_reason,
                        m.judgement.category if m.judgement else "",
                    )
                    for m in session.scalars(select(Mention)).all()
                ]
                incidents = session.scalars(
                    select(Incident).where(Incident.status != "merged")
                ).all()
                titles = {i.id: i.title for i in incidents}
        finally:
            db.dispose()
    by_id = {item["id"]: item for item in items}
    gold = {item["id"]: item["event"] for item in items}
    predicted: dict[str, int | None] = {}
    grouped: dict[int, list[tuple[str, str, str]]] = {}
    for url, incident_id, reason, category in rows:
        key = url.rsplit("/", 1)[1]
        predicted[key] = incident_id
        if incident_id is not None:
            grouped.setdefault(incident_id, []).append(
                (
                    key,
                    by_id[key]["event"],
                    f"[{category}] " + (reason or f"开启：{titles.get(incident_id, '')}"),
                )
            )
    precision, recall, f1 = pairwise(gold, predicted)
    return Outcome(
        precision=precision,
        recall=recall,
        f1=f1,
        incidents=len(titles),
        events=len({e for e in gold.values()}),
        mentions=len(items),
        grouped=grouped,
    )


def _label(session: Any, items: list[dict[str, Any]]) -> None:
    """Judgements with the labelled categories: measures grouping alone, classifier aside."""
    from sqlalchemy import select

    from responder.models import Judgement, Mention

    by_url = {f"http://events.example/{item['id']}": item for item in items}
    for mention in session.scalars(select(Mention)).all():
        item = by_url[mention.url]
        session.add(
            Judgement(
                mention_id=mention.id,
                sentiment=item.get("sentiment", "negative"),
                sentiment_score=1.0,
                category=item["category"],
                category_score=1.0,
                backend="oracle",
            )
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", default="", help="'demo', or a labelled YAML file")
    parser.add_argument("--oracle", action="store_true", help="labelled categories, no model")
    parser.add_argument(
        "--show",
        nargs="?",
        const="all",
        choices=["all", "errors"],
        help="list incidents with their mentions' events and join reasons (or only the wrong)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("YUQING_LOG_LEVEL", "WARNING")
    paths = [DEMO] if args.set == "demo" else [Path(args.set)] if args.set else [DATA, DEMO]
    table = []
    for path in paths:
        outcome = run(path, args.oracle)
        name = "demo world" if path == DEMO else path.name
        table.append((name, outcome))
        if args.show:
            print(f"\n== {name}")
            spread = Counter(e for ms in outcome.grouped.values() for e in {m[1] for m in ms})
            for incident_id, members in sorted(outcome.grouped.items()):
                events = Counter(event for _, event, _ in members)
                if args.show == "errors" and len(events) == 1 and spread[members[0][1]] == 1:
                    continue
                print(f"#{incident_id} {dict(events)}")
                for key, event, reason in members:
                    print(f"    {key} {event}: {reason}")
    print(
        "\n| set | mentions | events | incidents | pairwise precision | recall | F1 |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    )
    for name, o in table:
        print(
            f"| {name} | {o.mentions} | {o.events} | {o.incidents} | {o.precision:.3f} "
            f"| {o.recall:.3f} | {o.f1:.3f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
