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
    # hotlist entries: the board (settings.HOT_BOARDS), place (1 = top) and heat when read;
    # the save pipeline records a sighting for each one that reaches it (a relevant entry).
    hot_board: str = ""
    hot_rank: int | None = None
    hot_heat: int = 0
    # watch pages: True on the item a watch spider yields with the page's whole main text;
    # the watch pipeline diffs it against the last read and keeps the page's text here.
    watched: bool = False
    page_text: str | None = None
