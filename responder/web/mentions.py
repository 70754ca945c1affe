"""The mentions pages: the filtered, searchable list; one mention with the machine's judgement
and why; and the duty officer's correction of that judgement (responder/judging/corrections.py).

Filters arrive as query parameters, so a filtered list can be bookmarked or sent to a
colleague, and the page links carry them along. A malformed value is reported on the page in
Chinese (status 400) with no results, rather than silently dropped, which would show a wider
list than the person asked for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from responder import accounts
from responder.incidents.triage import reassess
from responder.intake.attachments import attachments_of
from responder.judging import views
from responder.judging.corrections import (
    YES_NO,
    categories,
    correct,
    history,
    machine_judgement,
    parse_misinfo,
    sentiments,
)
from responder.judging.views import MentionQuery
from responder.models import Mention, User
from responder.running.day import COUNT_LIMIT, review_count
from responder.settings import Settings
from responder.web.core import flash, guard, parsed, refused_returns_to, web_of, whole_number

PAGE_SIZE = 50
CORRECTORS = accounts.CORRECT
FILTERS = (
    "from",
    "to",
    "source",
    "outlet",
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
class MentionFilter(MentionQuery):
    """The list's filter as the page reads it: `values` are the parameters as given (for the
    form), `page` the page asked for."""

    values: dict[str, str] = field(default_factory=dict)
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
    day = parsed(value, date.fromisoformat)
    if day is None:
        errors.append(f"{what}“{value}”格式不对，应为 年-月-日，例如 2026-11-21")
    return day


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
        found.source_id = views.source_named(session, values["source"])
        if found.source_id is None:
            errors.append(f"没有名为“{values['source']}”的信息源")
    if len(values["outlet"]) > MAX_FILTER_CHARS:
        errors.append(f"信源名称过长，最多 {MAX_FILTER_CHARS} 个字")
    found.outlet = values["outlet"][:MAX_FILTER_CHARS]
    if values["sentiment"] and values["sentiment"] not in (*sentiments(), "unjudged"):
        errors.append(f"未知的情感倾向“{values['sentiment']}”")
    found.sentiment = values["sentiment"]
    if values["category"] and values["category"] not in categories():
        errors.append(f"未知的类别“{values['category']}”")
    found.category = values["category"]
    if values["misinfo"] in YES_NO:
        found.misinfo = YES_NO[values["misinfo"]]
    elif values["misinfo"]:
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


def keyword_rules(settings: Settings) -> list[str]:
    """The keyword rules as `Mention.keywords_matched` names them."""
    rules = settings.keywords
    return [*rules.include, *(f"{a}~{b}" for a, b, _ in rules.near)]


async def listing(request: Request, user: User) -> Response:
    web = web_of(request)
    with web.db.sessions() as session:
        found, errors = parse_filter(request.query_params, session, web.settings)
        rows: list[Mention] = []
        total = 0
        if not errors:
            rows, total = views.find_mentions(session, found, found.page, PAGE_SIZE, COUNT_LIMIT)
        pages = max(1, math.ceil(min(total, COUNT_LIMIT) / PAGE_SIZE))
        if not errors and found.page > pages:
            errors.append(f"没有第 {found.page} 页，共 {pages} 页")
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
            reprints=views.reprint_counts(session, [m.id for m in rows]),
            review_count=review_count(session),
            sources=views.source_names(session),
            sentiments=sentiments(),
            categories=categories(),
            keywords=keyword_rules(web.settings),
        )


async def detail(request: Request, user: User) -> Response:
    web = web_of(request)
    mention_id = int(request.path_params["mention_id"])
    with web.db.sessions() as session:
        mention = views.mention(session, mention_id)
        if mention is None:
            raise HTTPException(404, "没有这条信息")
        original = session.get(Mention, mention.reprint_of) if mention.reprint_of else mention
        assert original is not None
        group, group_size = views.reprints(session, original.id, REPRINTS_SHOWN)
        return web.render(
            request,
            "mention.html",
            user=user,
            mention=mention,
            judgement=mention.judgement,
            machine=machine_judgement(mention),
            original=original,
            reprints=group,
            reprint_count=group_size,
            corrections=history(session, mention.id),
            attachments=attachments_of(session, mention.id),
            can_correct=user.role in CORRECTORS,
            sentiments=sentiments(),
            categories=categories(),
            # The unmasked original (privacy.keep_original) is for admin's eyes only.
            show_original=user.role == "admin" and mention.original_text is not None,
        )


async def correction(request: Request, user: User) -> Response:
    web = web_of(request)
    mention_id = int(request.path_params["mention_id"])
    form = await request.form()
    with web.db.sessions() as session:
        if session.get(Mention, mention_id) is None:
            raise HTTPException(404, "没有这条信息")
    refused_returns_to(request, f"/mentions/{mention_id}")
    with web.db.transaction() as session:
        judgement = correct(
            session,
            web.settings,
            mention_id,
            str(form.get("sentiment", "")),
            str(form.get("category", "")),
            parse_misinfo(str(form.get("misinfo", ""))),
            user.name,
            str(form.get("note", "")),
        )
        reassess(session, web.settings, judgement.mention, user.name)
    flash(request, "已保存修正，后续统计、事件定级和模型训练将以此为准")
    return RedirectResponse(f"/mentions/{mention_id}", status_code=303)


routes = [
    Route("/mentions", guard(listing)),
    Route("/mentions/{mention_id:id}", guard(detail)),
    Route("/mentions/{mention_id:id}/correct", guard(correction, CORRECTORS), methods=["POST"]),
]
