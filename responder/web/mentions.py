"""The mentions pages: the filtered, searchable list; one mention with the machine's judgement
and why; and the duty officer's correction of that judgement (responder/judging/corrections.py).

Filters arrive as query parameters, so a filtered list can be bookmarked or sent to a
colleague, and the page links carry them along. A malformed value is reported on the page in
Chinese (status 400) with no results, rather than silently dropped, which would show a wider
list than the person asked for.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Select, Text, and_, cast, func, select
from sqlalchemy.orm import Session, aliased, selectinload
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from responder import accounts
from responder.incidents.triage import reassess
from responder.intake import search
from responder.intake.attachments import attachments_of
from responder.judging.corrections import (
    CorrectionError,
    categories,
    correct,
    history,
    in_force,
    machine_judgement,
    parse_misinfo,
    sentiments,
)
from responder.models import MENTION_TIME, Judgement, Mention, Source, User
from responder.running.day import COUNT_LIMIT, review_count
from responder.settings import Settings
from responder.web.core import Web, flash, guard, refused_returns_to, whole_number

PAGE_SIZE = 50
CORRECTORS = accounts.CORRECT
FILTERS = (
    "from",
    "to",
    "source",
    "sentiment",
    "category",
    "misinfo",
    "review",
    "incident",
    "keyword",
    "q",
)
MAX_TERMS = 10
# A keyword rule or search is a few words; a long one only makes the database work hard.
MAX_FILTER_CHARS = 200
REPRINTS_SHOWN = 30


@dataclass
class MentionFilter:
    """What the list is narrowed to; `values` are the parameters as given, for the form."""

    values: dict[str, str] = field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None
    source_id: int | None = None
    sentiment: str = ""
    category: str = ""
    misinfo: bool | None = None
    review: bool = False  # only mentions the machine was unsure of (待研判)
    incident: str = ""  # "" | "yes" | "no" | an incident id
    keyword: str = ""
    terms: list[str] = field(default_factory=list)
    page: int = 1

    def link(self, page: int) -> str:
        """The list URL with these filters on `page`."""
        params = {k: v for k, v in self.values.items() if v}
        if page > 1:
            params["page"] = str(page)
        return "/mentions" + (f"?{urlencode(params)}" if params else "")


def _day(value: str, what: str, errors: list[str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"{what}“{value}”格式不对，应为 年-月-日，例如 2026-11-21")
        return None


def parse_filter(
    params: Mapping[str, str], session: Session, settings: Settings
) -> tuple[MentionFilter, list[str]]:
    """The filter the query parameters ask for, and what is wrong with them (in Chinese)."""
    values = {k: str(params.get(k, "")).strip() for k in FILTERS}
    found = MentionFilter(values=values)
    errors: list[str] = []
    first = _day(values["from"], "开始日期", errors)
    last = _day(values["to"], "结束日期", errors)
    if first and last and first > last:
        errors.append("开始日期晚于结束日期")
    # Whole local days: "to" includes its own day.
    if first:
        found.start = datetime.combine(first, time(), tzinfo=settings.tz)
    if last:
        found.end = datetime.combine(last + timedelta(days=1), time(), tzinfo=settings.tz)
    if values["source"]:
        found.source_id = session.scalar(select(Source.id).where(Source.name == values["source"]))
        if found.source_id is None:
            errors.append(f"没有名为“{values['source']}”的信息源")
    if values["sentiment"] and values["sentiment"] not in (*sentiments(), "unjudged"):
        errors.append(f"未知的情感倾向“{values['sentiment']}”")
    found.sentiment = values["sentiment"]
    if values["category"] and values["category"] not in categories():
        errors.append(f"未知的类别“{values['category']}”")
    found.category = values["category"]
    if values["misinfo"]:
        try:
            found.misinfo = parse_misinfo(values["misinfo"])
        except CorrectionError:
            errors.append("“疑似失实”只能选 是 或 否")
    if values["review"] not in ("", "yes"):
        errors.append("“待研判”只能选 是")
    found.review = values["review"] == "yes"
    if values["incident"] and not (
        values["incident"] in ("yes", "no") or whole_number(values["incident"]) is not None
    ):
        errors.append(f"事件筛选“{values['incident']}”无效，应为事件编号")
    found.incident = values["incident"]
    if len(values["keyword"]) > MAX_FILTER_CHARS or len(values["q"]) > MAX_FILTER_CHARS:
        errors.append(f"关键词或搜索内容过长，最多 {MAX_FILTER_CHARS} 个字")
    found.keyword = values["keyword"][:MAX_FILTER_CHARS]
    found.terms = values["q"][:MAX_FILTER_CHARS].split()
    if len(found.terms) > MAX_TERMS:
        errors.append(f"搜索词过多，最多 {MAX_TERMS} 个")
    page = str(params.get("page", "1")).strip() or "1"
    number = whole_number(page)
    if number is not None:
        found.page = number
    else:
        errors.append(f"页码“{page}”无效，应为正整数")
    return found, errors


def _mention_conditions(f: MentionFilter, dialect: str) -> list[ColumnElement[bool]]:
    """The conditions on the mention itself (not on its judgement)."""
    where: list[ColumnElement[bool]] = []
    if f.start:
        where.append(MENTION_TIME >= f.start)
    if f.end:
        where.append(MENTION_TIME < f.end)
    if f.source_id is not None:
        where.append(Mention.source_id == f.source_id)
    if f.incident == "yes":
        where.append(Mention.incident_id.is_not(None))
    elif f.incident == "no":
        where.append(Mention.incident_id.is_(None))
    elif f.incident:
        where.append(Mention.incident_id == int(f.incident))
    if f.keyword:
        # The rules matched are a JSON list; its text holds each rule exactly as json.dumps
        # wrote it (quotes included, so 普查 does not match 人口普查).
        where.append(
            cast(Mention.keywords_matched, Text).contains(json.dumps(f.keyword), autoescape=True)
        )
    where += search.containing(f.terms, dialect)
    return where


def _judgement_conditions(f: MentionFilter, judgement: Any) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.sentiment == "unjudged":
        where.append(judgement.id.is_(None))
    elif f.sentiment:
        where.append(judgement.sentiment == f.sentiment)
    if f.category:
        where.append(judgement.category == f.category)
    if f.misinfo is not None:
        where.append(judgement.misinfo.is_(f.misinfo))
    if f.review:
        where.append(judgement.unsure.is_(True))
    return where


def find_mentions(session: Session, f: MentionFilter) -> tuple[list[Mention], int]:
    """One page of the mentions matching `f`, newest first, and how many match in all (up to
    COUNT_LIMIT + 1, meaning "more than COUNT_LIMIT")."""
    judgement = aliased(Judgement)
    on_mention = _mention_conditions(f, session.get_bind().dialect.name)
    on_judgement = _judgement_conditions(f, judgement)
    ids: Select[Any] = select(Mention.id).where(*on_mention)
    if on_judgement:
        # The judgement in force is looked up only when a filter asks about it.
        ids = ids.outerjoin(
            judgement, and_(judgement.mention_id == Mention.id, in_force(judgement))
        ).where(*on_judgement)
    # Counting stops past COUNT_LIMIT: an exact count of a million matches costs seconds and
    # says no more than "narrow the filters" to the person reading it.
    capped = ids.limit(COUNT_LIMIT + 1).subquery()
    total = session.scalar(select(func.count()).select_from(capped)) or 0
    page_ids = ids.order_by(MENTION_TIME.desc(), Mention.id.desc())
    page_ids = page_ids.limit(PAGE_SIZE).offset((f.page - 1) * PAGE_SIZE)
    order = [row for row in session.scalars(page_ids)]
    rows = {
        m.id: m
        for m in session.scalars(
            select(Mention)
            .where(Mention.id.in_(order))
            .options(
                selectinload(Mention.judgements),
                selectinload(Mention.source),
                selectinload(Mention.incident),
            )
        )
    }
    return [rows[i] for i in order], total


def reprint_counts(session: Session, ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        select(Mention.reprint_of, func.count(Mention.id))
        .where(Mention.reprint_of.in_(ids))
        .group_by(Mention.reprint_of)
    )
    return {original: count for original, count in rows if original is not None}


def keyword_rules(settings: Settings) -> list[str]:
    """The keyword rules as `Mention.keywords_matched` names them."""
    rules = settings.keywords
    return [*rules.include, *(f"{a}~{b}" for a, b, _ in rules.near)]


def routes(web: Web) -> list[Route]:
    settings, db = web.settings, web.db

    async def listing(request: Request, user: User) -> Response:
        with db.sessions() as session:
            found, errors = parse_filter(request.query_params, session, settings)
            rows: list[Mention] = []
            total = 0
            if not errors:
                rows, total = find_mentions(session, found)
            pages = max(1, math.ceil(min(total, COUNT_LIMIT) / PAGE_SIZE))
            if not errors and found.page > pages:
                errors.append(f"没有第 {found.page} 页，共 {pages} 页")
            sources = session.scalars(select(Source.name).order_by(Source.name)).all()
            return web.render(
                request,
                "mentions.html",
                status=400 if errors else 200,
                user=user,
                mentions=rows,
                total=total,
                count_limit=COUNT_LIMIT,
                pages=pages,
                filter=found,
                errors=errors,
                reprints=reprint_counts(session, [m.id for m in rows]),
                review_count=review_count(session),
                sources=sources,
                sentiments=sentiments(),
                categories=categories(),
                keywords=keyword_rules(settings),
            )

    async def detail(request: Request, user: User) -> Response:
        mention_id = int(request.path_params["mention_id"])
        with db.sessions() as session:
            mention = session.scalar(
                select(Mention)
                .where(Mention.id == mention_id)
                .options(
                    selectinload(Mention.judgements),
                    selectinload(Mention.source),
                    selectinload(Mention.incident),
                )
            )
            if mention is None:
                raise HTTPException(404, "没有这条信息")
            original = session.get(Mention, mention.reprint_of) if mention.reprint_of else mention
            assert original is not None
            group = session.scalars(
                select(Mention)
                .where(Mention.reprint_of == original.id)
                .order_by(MENTION_TIME, Mention.id)
                .limit(REPRINTS_SHOWN)
            ).all()
            group_size = session.scalar(
                select(func.count(Mention.id)).where(Mention.reprint_of == original.id)
            )
            return web.render(
                request,
                "mention.html",
                user=user,
                mention=mention,
                judgement=mention.judgement,
                machine=machine_judgement(mention),
                original=original,
                reprints=group,
                reprint_count=group_size or 0,
                corrections=history(session, mention.id),
                attachments=attachments_of(session, mention.id),
                can_correct=user.role in CORRECTORS,
                sentiments=sentiments(),
                categories=categories(),
                # The unmasked original (privacy.keep_original) is for admin's eyes only.
                show_original=user.role == "admin" and mention.original_text is not None,
            )

    async def correction(request: Request, user: User) -> Response:
        mention_id = int(request.path_params["mention_id"])
        form = await request.form()
        with db.sessions() as session:
            if session.get(Mention, mention_id) is None:
                raise HTTPException(404, "没有这条信息")
        refused_returns_to(request, f"/mentions/{mention_id}")
        with db.transaction() as session:
            judgement = correct(
                session,
                settings,
                mention_id,
                str(form.get("sentiment", "")),
                str(form.get("category", "")),
                parse_misinfo(str(form.get("misinfo", ""))),
                user.name,
                str(form.get("note", "")),
            )
            reassess(session, settings, judgement.mention, user.name)
        flash(request, "已保存修正，后续统计、事件定级和模型训练将以此为准")
        return RedirectResponse(f"/mentions/{mention_id}", status_code=303)

    return [
        Route("/mentions", guard(web, listing)),
        Route("/mentions/{mention_id:id}", guard(web, detail)),
        Route(
            "/mentions/{mention_id:id}/correct",
            guard(web, correction, CORRECTORS),
            methods=["POST"],
        ),
    ]
