"""The one settings object, loaded once at start-up and passed down.

Layers, lowest first: the packaged `config/`, the selected configuration directory, `YUQING_*`
environment variables, explicit overrides (tests). `settings.toml` is merged key by key; a YAML
list file (sources, keywords, ...) in the configuration directory replaces the packaged one.
Every mistake is reported as a `ConfigError` naming the file, the key and what is wrong.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from nlp import Debunk, Fact, KeywordRules
from responder import clock
from responder.paths import DEFAULT_CONFIG_DIR
from responder.schedules import parse_schedule

ENV_PREFIX = "YUQING_"


class ConfigError(Exception):
    """A configuration file or variable is wrong; the message names where and what."""

    def __init__(self, where: str, key: str, problem: str) -> None:
        self.where, self.key, self.problem = where, key, problem
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatabaseSettings(Section):
    url: str = Field(
        "",
        description="SQLAlchemy URL; empty means SQLite in the data directory",
        repr=False,  # it may hold the database password
    )


class CrawlSettings(Section):
    user_agent: str = Field("yuqing/0.1", description="User-Agent header sent to every site")
    obey_robots: bool = Field(True, description="obey robots.txt unless a source overrides it")
    download_timeout: int = Field(20, ge=1, description="seconds before a request is abandoned")
    max_response_bytes: int = Field(10_485_760, ge=1024, description="larger responses are dropped")
    concurrent_per_domain: int = Field(4, ge=1, description="parallel requests per domain")
    autothrottle: bool = Field(True, description="adapt the request rate to server latency")
    retries: int = Field(2, ge=0, description="retries of a failed request")
    retry_backoff_seconds: float = Field(
        2, ge=0, description="wait before the first retry of a request; doubles for each retry"
    )
    timeout_minutes: int = Field(30, ge=1, description="a crawl subprocess is killed after this")
    lookback_days: float = Field(
        7, gt=0, description="items published longer ago are skipped and paging stops there"
    )
    alert_after_runs: int = Field(
        3, ge=1, description="alert the duty officer after this many failed or empty runs"
    )
    reprint_days: float = Field(
        7, gt=0, description="a mention is compared with mentions stored this recently"
    )
    reprint_similarity: float = Field(
        0.6, gt=0, le=1, description="estimated Jaccard similarity that makes a reprint"
    )
    weibo_cookie: str = Field(
        "", description="Cookie header for Weibo (prefer YUQING_CRAWL__WEIBO_COOKIE)", repr=False
    )
    redis_url: str = Field(
        "",
        description="Redis URL shared by `yuqing crawl --worker` processes",
        repr=False,  # it may hold the Redis password
    )


class FieldModelSettings(Section):
    model_path: str = Field(
        "", description="Hugging Face model directory for this field (transformers backend)"
    )


class RumorSettings(Section):
    model_path: str = Field(
        "", description="rumour model trained with `yuqing train --field label`; empty: none"
    )
    threshold: float = Field(
        0.9, gt=0.5, le=1, description="rumour probability that counts as strong evidence"
    )


class NlpSettings(Section):
    backend: Literal["linear", "transformers", "lexicon"] = Field(
        "linear", description="sentiment/category backend"
    )
    model_path: str = Field(
        "", description="linear model directory; empty means the model shipped with yuqing"
    )
    sentiment: FieldModelSettings = Field(
        default_factory=FieldModelSettings, description="transformers model for sentiment"
    )
    category: FieldModelSettings = Field(
        default_factory=FieldModelSettings, description="transformers model for category"
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="where transformers models run; auto picks a GPU when there is one"
    )
    max_length: int = Field(256, ge=8, description="transformers: tokens kept of a long text")
    batch_size: int = Field(64, ge=1, description="mentions classified per batch")
    rumor: RumorSettings = Field(
        default_factory=RumorSettings, description="trained rumour model as misinfo evidence"
    )
    unsure_margin: float = Field(
        0.15,
        ge=0,
        lt=1,
        description="a mention whose two likeliest sentiments differ by less than this"
        " probability goes to the 待研判 list for a person to judge; 0 sends none",
    )


class IncidentSettings(Section):
    window_hours: int = Field(
        72, ge=1, description="a mention joins an incident seen this recently"
    )
    min_shared_terms: int = Field(2, ge=1, description="distinctive terms a mention must share")


class MailSettings(Section):
    smtp_host: str = Field("127.0.0.1", description="SMTP server host")
    smtp_port: int = Field(8025, ge=1, le=65535, description="SMTP server port")
    security: Literal["none", "starttls", "ssl"] = Field("none", description="transport security")
    ca_file: str = Field(
        "", description="PEM file of the CA that signed the server's certificate; empty: system"
    )
    username: str = Field("", description="SMTP login; empty means no authentication")
    password: str = Field(
        "", description="SMTP password (prefer YUQING_MAIL__PASSWORD)", repr=False
    )
    sender: str = Field("yuqing@localhost", description="From address of every notice")
    timeout: int = Field(20, ge=1, description="seconds for one SMTP conversation")
    retry_base_seconds: int = Field(30, ge=1, description="first retry delay; doubles each time")
    retry_max_seconds: int = Field(3600, ge=1, description="longest delay between retries")


class WebhookSettings(Section):
    """A group robot or gateway that notices can go to, named in `[webhooks.NAME]`."""

    kind: Literal["wecom", "dingtalk", "feishu", "json"] = Field(
        description="wecom (企业微信), dingtalk (钉钉), feishu (飞书) or json (e.g. an SMS gateway)"
    )
    url: str = Field(description="the robot's webhook URL (it holds the access token)", repr=False)
    secret: str = Field(
        "",
        description="signing secret (DingTalk 加签, Feishu 签名校验); empty: unsigned",
        repr=False,
    )
    timeout: int = Field(10, ge=1, description="seconds for one delivery")

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("not an http(s) URL")
        return url


class ScheduleSettings(Section):
    cycle_minutes: int = Field(
        15, ge=1, description="minutes between crawl/classify/respond cycles"
    )


class WebSettings(Section):
    host: str = Field("127.0.0.1", description="address the web UI listens on")
    port: int = Field(8000, ge=1, le=65535, description="port the web UI listens on")
    base_url: str = Field("http://127.0.0.1:8000", description="address used in links in emails")
    secret_key: str = Field(
        "",
        description="signs acknowledgement links and sessions; empty: a key kept in the data dir",
        repr=False,
    )
    ack_link_hours: float = Field(
        72, gt=0, description="hours an acknowledgement link in a notice stays valid"
    )
    session_hours: float = Field(12, gt=0, description="hours a login stays valid")
    secure_cookies: bool = Field(
        False, description="send the session cookie over HTTPS only (behind a TLS proxy)"
    )
    login_attempts: int = Field(5, ge=1, description="failed logins in a row before a lockout")
    lockout_minutes: float = Field(15, gt=0, description="minutes an account stays locked")
    address_login_attempts: int = Field(
        20,
        ge=1,
        description="failed logins from one client address within lockout_minutes before that"
        " address is refused for the rest of the window (names tried do not matter)",
    )
    metrics_token: str = Field(
        "",
        description="bearer token /metrics asks for; empty: /metrics answers loopback clients only",
        repr=False,
    )


_CLOCK = r"^([01]\d|2[0-3]):[0-5]\d$"


class MonitoringSettings(Section):
    unsent_minutes: float = Field(
        15, gt=0, description="`yuqing status` flags an outbox message unsent for this long"
    )


class RetentionSettings(Section):
    seen_pages_days: float = Field(
        90,
        gt=0,
        description="days a page a crawl fetched and set aside (irrelevant, old...) is kept",
    )
    report_images_days: float = Field(
        30, gt=0, description="days the HTML and chart images of a sent report email are kept"
    )


class DraftSettings(Section):
    overdue_hours: float = Field(
        4, gt=0, description="hours after which a draft not yet approved is flagged overdue"
    )
    from_level: Literal["IV", "III", "II", "I"] = Field(
        "III",
        description="lowest incident level that gets a reply draft by itself (below it: only"
        " with a misinformation finding, or when someone asks on the incident page)",
    )


class AlertSettings(Section):
    """How the duty officer hears about new incidents: at once, together, or in a digest."""

    own_message_from: Literal["IV", "III", "II", "I"] = Field(
        "II", description="lowest level whose duty alert is a message of its own, at once"
    )
    immediate_from: Literal["IV", "III", "II", "I"] = Field(
        "III",
        description="lowest level alerted at once; below own_message_from, the new incidents of"
        " one cycle go together in one message",
    )
    digest_every: Literal["cycle", "hour"] = Field(
        "cycle",
        description="levels below immediate_from go into a digest, sent once per cycle or at"
        " most once an hour, and never when nothing is new",
    )
    quiet_hours: str = Field(
        "",
        pattern=r"^$|^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$",
        description="office-time span (e.g. 22:00-07:00) in which the digest waits; alerts at"
        " once never wait",
    )


class ReportSettings(Section):
    daily: bool = Field(True, description="email the daily report (舆情日报)")
    daily_time: str = Field("08:30", pattern=_CLOCK, description="local time of the daily report")
    weekly: bool = Field(True, description="email the weekly report (舆情周报)")
    weekly_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = Field(
        "mon", description="day of the weekly report"
    )
    weekly_time: str = Field("09:00", pattern=_CLOCK, description="local time of the weekly report")


IdentifierKind = Literal["email", "id_card", "bank_card", "mobile", "landline"]  # nlp.pii.KINDS


def _every_identifier_kind() -> list[IdentifierKind]:
    return ["email", "id_card", "bank_card", "mobile", "landline"]


class PrivacySettings(Section):
    mask: bool = Field(
        True, description="mask personal identifiers in mention titles and texts when stored"
    )
    kinds: list[IdentifierKind] = Field(
        default_factory=_every_identifier_kind, description="which identifiers are masked"
    )
    keep_original: bool = Field(
        False,
        description="also keep the unmasked title and text, shown to admin only; never exported",
    )


class LimitsSettings(Section):
    """Bounds on text from outside (crawled pages, imported files): a hostile page or file
    must not make a notice too big to send or an import exhaust the server."""

    field_chars: int = Field(
        500,
        ge=40,
        description="longest text one field of a notice, report or draft takes from crawled or "
        "imported text (损失情况, 事件详情, an incident title, a quoted sentence, a link); "
        "longer is cut and marked （截断）",
    )
    field_items: int = Field(
        20, ge=1, description="most lines one list of a notice takes (rules, evidence)"
    )
    analysed_chars: int = Field(
        20_000,
        ge=1_000,
        description="characters of a mention's title and text read for the words that group "
        "it into an incident (the start of a page names its event)",
    )
    message_chars: int = Field(
        100_000,
        ge=10_000,
        le=100_000,  # the sandbox's bound on any rendered text (responder/sandbox.py)
        description="longest body of one notice; a mail server refuses big messages "
        "(Postfix: 10 MB), and a refused alert is never read",
    )
    import_file_mb: float = Field(
        100, gt=0, description="largest file `yuqing import` reads, in MB"
    )
    import_xlsx_mb: float = Field(
        100,
        gt=0,
        description="largest size an .xlsx file's parts unpack to, in MB (refuses zip bombs)",
    )
    import_rows: int = Field(
        200_000, ge=1, description="most rows (CSV, XLSX) or lines (JSONL) one import reads"
    )
    import_row_chars: int = Field(
        1_000_000, ge=1_000, description="longest line of a CSV or JSONL file, in characters"
    )
    import_cell_chars: int = Field(
        200_000,
        ge=1_000,
        description="longest value of one cell or JSON field (a title, a whole article)",
    )


class DemoSettings(Section):
    world_port: int = Field(8701, ge=0, le=65535, description="port of the bundled demo news world")
    mail_port: int = Field(8025, ge=0, le=65535, description="port of the demo mail sink")


SOURCE_KINDS = ("rss", "site", "search", "weibo")
WEIBO_API = "https://m.weibo.cn"


class Source(Section):
    """One entry of sources.yaml; which fields a source needs depends on its kind."""

    name: str = Field(min_length=1)
    kind: Literal["rss", "site", "search", "weibo"]
    # rss: the feed; site: the first list page; search: a template with {keyword} and {page};
    # weibo: the API base (default m.weibo.cn).
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

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if url and not url.startswith(("http://", "https://")):
            raise ValueError(f"not an http(s) URL: {url!r}")
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
        if self.kind == "search":
            if "{keyword}" not in self.url:
                raise ValueError(f"search source {self.name!r}: url needs a {{keyword}} slot")
            if not self.keywords:
                raise ValueError(f"search source {self.name!r} needs keywords")
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
    authority: dict[str, float] = Field(default_factory=dict)
    misinfo: float = 0
    negative_share: SeverityBand | None = None
    outlet_tiers: dict[str, list[str]] = Field(default_factory=dict)


class Settings(Section):
    """Every setting of yuqing; the TOML keys of `settings.toml` map onto these fields."""

    office_name: str = Field("临江县统计局", description="the office being monitored")
    data_dir: Path = Field(Path("data"), description="database, mailbox and logs (YUQING_DATA)")
    timezone: str = Field("Asia/Shanghai", description="office time zone for dates and schedules")
    log_level: str = Field("INFO", description="logging level")
    log_format: Literal["text", "json"] = Field(
        "text", description="log lines as text, or as one JSON object per line"
    )
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    crawl: CrawlSettings = Field(default_factory=CrawlSettings)
    nlp: NlpSettings = Field(default_factory=NlpSettings)
    incidents: IncidentSettings = Field(default_factory=IncidentSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    webhooks: dict[str, WebhookSettings] = Field(
        default_factory=dict, description="group robots and gateways, by name"
    )
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    retention: RetentionSettings = Field(
        default_factory=RetentionSettings, description="what `yuqing purge` removes, and when"
    )
    drafts: DraftSettings = Field(
        default_factory=DraftSettings, description="review of reply drafts"
    )
    reports: ReportSettings = Field(
        default_factory=ReportSettings, description="when the daily and weekly reports go out"
    )
    alerts: AlertSettings = Field(
        default_factory=AlertSettings, description="which duty alerts go at once, which in a digest"
    )
    demo: DemoSettings = Field(default_factory=DemoSettings)
    privacy: PrivacySettings = Field(
        default_factory=PrivacySettings, description="masking of personal identifiers"
    )
    monitoring: MonitoringSettings = Field(
        default_factory=MonitoringSettings, description="what `yuqing status` calls a problem"
    )
    limits: LimitsSettings = Field(
        default_factory=LimitsSettings, description="bounds on crawled and imported text"
    )
    # Loaded from the YAML files, not from settings.toml.
    config_dir: Path | None = Field(None, description="the selected configuration directory")
    sources: list[Source] = Field(default_factory=list, description="sources.yaml")
    keywords: KeywordRules = Field(default_factory=KeywordRules, description="keywords.yaml")
    facts: list[Fact] = Field(default_factory=list, description="facts.yaml")
    debunks: list[Debunk] = Field(default_factory=list, description="debunks.yaml")
    recipients: Recipients = Field(default_factory=Recipients, description="recipients.yaml")
    duty: Duty = Field(default_factory=Duty, description="duty.yaml")
    severity: SeverityRules | None = Field(None, description="severity.yaml")
    userdict: Path | None = Field(None, description="userdict.txt")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r}") from exc
        return name

    @model_validator(mode="after")
    def _known_webhooks(self) -> Settings:
        r = self.recipients
        people: list[tuple[str, Recipient]] = [
            *(("duty person", p) for p in self.duty.people),
            *(("escalation chain", p) for p in self.duty.escalation.chain),
            *(
                (f"recipients {group}", p)
                for group, members in [
                    ("leadership", r.leadership),
                    ("upper_office", r.upper_office),
                    ("government", r.government),
                    ("reports", r.reports),
                ]
                for p in members
            ),
        ]
        for where, person in people:
            if person.webhook is not None and person.webhook not in self.webhooks:
                known = ", ".join(self.webhooks) or "none"
                raise ValueError(
                    f"{where} {person.name!r}: webhook {person.webhook!r} is not a "
                    f"[webhooks.NAME] entry of settings.toml (configured: {known})"
                )
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def data_path(self, value: str) -> Path | None:
        """A path setting: empty means none; a relative path is inside the data directory."""
        return self.data_dir / value if value else None

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{(self.data_dir / 'yuqing.db').resolve()}"


# file name → (settings field, top-level key inside the file or None for the whole document)
YAML_FILES: dict[str, tuple[str, str | None]] = {
    "sources.yaml": ("sources", "sources"),
    "keywords.yaml": ("keywords", None),
    "facts.yaml": ("facts", "facts"),
    "debunks.yaml": ("debunks", "debunks"),
    "recipients.yaml": ("recipients", None),
    "duty.yaml": ("duty", None),
    "severity.yaml": ("severity", None),
}
_TOML_ONLY = (
    {name for name in Settings.model_fields}
    - {f for f, _ in YAML_FILES.values()}
    - {"config_dir", "userdict"}
)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), "", f"not valid TOML: {exc}") from None


def _read_yaml(path: Path, key: str | None) -> Any:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), "", f"not valid YAML: {exc}") from None
    if key is None:
        return doc if doc is not None else {}
    if not isinstance(doc, dict) or key not in doc:
        raise ConfigError(str(path), key, "missing top-level list")
    return doc[key] or []


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _env_layer(env: Mapping[str, str]) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    """`YUQING_DATA` and `YUQING_SECTION__KEY=value` (e.g. YUQING_MAIL__SMTP_PORT=2525), with
    the variable behind each settings path so errors can name it."""
    layer: dict[str, Any] = {}
    names: dict[tuple[str, ...], str] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name in (
            "YUQING_CONFIG",
            SECRETS_ENV,
            clock.OFFSET_ENV,
        ):
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        if path == ["data"]:
            path = ["data_dir"]
        if path[0] not in _TOML_ONLY:
            raise ConfigError(f"environment variable {name}", path[0], "not a setting")
        node = layer
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
        names[tuple(path)] = name
    return layer, names


def _describe(
    exc: ValidationError,
    where_for_key: Mapping[str, str],
    env_names: Mapping[tuple[str, ...], str],
    secret_paths: Mapping[tuple[str, ...], str],
) -> ConfigError:
    # Only pydantic's message, never the input: the value may be a password or a token.
    err = exc.errors()[0]
    loc = tuple(str(p) for p in err["loc"])
    where = next(
        (
            f"environment variable {name}"
            for path, name in env_names.items()
            # YUQING_MAIL__NOPE__DEEPER is reported at mail.nope, above the variable's path.
            if loc[: len(path)] == path or path[: len(loc)] == loc
        ),
        None,
    ) or next(
        (where for path, where in secret_paths.items() if loc[: len(path)] == path),
        where_for_key.get(loc[0] if loc else "", "settings.toml"),
    )
    return ConfigError(where, ".".join(loc), err["msg"])


SECRETS_ENV = "YUQING_SECRETS_FILE"
SECRETS_FILE = "secrets.toml"
# What may (and should) live in the secrets file rather than settings.toml; "*" is any name.
SECRET_KEYS = (
    ("mail", "password"),
    ("crawl", "weibo_cookie"),
    ("crawl", "redis_url"),
    ("database", "url"),
    ("web", "secret_key"),
    ("webhooks", "*", "url"),
    ("webhooks", "*", "secret"),
)


def _paths(node: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for key, value in node.items():
        if isinstance(value, Mapping):
            out += _paths(value, (*prefix, key))
        else:
            out.append((*prefix, key))
    return out


def _is_secret_key(path: tuple[str, ...]) -> bool:
    return any(
        len(path) == len(pattern) and all(p in ("*", k) for p, k in zip(pattern, path, strict=True))
        for pattern in SECRET_KEYS
    )


def secrets_file(config_dir: Path | None, env: Mapping[str, str]) -> Path | None:
    """`YUQING_SECRETS_FILE`, else `secrets.toml` in the configuration directory if present."""
    if env.get(SECRETS_ENV):
        path = Path(env[SECRETS_ENV]).resolve()
        if not path.is_file():
            raise ConfigError(f"environment variable {SECRETS_ENV}", "", f"{path} does not exist")
        return path
    path = (config_dir or DEFAULT_CONFIG_DIR) / SECRETS_FILE
    return path if path.is_file() else None


def _read_secrets(path: Path) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    """The secrets layer and the file behind each of its paths. The file must be private to its
    owner, and may hold only secrets (a typo must not silently become a plain setting)."""
    if os.name == "posix" and path.stat().st_mode & 0o077:
        raise ConfigError(
            str(path),
            "",
            f"the secrets file is readable by group or others; run: chmod 600 {path}",
        )
    layer = _read_toml(path)
    where: dict[tuple[str, ...], str] = {}
    for key_path in _paths(layer):
        if not _is_secret_key(key_path):
            raise ConfigError(
                str(path), ".".join(key_path), "not a secret; put it in settings.toml"
            )
        where[key_path] = f"secrets file {path}"
    return layer, where


def _expand_demo_world(data: dict[str, Any]) -> None:
    """`{demo_world}` in a source URL is the bundled demo world's address."""
    # Either may be anything a file or variable said ("demo = 5"): validation reports that.
    demo, sources = data.get("demo"), data.get("sources")
    port = DemoSettings.model_fields["world_port"].default
    if isinstance(demo, dict):
        port = demo.get("world_port", port)
    for source in sources if isinstance(sources, list) else []:
        if isinstance(source, dict) and isinstance(source.get("url"), str):
            source["url"] = source["url"].replace("{demo_world}", f"http://127.0.0.1:{port}")


def load_settings(
    config_dir: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the settings from the layers; raise `ConfigError` on any mistake."""
    env = os.environ if env is None else env
    if config_dir is None and env.get("YUQING_CONFIG"):
        config_dir = env["YUQING_CONFIG"]
    chosen = Path(config_dir).resolve() if config_dir else None
    if chosen is not None and not chosen.is_dir():
        raise ConfigError(str(chosen), "", "configuration directory does not exist")
    dirs = [DEFAULT_CONFIG_DIR] + ([chosen] if chosen and chosen != DEFAULT_CONFIG_DIR else [])

    data: dict[str, Any] = {}
    where_for_key: dict[str, str] = {}
    for directory in dirs:
        toml_path = directory / "settings.toml"
        if toml_path.exists():
            layer = _read_toml(toml_path)
            for key in layer:
                where_for_key[key] = str(toml_path)
            data = _merge(data, layer)
        for filename, (fieldname, list_key) in YAML_FILES.items():
            path = directory / filename
            if path.exists():
                data[fieldname] = _read_yaml(path, list_key)
                where_for_key[fieldname] = str(path)
        if (directory / "userdict.txt").exists():
            data["userdict"] = directory / "userdict.txt"
    for key in data:
        if key not in Settings.model_fields:
            raise ConfigError(where_for_key.get(key, "settings.toml"), key, "unknown setting")
    # Precedence: environment > secrets file > settings.toml.
    secrets_path = secrets_file(chosen, env)
    secret_layer, secret_paths = _read_secrets(secrets_path) if secrets_path else ({}, {})
    data = _merge(data, secret_layer)
    env_layer, env_names = _env_layer(env)
    data = _merge(data, env_layer)
    data = _merge(data, dict(overrides or {}))
    data["config_dir"] = chosen
    _expand_demo_world(data)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise _describe(exc, where_for_key, env_names, secret_paths) from None
    if not settings.data_dir.is_absolute():
        settings.data_dir = (Path.cwd() / settings.data_dir).resolve()
    return settings
