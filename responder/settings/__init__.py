"""The one settings object, loaded once at start-up and passed down.

Layers, lowest first: the packaged `config/`, the selected configuration directory, `YUQING_*`
environment variables, explicit overrides (tests). `settings.toml` is merged key by key; a YAML
list file (sources, keywords, ...) in the configuration directory replaces the packaged one.
Every mistake is reported as a `ConfigError` naming the file, the key and what is wrong.

`sections` holds the sections of `settings.toml`, `schema` the `Settings` they make up,
`office` the office's records (sources, people, severity rules), `loader` reads and merges
the layers; everything is imported from here.
"""

from responder.settings.base import (
    ConfigError,
    Section,
)
from responder.settings.loader import (
    ENV_PREFIX,
    SECRET_KEYS,
    SECRETS_ENV,
    SECRETS_FILE,
    YAML_FILES,
    load_settings,
    secrets_file,
)
from responder.settings.office import (
    HOT_BOARDS,
    SOURCE_KINDS,
    WEIBO_API,
    Duty,
    DutyPerson,
    Escalation,
    Recipient,
    Recipients,
    SeverityBand,
    SeverityRules,
    SeverityTerm,
    Source,
)
from responder.settings.schema import Settings
from responder.settings.sections import (
    AlertSettings,
    CrawlSettings,
    DatabaseSettings,
    DemoSettings,
    DraftSettings,
    FieldModelSettings,
    IdentifierKind,
    IncidentSettings,
    LimitsSettings,
    MailSettings,
    MonitoringSettings,
    NlpSettings,
    PrivacySettings,
    ReportSettings,
    RetentionSettings,
    RumorSettings,
    ScheduleSettings,
    WebhookSettings,
    WebSettings,
)

__all__ = [
    "AlertSettings",
    "ConfigError",
    "CrawlSettings",
    "DatabaseSettings",
    "DemoSettings",
    "DraftSettings",
    "Duty",
    "DutyPerson",
    "ENV_PREFIX",
    "Escalation",
    "FieldModelSettings",
    "IdentifierKind",
    "IncidentSettings",
    "LimitsSettings",
    "MailSettings",
    "MonitoringSettings",
    "NlpSettings",
    "PrivacySettings",
    "Recipient",
    "Recipients",
    "ReportSettings",
    "RetentionSettings",
    "RumorSettings",
    "SECRETS_ENV",
    "SECRETS_FILE",
    "SECRET_KEYS",
    "HOT_BOARDS",
    "SOURCE_KINDS",
    "ScheduleSettings",
    "Section",
    "Settings",
    "SeverityBand",
    "SeverityRules",
    "SeverityTerm",
    "Source",
    "WEIBO_API",
    "WebSettings",
    "WebhookSettings",
    "YAML_FILES",
    "load_settings",
    "secrets_file",
]
