"""Jinja2 environments. Reply and notice templates are edited by users, so they render in the
sandbox; web pages escape everything they show."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment

from responder.labels import label
from responder.paths import TEMPLATES_DIR


def local_time(value: datetime | None, tz: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(tz).strftime(fmt) if value else ""


@cache
def text_environment() -> ImmutableSandboxedEnvironment:
    """For plain-text replies and notices: sandboxed, no autoescape, undefined names fail."""
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.filters["label"] = lambda code, kind: label(kind, code)
    return env


def web_environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES_DIR / "web"),
        autoescape=select_autoescape(default=True),
    )
    env.filters["label"] = lambda code, kind: label(kind, code)
    return env


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
