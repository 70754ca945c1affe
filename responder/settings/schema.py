"""The `Settings` object: the sections of `settings.toml` (in `sections`) with the office
records (sources, people, severity rules), and the checks that span them."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from nlp import Debunk, Fact, KeywordRules
from responder.settings.base import Section
from responder.settings.office import Duty, Recipient, Recipients, SeverityRules, Source
from responder.settings.sections import (
    AlertSettings,
    CrawlSettings,
    DatabaseSettings,
    DemoSettings,
    DraftSettings,
    IncidentSettings,
    LimitsSettings,
    MailSettings,
    MonitoringSettings,
    NlpSettings,
    PrivacySettings,
    ReportSettings,
    RetentionSettings,
    ScheduleSettings,
    WebhookSettings,
    WebSettings,
)

# How far a published indicator's name may stand from its region's name (临江县…地区生产总值).
FIGURE_NEAR_CHARS = 30


def region_stem(region: str) -> str:
    """The region as people write it in short: 临江县 → 临江 (a stem of one character would match
    too much, so short names stay whole)."""
    for suffix in ("自治县", "自治州", "县", "市", "区", "省", "旗", "州"):
        if region.endswith(suffix) and len(region) - len(suffix) >= 2:
            return region.removesuffix(suffix)
    return region


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
    mailbox_passwords: dict[str, str] = Field(
        default_factory=dict,
        description="IMAP password of each mailbox source, by source name (secrets file)",
        repr=False,
    )
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
    def _published_figures_are_relevant(self) -> Settings:
        """A post stating one of the office's published figures (`facts.yaml`) near the name of
        its region is relevant even without the words 统计 or 普查: a wrong GDP growth or income
        figure going round is the press office's business. Added as `near` rules."""
        near = {tuple(rule) for rule in self.keywords.near}
        for fact in self.facts:
            stem = region_stem(fact.region)
            for name in (fact.indicator, *fact.aliases):
                rule = (stem, name, FIGURE_NEAR_CHARS)
                if rule not in near:
                    self.keywords.near.append(rule)
                    near.add(rule)
        return self

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
