"""Jinja2 environments. Reply and notice templates are edited by users, so they render in the
sandbox; web pages escape everything they show."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from responder.labels import label
from responder.models import Incident
from responder.paths import TEMPLATES_DIR


def local_time(value: datetime | None, tz: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(tz).strftime(fmt) if value else ""


# What one user-edited template may build: a longer text or loop is a mistake or an attack on
# the worker that renders it.
MAX_PRODUCT = 100_000
MAX_LOOP = 1_000


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The sandbox, with `*`, `**` and `range` bounded so a template cannot exhaust memory
    or time (Jinja's own sandbox blocks attribute escapes, not resource use)."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if not isinstance(right, int | float) or abs(right) > 64:
                raise SecurityError("模板中的乘方过大")
        elif isinstance(left, str | list | tuple) or isinstance(right, str | list | tuple):
            count = right if isinstance(left, str | list | tuple) else left
            size = len(left) if isinstance(left, str | list | tuple) else len(right)
            if isinstance(count, int) and count * max(size, 1) > MAX_PRODUCT:
                raise SecurityError("模板生成的文本过长")
        return super().call_binop(context, operator, left, right)


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_LOOP:
        raise SecurityError(f"模板中的 range 超过 {MAX_LOOP} 项")
    return numbers


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
    env.globals["range"] = _bounded_range
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


def is_web_link(url: object) -> bool:
    """Whether a link from outside (a mention's URL) may be rendered clickable: http(s) only,
    so `javascript:`, `data:` and `vbscript:` links are shown as text. Checked on the raw text:
    a browser ignores leading spaces and control characters that a parser might keep."""
    return isinstance(url, str) and WEB_LINK.match(url) is not None


def render_text(name: str, **context: object) -> str:
    return text_environment().get_template(name).render(**context)


def render_string(source: str, **context: object) -> str:
    return text_environment().from_string(source).render(**context)


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
