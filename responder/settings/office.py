"""The office's own records among the settings: its sources, recipients, duty roster and
escalation chain, and the severity rules (the YAML files of the configuration directory)."""

from __future__ import annotations

from datetime import date
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from responder.schedules import parse_schedule
from responder.settings.base import Section

SOURCE_KINDS = ("rss", "site", "search", "weibo", "mailbox", "wechat", "json", "hotlist", "watch")
WEIBO_API = "https://m.weibo.cn"
# A mailbox source's URL: imaps (TLS from the first byte, port 993), imap (STARTTLS required,
# port 143) or imap+plain (no encryption, refused but on loopback: a test server, a local relay).
MAILBOX_SCHEMES = ("imaps", "imap", "imap+plain")
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
# The boards a DailyHotApi-style service serves, by the name an office writes in sources.yaml,
# and the route of each under the service's base URL (`GET <base>/<route>`).
HOT_BOARDS = {
    "微博热搜": "weibo",
    "百度热搜": "baidu",
    "头条热榜": "toutiao",
    "抖音热榜": "douyin",
    "知乎热榜": "zhihu",
}
# A mention field and the item field it is read from in a `json` source (`fields:`).
JSON_FIELDS = ("title", "url", "time", "text", "author", "outlet", "reposts", "comments", "likes")


class Source(Section):
    """One entry of sources.yaml; which fields a source needs depends on its kind."""

    name: str = Field(min_length=1)
    kind: Literal["rss", "site", "search", "weibo", "mailbox", "wechat", "json", "hotlist", "watch"]
    # rss and wechat: the feed; site: the first list page; search: a template with {keyword} and
    # {page}; weibo: the API base (default m.weibo.cn); mailbox: imaps://host[:port]/FOLDER;
    # json: the API's first page; hotlist: the hot-list service's base URL; watch: the page.
    url: str = ""
    keywords: list[str] = Field(default_factory=list)
    users: list[str] = Field(default_factory=list)
    schedule: str | None = None
    enabled: bool = True
    max_pages: int = Field(5, ge=1)
    lookback_days: float | None = Field(None, gt=0)
    alert_after_runs: int | None = Field(None, ge=1)
    # The outlet (媒体) of every item, e.g. the account an RSSHub route follows; the severity
    # rules rank outlets, so a publisher's own feed should name itself here.
    outlet: str | None = None
    obey_robots: bool | None = None
    selectors: dict[str, str] = Field(default_factory=dict)
    # mailbox: the IMAP login (its password lives in the secrets file, `[mailbox_passwords]`
    # by source name), whether reading a letter may mark it read on the server (otherwise the
    # folder is opened read-only and nothing on the server changes), and a CA file for a
    # server whose certificate the office signs itself.
    username: str = ""
    mark_seen: bool = False
    ca_file: str = ""
    # wechat: a bridge whose login expired stops publishing; no new article for this long
    # fails the run, so source health alerts the duty officer.
    stale_hours: float = Field(72, gt=0)
    # json: where the list of items is in the answer (a dotted path, "data.list"; "" for an
    # answer that is the list), and where each mention field is in an item (JSON_FIELDS).
    items: str = ""
    fields: dict[str, str] = Field(default_factory=dict)
    # json paging: a query parameter set to 2, 3, … (`page_param`), or the path of the next
    # page's URL in the answer (`next_path`); at most max_pages pages either way.
    page_param: str | None = None
    next_path: str | None = None
    # hotlist: one of HOT_BOARDS.
    board: str | None = None

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, url: str) -> str:
        schemes = ("http", "https", *MAILBOX_SCHEMES)
        if url and urlsplit(url).scheme not in schemes:
            raise ValueError(f"not an http(s) or imap(s) URL: {url!r}")
        return url

    @field_validator("schedule")
    @classmethod
    def _valid_schedule(cls, schedule: str | None) -> str | None:
        if schedule is not None:
            parse_schedule(schedule, ZoneInfo("UTC"))
        return schedule

    @model_validator(mode="after")
    def _fields_for_kind(self) -> Source:
        if self.kind == "weibo":
            self.url = self.url or WEIBO_API
            if not self.keywords and not self.users:
                raise ValueError(f"weibo source {self.name!r} needs keywords or users")
        if not self.url:
            raise ValueError(f"{self.kind} source {self.name!r} needs a url")
        mailbox = urlsplit(self.url).scheme in MAILBOX_SCHEMES
        if mailbox != (self.kind == "mailbox"):
            raise ValueError(
                f"{self.kind} source {self.name!r}: "
                + ("imap(s) URLs are for mailbox sources" if mailbox else "needs an imap(s) URL")
            )
        if self.kind == "mailbox":
            if not self.username:
                raise ValueError(f"mailbox source {self.name!r} needs a username")
            host = urlsplit(self.url).hostname or ""
            if self.url.startswith("imap+plain:") and host not in LOOPBACK_HOSTS:
                raise ValueError(
                    f"mailbox source {self.name!r}: imap+plain (no encryption) only on loopback"
                )
        if self.kind == "search":
            if "{keyword}" not in self.url:
                raise ValueError(f"search source {self.name!r}: url needs a {{keyword}} slot")
            if not self.keywords:
                raise ValueError(f"search source {self.name!r} needs keywords")
        if self.kind == "json":
            if "url" not in self.fields or not ({"title", "text"} & set(self.fields)):
                raise ValueError(f"json source {self.name!r}: fields needs url and title or text")
            unknown = sorted(set(self.fields) - set(JSON_FIELDS))
            if unknown:
                raise ValueError(
                    f"json source {self.name!r}: unknown fields {', '.join(unknown)} "
                    f"(known: {', '.join(JSON_FIELDS)})"
                )
            if self.page_param and self.next_path:
                raise ValueError(f"json source {self.name!r}: page_param or next_path, not both")
        if self.kind == "hotlist":
            if self.board not in HOT_BOARDS:
                raise ValueError(
                    f"hotlist source {self.name!r}: board must be one of {', '.join(HOT_BOARDS)}"
                )
            # DailyHotApi's answer, unless the office's service differs.
            self.items = self.items or "data"
            self.fields = self.fields or {"title": "title", "url": "url"}
        return self


class Recipient(Section):
    name: str
    email: str
    # The name of a `[webhooks.NAME]` entry that notices for this person also go to.
    webhook: str | None = None


class Recipients(Section):
    leadership: list[Recipient] = Field(default_factory=list)
    upper_office: list[Recipient] = Field(default_factory=list)
    government: list[Recipient] = Field(default_factory=list)
    # The leads who receive the daily and weekly reports besides the duty officer.
    reports: list[Recipient] = Field(default_factory=list)
    # Journalists and outlets an approved reply may be emailed to.
    media: list[Recipient] = Field(default_factory=list)


class DutyPerson(Recipient):
    phone: str = ""


class Escalation(Section):
    """What happens to a notice nobody acknowledges."""

    ack_minutes: float = Field(15, gt=0, description="minutes to wait for an acknowledgement")
    # Notices of incidents below this level carry a link but are not repeated or escalated.
    from_level: Literal["IV", "III", "II", "I"] = Field(
        "III", description="lowest incident level whose notices are repeated and escalated"
    )
    repeats: int = Field(1, ge=0, description="times a notice is repeated before escalating")
    max_rounds: int = Field(3, ge=0, description="people up the chain it is escalated to, at most")
    # The chain above the duty officer, nearest first (e.g. deputy head, then head).
    chain: list[DutyPerson] = Field(default_factory=list)
    # While an incident of level II or above stays open, a 续报 goes out this often (0: only
    # when its level rises).
    followup_hours: float = Field(0, ge=0, description="hours between scheduled follow-ups")


class Duty(Section):
    people: list[DutyPerson] = Field(default_factory=list)
    start: date = date(2026, 1, 1)
    order: list[str] = Field(default_factory=list)
    # A day's officer when it differs from the rotation (leave, a swap: two entries).
    overrides: dict[date, str] = Field(default_factory=dict)
    escalation: Escalation = Field(default_factory=Escalation)

    @model_validator(mode="after")
    def _known_people(self) -> Duty:
        names = {p.name for p in self.people}
        for where, name in [("order", n) for n in self.order] + [
            (f"overrides.{day}", n) for day, n in self.overrides.items()
        ]:
            if name not in names:
                raise ValueError(f"{where}: {name!r} is not one of the people")
        return self


class SeverityBand(Section):
    min: float
    score: float


class SeverityRank(Section):
    """A hot-list place band: an incident whose mentions stood at place `max` or higher."""

    max: int = Field(ge=1)
    score: float


class SeverityTerm(Section):
    name: str
    words: list[str]
    score: float


class SeverityRules(Section):
    levels: dict[Literal["I", "II", "III", "IV"], float]
    category_weights: dict[str, float]
    terms: list[SeverityTerm] = Field(default_factory=list)
    mention_count: list[SeverityBand] = Field(default_factory=list)
    engagement: list[SeverityBand] = Field(default_factory=list)
    # The best place any mention reached on a hot list (responder.incidents.hotlists).
    hot_rank: list[SeverityRank] = Field(default_factory=list)
    authority: dict[str, float] = Field(default_factory=dict)
    misinfo: float = 0
    negative_share: SeverityBand | None = None
    outlet_tiers: dict[str, list[str]] = Field(default_factory=dict)
