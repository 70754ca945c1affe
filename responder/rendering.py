"""Jinja2 environments, the only place yuqing builds one. Reply and notice templates are edited
by users, so they render in the bounded sandbox (responder/sandbox.py); web pages escape
everything they show; reports (daily, weekly) come from the shipped templates/reports."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment

from responder import sandbox
from responder.labels import label
from responder.models import Incident
from responder.paths import TEMPLATES_DIR
from responder.sandbox import BoundedSandbox


def local_time(value: datetime | None, tz: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(tz).strftime(fmt) if value else ""


@cache
def text_environment() -> ImmutableSandboxedEnvironment:
    """For plain-text replies and notices: sandboxed, no autoescape, undefined names fail."""
    env = BoundedSandbox(
        loader=FileSystemLoader(TEMPLATES_DIR),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.filters["label"] = lambda code, kind: label(kind, code)
    return env


WEB_LINK = re.compile(r"https?://[^\s]", re.IGNORECASE)


def web_environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES_DIR / "web"),
        autoescape=select_autoescape(default=True),
    )
    env.filters["label"] = lambda code, kind: label(kind, code)
    env.tests["web_link"] = is_web_link
    return env


def _percent(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}%" if whole else "0%"


@cache
def report_environment(html: bool) -> ImmutableSandboxedEnvironment:
    """For the shipped report templates: HTML escapes everything, text does not; undefined
    names fail."""
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES_DIR / "reports"),
        autoescape=select_autoescape(default=True) if html else False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["label"] = lambda code, kind: label(kind, code)
    env.filters["percent"] = _percent
    return env


def demo_environment() -> Environment:
    """For the demo's made-up news site and forum (shipped templates only); a new one each
    time, as the demo adds filters bound to its own clock."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR / "demo"),
        autoescape=select_autoescape(["html", "xml"]),
    )


def is_web_link(url: object) -> bool:
    """Whether a link from outside (a mention's URL) may be rendered clickable: http(s) only,
    so `javascript:`, `data:` and `vbscript:` links are shown as text. Checked on the raw text:
    a browser ignores leading spaces and control characters that a parser might keep."""
    return isinstance(url, str) and WEB_LINK.match(url) is not None


def render_text(name: str, **context: object) -> str:
    return sandbox.render(text_environment().get_template(name), context)


def render_string(source: str, **context: object) -> str:
    return sandbox.render(text_environment().from_string(source), context)


def split_subject(rendered: str) -> tuple[str, str]:
    """Notice templates start with a `Subject:` line."""
    first, _, rest = rendered.lstrip().partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError("notice template must start with a 'Subject:' line")
    return first[len("Subject:") :].strip(), rest.lstrip("\n")


@dataclass(frozen=True)
class IncidentView:
    """What a user-edited template may read about an incident. Templates never get the ORM object:
    through it the sandbox would reach SQLAlchemy's registry and mappers (and their methods)."""

    id: int
    title: str
    category: str
    level: str
    status: str
    mention_count: int
    score: float
    first_seen: datetime
    last_seen: datetime

    @classmethod
    def of(cls, incident: Incident, tz: ZoneInfo) -> IncidentView:
        return cls(
            id=incident.id,
            title=incident.title,
            category=incident.category,
            level=incident.level,
            status=incident.status,
            mention_count=incident.mention_count,
            score=incident.score,
            first_seen=incident.first_seen.astimezone(tz),
            last_seen=incident.last_seen.astimezone(tz),
        )
