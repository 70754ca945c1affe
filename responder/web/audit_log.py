"""The audit log page: who did what, when, to which object, with before and after; and the
readable form of an audit row's changes, which the incident page's history shows too.

The page only reads. Audit rows are inserted by the module that makes each change, in the same
transaction, and the app has no route that edits or deletes one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from responder.audit import AuditAction, Trail, action_label, read_trail, recorded
from responder.labels import label, labels
from responder.models import User
from responder.rendering import local_time
from responder.web.core import BadForm, guard, parsed, web_of, whole_number

READERS = ("admin", "leader")
PAGE_SIZE = 50
NOTHING = "无"

# Fields whose values are codes with a Chinese label of this kind.
_CODED = {
    "machine_level": "levels",
    "level": "levels",
    "level_override": "levels",
    "notified_level": "levels",
    "category": "categories",
    "role": "roles",
    "via": "ack_via",
    "stage": "stages",
    "sentiment": "sentiments",
}
# A status is labelled by the kind of object it belongs to.
_STATUS_KINDS = {
    "incident": "incident_status",
    "draft": "draft_status",
    "template_version": "template_status",
}
_INCIDENT_REFS = {"merged_into", "merged_from", "split_into", "split_from", "incident_id"}
_MENTION_LISTS = {"mentions_moved"}


@dataclass(frozen=True)
class Change:
    """One field of an audit row: `before` is None when the row recorded no earlier value,
    `after` is None when the field only appears before (it was cleared)."""

    field: str
    before: str | None
    after: str | None
    link: str | None = None  # where the after value points (an incident's page)


def _value(key: str, value: Any, object_type: str, tz: ZoneInfo) -> str:
    if value is None or value == [] or value == "":
        return NOTHING
    if isinstance(value, bool):
        return "是" if value else "否"
    if key in _MENTION_LISTS and isinstance(value, list):
        return "、".join(f"#{v}" for v in value)
    if isinstance(value, list):
        return "、".join(_value("", v, object_type, tz) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if key in _INCIDENT_REFS:
        return f"事件 #{value}"
    if key == "status":
        return label(_STATUS_KINDS.get(object_type, "incident_status"), str(value))
    if key in _CODED:
        return label(_CODED[key], str(value))
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str) and key.endswith("_at"):
        moment = parsed(value, datetime.fromisoformat)
        return local_time(moment, tz) if moment is not None and moment.tzinfo else value
    return str(value)


def readable_changes(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    object_type: str,
    tz: ZoneInfo,
) -> list[Change]:
    """The fields of an audit row in Chinese: after's fields in order, then those only known
    before. Fields recorded on both sides with the same value are left out: they did not
    change (the raw row still has them)."""
    before, after = before or {}, after or {}
    changes = []
    for key, value in after.items():
        if key in before and before[key] == value:
            continue
        shown = _value(key, value, object_type, tz)
        old = _value(key, before[key], object_type, tz) if key in before else None
        link = f"/incidents/{value}" if key in _INCIDENT_REFS and value is not None else None
        changes.append(Change(label("audit_fields", key), old, shown, link))
    for key, value in before.items():
        if key not in after:
            changes.append(
                Change(label("audit_fields", key), _value(key, value, object_type, tz), None)
            )
    return changes


def pretty(value: Mapping[str, Any] | None) -> str:
    """Indented JSON with Chinese kept readable (the page escapes it)."""
    return "" if value is None else json.dumps(value, ensure_ascii=False, indent=2)


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1

    def query(self, **changes: Any) -> str:
        """This filter as a query string, with some fields changed (the pager's links)."""
        values = {
            "actor": self.actor,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "page": self.page,
            **changes,
        }
        return urlencode({k: v for k, v in values.items() if v not in ("", None, 1)})


def _day(text: str, what: str) -> date | None:
    if not text:
        return None
    day = parsed(text, date.fromisoformat)
    if day is None:
        raise BadForm(f"{what}“{text}”不是有效日期，应写作 2026-11-21")
    return day


def parse_filter(
    params: Mapping[str, str], actions: Mapping[str, str], object_types: Mapping[str, str]
) -> AuditFilter:
    """Read the query string; an unknown action or object type, a bad date or page, or a
    range that ends before it starts, raises BadForm."""
    text = {k: str(params.get(k, "")).strip() for k in AuditFilter.__dataclass_fields__}
    if text["action"] and text["action"] not in actions:
        raise BadForm(f"没有“{text['action']}”这种操作，请从列表中选择")
    if text["object_type"] and text["object_type"] not in object_types:
        raise BadForm(f"没有“{text['object_type']}”这种对象类型，请从列表中选择")
    start, end = _day(text["date_from"], "起始日期"), _day(text["date_to"], "截止日期")
    if start and end and end < start:
        raise BadForm("截止日期早于起始日期")
    page = text["page"] or "1"
    number = whole_number(page)
    if number is None:
        raise BadForm(f"页码“{page}”无效，应为正整数")
    return AuditFilter(
        actor=text["actor"],
        action=text["action"],
        object_type=text["object_type"],
        object_id=text["object_id"].lstrip("#"),
        date_from=start,
        date_to=end,
        page=number,
    )


def trail_of(chosen: AuditFilter, tz: ZoneInfo) -> Trail:
    """The rows the filter selects; days are the office's days, both ends included."""
    return Trail(
        actor=chosen.actor,
        action=chosen.action,
        object_type=chosen.object_type,
        object_id=chosen.object_id,
        start=datetime.combine(chosen.date_from, time(), tz) if chosen.date_from else None,
        end=datetime.combine(chosen.date_to + timedelta(days=1), time(), tz)
        if chosen.date_to
        else None,
    )


async def audit_page(request: Request, user: User) -> Response:
    web = web_of(request)
    tz = web.settings.tz
    with web.db.sessions() as session:
        seen = recorded(session)
        # Every labelled action can be chosen, and any other the table holds.
        actions = {action.value: action.label for action in AuditAction}
        actions.update({code: action_label(code) for code in seen.actions})
        types = {code: label("audit_objects", code) for code in labels()["audit_objects"]}
        types.update({code: label("audit_objects", code) for code in seen.object_types})
        context: dict[str, Any] = {
            "actions": actions,
            "object_types": types,
            "actors": seen.actors,
            "params": {
                k: request.query_params.get(k, "") for k in AuditFilter.__dataclass_fields__
            },
        }
        try:
            chosen = parse_filter(request.query_params, actions, types)
        except BadForm as exc:
            # Local, not the app's handler: the page again with its filter form as typed
            # and the reason, status 400.
            return web.render(
                request, "audit.html", status=400, user=user, error=str(exc), **context
            )
        found = read_trail(session, trail_of(chosen, tz), chosen.page, PAGE_SIZE)
        page, pages = found.page, found.pages
        rows = [
            {
                "entry": e,
                "changes": readable_changes(e.before, e.after, e.object_type, tz),
                "before": pretty(e.before),
                "after": pretty(e.after),
            }
            for e in found.entries
        ]
        return web.render(
            request,
            "audit.html",
            user=user,
            rows=rows,
            total=found.total,
            page=page,
            pages=pages,
            prev_url=f"/audit?{chosen.query(page=page - 1)}" if page > 1 else None,
            next_url=f"/audit?{chosen.query(page=page + 1)}" if page < pages else None,
            **context,
        )


# GET only: a POST, PUT or DELETE here is 405, and no path below /audit exists.
routes = [Route("/audit", guard(audit_page, READERS))]
