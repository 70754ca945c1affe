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
