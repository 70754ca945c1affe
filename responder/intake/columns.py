"""The columns of an import file as mention fields: the aliases platforms use, `--map COLUMN=FIELD`,
and one row read into a checked `MentionRecord` (`BadRow` names what is wrong)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time
from typing import Any

from responder.errors import DomainError
from responder.intake.counts import parse_count as read_count
from responder.intake.export import MENTION_FIELDS
from responder.intake.mentions import MentionRecord
from responder.settings import LimitsSettings

FIELDS = MENTION_FIELDS
# Header names recognised without --map: the export's own, then what other platforms' exports
# call them. Order matters where a file has several: 正文 is preferred to 摘要.
ALIASES: dict[str, tuple[str, ...]] = {
    "url": ("url", "链接", "网址", "原文链接", "文章链接", "原文地址", "链接地址", "link"),
    "source": ("source", "来源", "媒体", "站点", "网站", "来源网站", "媒体名称", "站点名称"),
    "title": ("title", "标题", "文章标题"),
    "text": ("text", "正文", "内容", "全文", "文章内容", "微博内容", "content", "摘要"),
    "author": ("author", "作者", "发布者", "博主", "发布人", "昵称"),
    "outlet": ("outlet",),
    "published_at": (
        "published_at",
        "published",
        "发布时间",
        "发表时间",
        "发文时间",
        "时间",
        "发布日期",
        "日期",
    ),
    "reposts": ("reposts", "转发数", "转发", "转发量"),
    "comments": ("comments", "评论数", "评论", "评论量"),
    "likes": ("likes", "点赞数", "点赞", "点赞量"),
}
MAX_CANONICAL_URL = 700  # Mention.canonical_url's column width
MAX_NAME = 200  # Mention.author and Mention.outlet column width
LIMITS = LimitsSettings()  # the defaults, for callers without settings (tests, the fuzz suite)


class UnusableInput(DomainError, ValueError):
    """The file cannot be imported at all: missing, unknown format, bad mapping or encoding."""


class BadRow(DomainError, ValueError):
    """One row cannot be imported; the others still are."""


def parse_mapping(items: list[str]) -> dict[str, str]:
    """`原列名=field` options as {column: field}."""
    mapping: dict[str, str] = {}
    for item in items:
        column, sep, name = item.rpartition("=")
        column, name = column.strip(), name.strip()
        if not sep or not column:
            raise UnusableInput(f"--map {item!r}: write it as COLUMN=FIELD")
        if name not in FIELDS:
            raise UnusableInput(
                f"--map {item!r}: unknown field {name!r}; fields: {', '.join(FIELDS)}"
            )
        if name in mapping.values():
            raise UnusableInput(f"--map: field {name!r} is mapped twice")
        mapping[column] = name
    return mapping


def normal_name(name: Any) -> str:
    return re.sub(r"\s+", "", str(name or "")).lstrip("\ufeff").lower()


def resolve_columns(columns: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """{field: column} from the mapping first, then the recognised header names."""
    by_norm: dict[str, str] = {}
    for column in columns:
        if normal_name(column):
            by_norm.setdefault(normal_name(column), column)
    listed = ", ".join(repr(c) for c in columns if normal_name(c)) or "(none)"
    chosen: dict[str, str] = {}
    for column, name in mapping.items():
        found = by_norm.get(normal_name(column))
        if found is None:
            raise UnusableInput(
                f"--map {column}={name}: the file has no column {column!r}; its columns: {listed}"
            )
        chosen[name] = found
    used = set(chosen.values())
    for name, aliases in ALIASES.items():
        if name in chosen:
            continue
        for alias in aliases:
            found = by_norm.get(normal_name(alias))
            if found is not None and found not in used:
                chosen[name] = found
                used.add(found)
                break
    if "text" not in chosen:
        raise UnusableInput(
            f"no text column recognised (tried {', '.join(ALIASES['text'])}); "
            f"name one with --map COLUMN=text; the file's columns: {listed}"
        )
    return chosen


def parse_count(value: Any) -> int:
    """An engagement count as exports write it (see `responder.intake.counts`); BadRow otherwise."""
    try:
        return read_count(value)
    except ValueError as exc:
        raise BadRow(str(exc)) from None


def cell_text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()  # a naive spreadsheet time is read in the office's zone
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    raise BadRow(f"{name} is not text: {json.dumps(value, ensure_ascii=False)[:60]}")


def read_record(
    values: dict[str, Any], resolved: dict[str, str], cell_chars: int = LIMITS.import_cell_chars
) -> MentionRecord:
    got = {name: values.get(column) for name, column in resolved.items()}
    for name, value in got.items():
        if isinstance(value, str) and len(value) > cell_chars:
            raise BadRow(f"{name} longer than {cell_chars} characters (limits.import_cell_chars)")
    outlet = cell_text(got.get("outlet"), "outlet").strip()
    # A row's `source` is where the other platform found it (its site or media): that is what
    # yuqing calls the outlet. The mention's Source is the import itself.
    outlet = outlet or cell_text(got.get("source"), "source").strip()
    return MentionRecord(
        url=cell_text(got.get("url"), "url").strip(),
        text=cell_text(got.get("text"), "text"),
        title=cell_text(got.get("title"), "title"),
        author=cell_text(got.get("author"), "author").strip()[:MAX_NAME],
        outlet=outlet[:MAX_NAME],
        published=cell_text(got.get("published_at"), "published_at").strip(),
        reposts=parse_count(got.get("reposts")),
        comments=parse_count(got.get("comments")),
        likes=parse_count(got.get("likes")),
    )


# --- reading the three formats -------------------------------------------------------------
