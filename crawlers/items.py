"""The item every spider yields: one mention as found on the page, before cleaning.

It is intake's `MentionRecord` (what is stored) with what only the crawl knows: the source it
came from and the addresses that redirected to it. One record, so a field added to mentions
is added once."""

from __future__ import annotations

from dataclasses import dataclass, field

from responder.intake.handover import MentionRecord


@dataclass
class MentionItem(MentionRecord):
    # A page may yield no text (the normalise pipeline sets it aside as "empty").
    text: str = ""
    source: str = ""
    # URLs that redirected to `url` (see crawlers.spiders.base.redirected_from).
    aliases: list[str] = field(default_factory=list)
    # Why the item cannot be read (a letter with a broken MIME tree); it is set aside as
    # "unreadable", so later crawls skip it, and the run records the reason.
    unreadable: str = ""
    # hotlist entries: the board (settings.HOT_BOARDS), place (1 = top) and heat when read;
    # the save pipeline records a sighting for each one that reaches it (a relevant entry).
    hot_board: str = ""
    hot_rank: int | None = None
    hot_heat: int = 0
    # watch pages: True on the item a watch spider yields with the page's whole main text;
    # the watch pipeline diffs it against the last read and keeps the page's text here.
    watched: bool = False
    page_text: str | None = None
