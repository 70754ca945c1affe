"""What an incident's mentions say, in the words of its most authoritative sources: its title
and a short extractive summary.

The title is the most authoritative informative headline (official > central and provincial
media > local media > accounts), not the first post's words; the summary is 3–5 sentences
from the most authoritative, most informative mentions, each once, with its source. Both read
only the mentions, so they are computed when needed and never go stale.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from responder.incidents.severity import authority_tier
from responder.models import Mention
from responder.plaintext import one_line
from responder.settings import Settings

# Authority of a source, highest first. The office itself and government departments speak
# officially; the tiers after it come from `outlet_tiers` in severity.yaml.
RANKS = {
    "official": 5,
    "central_media": 4,
    "provincial_media": 3,
    "local_media": 2,
    "verified_account": 1,
    "personal_account": 0,
}
OFFICIAL_MARKS = ("统计局", "人民政府", "公安局", "警方", "网信办", "普查办", "普查领导小组")
SUMMARY_SENTENCES = 5
_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]?")
_QUESTION = re.compile(r"[？?]|吗$|吗[。！]|是不是|算不算|会不会|难道|有没有人")
_CHATTER = re.compile(r"^(转发|回复|来源[:：]|@|//|Re[:：])|哈哈|扩散|有人知道|#|//@")
# Words that frame a statement, not tell of the event: "现将有关情况通报如下".
_BOILERPLATE = re.compile(r"如下[:：。]?$|高度重视|特此(通报|说明|公告)|敬请|欢迎广大")
# A dateline before the lead: "本报讯（记者 郑雅琴）", "新华社江州12月6日电".
_DATELINE = re.compile(r"^(本报讯|本网讯|[一-鿿]{2,6}社[一-鿿0-9]{0,12}电)(（[^）]*）)?")
# An official document's title names the document, not the event: "关于…的通报".
_DOCUMENT = re.compile(r"关于.+的(通报|说明|声明|公告|回应|情况说明)$")
PER_MENTION = 2
# "标题 - 人民网" or "标题_临江新闻网": the outlet's name after the headline.
_OUTLET_TAIL = re.compile(r"\s*[-_|｜—–]+\s*[^-_|｜—–]{2,12}$")
_CJK = re.compile(r"[\u4e00-\u9fff0-9]")


@dataclass(frozen=True)
class Sentence:
    text: str
    source: str
    mention_id: int
    url: str

    @property
    def cited(self) -> str:
        """The sentence with its source before the full stop: "…引发关注（新华网）。"."""
        return f"{self.text.rstrip('。！!')}（{self.source}）。"


def tier(mention: Mention, settings: Settings) -> str:
    """The authority tier of a mention's source, `official` for the office and government."""
    who = f"{mention.outlet} {mention.author}"
    if settings.office_name in who or any(mark in who for mark in OFFICIAL_MARKS):
        return "official"
    if settings.severity is None:
        return "personal_account"
    return authority_tier(mention, settings.severity)


def rank(mention: Mention, settings: Settings) -> int:
    return RANKS[tier(mention, settings)]


def _informative(text: str, shortest: int, longest: int) -> bool:
    """A statement of some substance: not a question, not chatter, long enough to say what."""
    words = len(_CJK.findall(text))
    return shortest <= words <= longest and not _QUESTION.search(text) and not _CHATTER.search(text)


def headline(mention: Mention) -> str:
    """The mention's title without the outlet's name appended to it."""
    title = one_line(mention.title or "")
    if mention.outlet and mention.outlet in title:
        title = _OUTLET_TAIL.sub("", title)
    return title.strip()


def choose_title(mentions: Sequence[Mention], settings: Settings) -> str | None:
    """The most authoritative informative headline among the mentions; None when none is
    informative (the incident keeps the title it has). A document title ("关于…的通报")
    counts only when no headline tells the event."""
    best: tuple[bool, int, int, int] | None = None
    chosen = None
    for order, mention in enumerate(mentions):
        title = headline(mention)
        if mention.reprint_of is not None or not _informative(title, 6, 40):
            continue
        # Higher authority first; among equals the more specific headline, then the earlier.
        key = (
            not _DOCUMENT.search(title),
            rank(mention, settings),
            min(len(_CJK.findall(title)), 24),
            -order,
        )
        if best is None or key > best:
            best, chosen = key, title
    return chosen


def _bigrams(text: str) -> set[str]:
    chars = "".join(_CJK.findall(text))
    return {chars[i : i + 2] for i in range(len(chars) - 1)}


def _overlap(a: set[str], b: set[str]) -> bool:
    if not a or not b:
        return False
    return len(a & b) / min(len(a), len(b)) >= 0.6


def similar(a: str, b: str) -> bool:
    """Whether two sentences say the same (most of the shorter one's character pairs are in
    the other): a reprint, a quote or a close paraphrase."""
    return _overlap(_bigrams(a), _bigrams(b))


def sentences_of(text: str) -> list[str]:
    found = (_DATELINE.sub("", s.strip()).strip() for s in _SENTENCE.findall(text))
    return [s for s in found if s]


def summarise(
    mentions: Sequence[Mention], settings: Settings, limit: int = SUMMARY_SENTENCES
) -> list[Sentence]:
    """Up to `limit` sentences telling the event: the leads of the most authoritative sources
    first, at most two of each, each said once (a paraphrase or reprint of a chosen one is
    skipped)."""
    read = settings.limits.analysed_chars
    pool: list[tuple[tuple[int, int, int], Sentence]] = []
    for order, mention in enumerate(mentions):
        if mention.reprint_of is not None:
            continue
        # The office speaks in its own name, even on a news site that carried its notice.
        official_author = tier(mention, settings) == "official" and any(
            mark in mention.author for mark in (settings.office_name, *OFFICIAL_MARKS)
        )
        source = (
            mention.author if official_author else mention.outlet or mention.author or "网络信息"
        )
        leads = [
            t
            for t in sentences_of(mention.text[:read])[:6]
            if _informative(t, 10, 120) and not _BOILERPLATE.search(t)
        ]
        for position, text in enumerate(leads[:PER_MENTION]):
            key = (position, -rank(mention, settings), order)
            pool.append((key, Sentence(text, source, mention.id, mention.url)))
    chosen: list[Sentence] = []
    seen: list[set[str]] = []
    for _, sentence in sorted(pool, key=lambda p: p[0]):
        grams = _bigrams(sentence.text)
        if any(_overlap(grams, other) for other in seen):
            continue
        chosen.append(sentence)
        seen.append(grams)
        if len(chosen) == limit:
            break
    return chosen
