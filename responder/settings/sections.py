"""The sections of `settings.toml`: each with its defaults, descriptions and checks. `schema`
puts them together with the office records into `Settings`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from responder.settings.base import Section


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
    hot_ranks_days: float = Field(
        90,
        gt=0,
        description="days every hot-list sighting is kept; of older ones only each entry's"
        " first, last and best are",
    )
    watched_pages_days: float = Field(
        90,
        gt=0,
        description="days the last text of a page no source watches any more is kept",
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
    spread_factor: float = Field(
        2.0,
        ge=0,
        description="alert the duty officer again, at the same level, when an incident alerted"
        " at once has this many times the mentions it had at its last alert (2: doubled);"
        " 0 never re-alerts on spread",
    )
    spread_min_new: int = Field(
        10,
        ge=1,
        description="and at least this many mentions are new since that alert, so a small"
        " incident going from 2 to 4 mentions does not page anyone",
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
    attachment_mb: float = Field(
        20,
        gt=0,
        le=200,
        description="largest file attached to a registered mention (登记舆情), in MB",
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
    imap_port: int = Field(
        8143, ge=0, le=65535, description="port of the demo's IMAP mailbox (局长信箱)"
    )
