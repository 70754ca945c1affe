"""The item every spider yields: one mention as found on the page, before cleaning."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class MentionItem:
    source: str
    url: str
    title: str = ""
    text: str = ""
    author: str = ""
    outlet: str = ""
    published: str = ""  # as written on the page; the normalise pipeline parses it
    published_at: datetime | None = None
    reposts: int = 0
    comments: int = 0
    likes: int = 0
    keywords_matched: list[str] = field(default_factory=list)
    # Title and text before masking, kept only with `privacy.keep_original` (see clean()).
    original_title: str | None = None
    original_text: str | None = None
    # URLs that redirected to `url` (see crawlers.spiders.base.redirected_from).
    aliases: list[str] = field(default_factory=list)
    # Why the item cannot be read (a letter with a broken MIME tree); it is set aside as
    # "unreadable", so later crawls skip it, and the run records the reason.
    unreadable: str = ""
