"""`yuqing export mentions|corrections`: stored mentions with their judgements as JSONL or CSV,
and the judgements people corrected as labelled training data for `yuqing train`."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from responder.models import Judgement, Mention
from responder.statuses import JudgementOrigin

# What a mention is; `yuqing import` reads these same fields back.
MENTION_FIELDS = (
    "url",
    "source",
    "title",
    "text",
    "author",
    "outlet",
    "published_at",
    "reposts",
    "comments",
    "likes",
)
FIELDS = [*MENTION_FIELDS, "fetched_at", "sentiment", "category", "misinfo", "incident_id"]


def mention_rows(session: Session, batch: int = 1000) -> Iterator[dict[str, Any]]:
    query = (
        select(Mention)
        .options(selectinload(Mention.judgements), selectinload(Mention.source))
        .order_by(Mention.id)
        .execution_options(yield_per=batch)
    )
    for m in session.scalars(query):
        j = m.judgement
        yield {
            "url": m.url,
            "source": m.source.name if m.source else "",
            "title": m.title,
            "text": m.text,
            "author": m.author,
            "outlet": m.outlet,
            "published_at": m.published_at.isoformat() if m.published_at else "",
            "reposts": m.reposts,
            "comments": m.comments,
            "likes": m.likes,
            "fetched_at": m.fetched_at.isoformat(),
            "sentiment": j.sentiment if j else "",
            "category": j.category if j else "",
            "misinfo": j.misinfo if j else "",
            "incident_id": m.incident_id or "",
        }


def correction_rows(session: Session) -> Iterator[dict[str, Any]]:
    """One labelled row per corrected mention, with its newest correction: the fields of
    `yuqing train --data` (text, sentiment, category, misinfo) plus where it came from."""
    query = (
        select(Mention)
        .where(Mention.judgements.any(Judgement.origin == JudgementOrigin.CORRECTION))
        .options(selectinload(Mention.judgements))
        .order_by(Mention.id)
    )
    for m in session.scalars(query):
        j = m.judgement
        assert j is not None and j.origin == JudgementOrigin.CORRECTION
        yield {
            "text": f"{m.title}。{m.text}" if m.title else m.text,
            "sentiment": j.sentiment,
            "category": j.category,
            "misinfo": j.misinfo,
            "url": m.url,
            "corrected_by": j.actor,
            "corrected_at": j.created_at.isoformat(),
        }


def write_jsonl(rows: Iterator[dict[str, Any]], out: IO[str]) -> int:
    count = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


# A cell starting with one of these is a formula to Excel or LibreOffice (OWASP's CSV
# injection rule); crawled titles and texts are written by strangers.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> Any:
    """A text cell a spreadsheet shows as text: a leading apostrophe before a formula start.
    `yuqing import` takes the apostrophe off again (`plain_cell`)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def plain_cell(value: str) -> str:
    """The text `spreadsheet_cell` protected, as it was."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def write_csv(rows: Iterator[dict[str, Any]], out: IO[str]) -> int:
    """The caller opens `out` with encoding utf-8-sig, so Excel reads the Chinese correctly."""
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({key: spreadsheet_cell(value) for key, value in row.items()})
        count += 1
    return count
