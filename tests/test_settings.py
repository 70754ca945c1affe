"""Loading settings in layers, reporting mistakes by file and key, and keeping declarations,
documentation and `config/settings.toml` in step."""

import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

import nlp
from responder.paths import DEFAULT_CONFIG_DIR
from responder.settings import (
    AlertSettings,
    ConfigError,
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
    Settings,
    WebSettings,
    load_settings,
)
from responder.settings.schema import region_stem

SECTIONS: dict[str, type[BaseModel]] = {
    "database": DatabaseSettings,
    "crawl": CrawlSettings,
    "nlp": NlpSettings,
    "incidents": IncidentSettings,
    "mail": MailSettings,
    "schedule": ScheduleSettings,
    "web": WebSettings,
    "reports": ReportSettings,
    "drafts": DraftSettings,
    "retention": RetentionSettings,
    "demo": DemoSettings,
    "privacy": PrivacySettings,
    "monitoring": MonitoringSettings,
    "limits": LimitsSettings,
    "alerts": AlertSettings,
}
# Settings fields filled from the YAML files and the directory itself, never from TOML.
NOT_FROM_TOML = {
    "config_dir",
    "sources",
    "keywords",
    "facts",
    "debunks",
    "recipients",
    "duty",
    "severity",
    "userdict",
}
# Tables of named entries ([webhooks.NAME]); the packaged file documents them, empty.
NAMED_TABLES = {"webhooks", "mailbox_passwords"}
TOP_LEVEL_KEYS = set(Settings.model_fields) - NOT_FROM_TOML - set(SECTIONS) - NAMED_TABLES
ONE_SOURCE = """\
sources:
  - name: 江州论坛
    kind: site
    url: https://bbs.jiangzhou.example.cn/forum/
"""


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    path = tmp_path / "config"
    path.mkdir()
    return path


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def config_error(config_dir: Path | None = None, env: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir, env=env or {})
    return caught.value


# --- packaged defaults ---------------------------------------------------------------------


def test_packaged_defaults_load_every_list() -> None:
    settings = load_settings(env={})

    assert settings.sources
    assert settings.keywords.include
    assert settings.facts
    assert settings.debunks
    assert settings.severity is not None
    assert settings.userdict == DEFAULT_CONFIG_DIR / "userdict.txt"
    assert settings.config_dir is None


def test_packaged_defaults_read_settings_toml() -> None:
    packaged = tomllib.loads((DEFAULT_CONFIG_DIR / "settings.toml").read_text(encoding="utf-8"))

    settings = load_settings(env={})

    assert settings.crawl.user_agent == packaged["crawl"]["user_agent"]
    assert settings.office_name == packaged["office_name"]


def test_packaged_sources_point_at_the_demo_world_port() -> None:
    settings = load_settings(env={})

    assert all("{demo_world}" not in s.url for s in settings.sources)
    assert settings.sources[0].url == f"http://127.0.0.1:{settings.demo.world_port}/news/"


def test_relative_data_dir_is_made_absolute() -> None:
    settings = load_settings(env={})

    assert settings.data_dir.is_absolute()
    assert settings.data_dir == (Path.cwd() / "data").resolve()


# --- the configuration directory -----------------------------------------------------------


def test_config_dir_settings_toml_overrides_only_its_keys(config_dir: Path) -> None:
    write(config_dir, "settings.toml", 'office_name = "江州市统计局"\n[mail]\nsmtp_port = 2600\n')
    defaults = load_settings(env={})

    settings = load_settings(config_dir, env={})

    assert settings.office_name == "江州市统计局"
    assert settings.mail.smtp_port == 2600
    assert settings.mail.smtp_host == defaults.mail.smtp_host
    assert settings.crawl == defaults.crawl
    assert settings.config_dir == config_dir.resolve()


def test_yaml_lists_come_from_the_packaged_defaults_when_the_dir_has_none(
    config_dir: Path,
) -> None:
    write(config_dir, "settings.toml", 'office_name = "江州市统计局"\n')
    defaults = load_settings(env={})

    settings = load_settings(config_dir, env={})

    assert settings.sources == defaults.sources
    assert settings.keywords == defaults.keywords
    assert settings.facts == defaults.facts
    assert settings.severity == defaults.severity


def test_config_dir_sources_yaml_replaces_the_packaged_list(config_dir: Path) -> None:
    write(config_dir, "sources.yaml", ONE_SOURCE)

    settings = load_settings(config_dir, env={})

    assert [s.name for s in settings.sources] == ["江州论坛"]
    assert settings.sources[0].url == "https://bbs.jiangzhou.example.cn/forum/"
    assert settings.facts == load_settings(env={}).facts


def test_config_dir_user_dictionary_replaces_the_packaged_one(config_dir: Path) -> None:
    userdict = write(config_dir, "userdict.txt", "江州市统计局 20000 nt\n")

    assert load_settings(config_dir, env={}).userdict == userdict.resolve()


def test_demo_world_is_expanded_with_the_configured_port(config_dir: Path) -> None:
    write(config_dir, "settings.toml", "[demo]\nworld_port = 9999\n")

    settings = load_settings(config_dir, env={})

    assert settings.sources[0].url == "http://127.0.0.1:9999/news/"


def test_yuqing_config_variable_selects_the_config_dir(config_dir: Path) -> None:
    write(config_dir, "settings.toml", 'office_name = "江州市统计局"\n')

    settings = load_settings(env={"YUQING_CONFIG": str(config_dir)})

    assert settings.office_name == "江州市统计局"
    assert settings.config_dir == config_dir.resolve()


# --- environment and overrides -------------------------------------------------------------


def test_environment_sets_a_section_key() -> None:
    assert load_settings(env={"YUQING_MAIL__SMTP_PORT": "2525"}).mail.smtp_port == 2525


def test_yuqing_data_sets_the_data_dir(tmp_path: Path) -> None:
    assert load_settings(env={"YUQING_DATA": str(tmp_path)}).data_dir == tmp_path


def test_environment_sets_a_top_level_key() -> None:
    assert load_settings(env={"YUQING_LOG_LEVEL": "DEBUG"}).log_level == "DEBUG"


def test_unrelated_environment_variables_are_ignored() -> None:
    settings = load_settings(env={"HOME": "/root", "PATH": "/usr/bin", "YUQINGX": "1"})

    assert settings.mail.smtp_port == load_settings(env={}).mail.smtp_port


def test_layers_apply_defaults_then_dir_then_env_then_overrides(config_dir: Path) -> None:
    write(config_dir, "settings.toml", '[mail]\nsmtp_port = 2600\nsender = "dir@example.cn"\n')
    env = {"YUQING_MAIL__SMTP_PORT": "2525", "YUQING_MAIL__USERNAME": "env-user"}

    settings = load_settings(config_dir, env=env, overrides={"mail": {"smtp_port": 2700}})

    assert settings.mail.smtp_port == 2700  # overrides beat the environment
    assert settings.mail.username == "env-user"  # the environment beats the defaults
    assert settings.mail.sender == "dir@example.cn"  # the directory beats the defaults
    assert settings.mail.smtp_host == "127.0.0.1"  # untouched defaults remain


def test_environment_beats_the_config_dir(config_dir: Path) -> None:
    write(config_dir, "settings.toml", "[mail]\nsmtp_port = 2600\n")

    settings = load_settings(config_dir, env={"YUQING_MAIL__SMTP_PORT": "2525"})

    assert settings.mail.smtp_port == 2525


def test_overrides_merge_key_by_key_into_a_section() -> None:
    settings = load_settings(env={}, overrides={"crawl": {"retries": 0}})

    assert settings.crawl.retries == 0
    assert settings.crawl.download_timeout == load_settings(env={}).crawl.download_timeout


# --- mistakes ------------------------------------------------------------------------------


def assert_names(error: ConfigError, path: Path | str, key: str) -> None:
    assert str(path) in str(error)
    assert key in str(error)
    assert error.key == key


def test_unknown_top_level_key_names_file_and_key(config_dir: Path) -> None:
    path = write(config_dir, "settings.toml", "offce_name = 'typo'\n")

    assert_names(config_error(config_dir), path.resolve(), "offce_name")


def test_unknown_section_key_names_file_and_key(config_dir: Path) -> None:
    path = write(config_dir, "settings.toml", "[mail]\nsmtp_prot = 25\n")

    assert_names(config_error(config_dir), path.resolve(), "mail.smtp_prot")


def test_wrong_type_names_file_and_key(config_dir: Path) -> None:
    path = write(config_dir, "settings.toml", '[mail]\nsmtp_port = "abc"\n')

    error = config_error(config_dir)

    assert_names(error, path.resolve(), "mail.smtp_port")
    assert "integer" in error.problem


def test_out_of_range_value_names_file_and_key(config_dir: Path) -> None:
    path = write(config_dir, "settings.toml", "[web]\nport = 70000\n")

    assert_names(config_error(config_dir), path.resolve(), "web.port")


def test_invalid_toml_names_the_file_and_line(config_dir: Path) -> None:
    path = write(config_dir, "settings.toml", "[mail\nsmtp_port = 25\n")

    error = config_error(config_dir)

    assert str(path.resolve()) in str(error)
    assert "not valid TOML" in str(error)
    assert "line 1" in str(error)


def test_invalid_yaml_names_the_file(config_dir: Path) -> None:
    path = write(config_dir, "sources.yaml", "sources: [\n")

    error = config_error(config_dir)

    assert str(path.resolve()) in str(error)
    assert "not valid YAML" in str(error)


def test_sources_yaml_without_top_level_key_names_file_and_key(config_dir: Path) -> None:
    path = write(
        config_dir, "sources.yaml", "- name: 江州论坛\n  kind: site\n  url: https://x.cn/\n"
    )

    assert_names(config_error(config_dir), path.resolve(), "sources")


def test_source_with_non_http_url_names_file_and_key(config_dir: Path) -> None:
    path = write(config_dir, "sources.yaml", ONE_SOURCE.replace("https://", "ftp://"))

    error = config_error(config_dir)

    assert_names(error, path.resolve(), "sources.0.url")
    assert "ftp://" in error.problem


def test_fact_missing_a_field_names_file_and_key(config_dir: Path) -> None:
    path = write(config_dir, "facts.yaml", "facts:\n  - indicator: 常住人口\n    value: 1\n")

    assert_names(config_error(config_dir), path.resolve(), "facts.0.region")


def test_unknown_environment_variable_names_the_variable() -> None:
    error = config_error(env={"YUQING_NOPE": "1"})

    assert "YUQING_NOPE" in str(error)
    assert error.key == "nope"


def test_unknown_time_zone_names_file_and_key(config_dir: Path) -> None:
    path = write(config_dir, "settings.toml", 'timezone = "Mars/Olympus_Mons"\n')

    error = config_error(config_dir)

    assert_names(error, path.resolve(), "timezone")
    assert "Mars/Olympus_Mons" in error.problem


def test_missing_config_dir_names_the_directory(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-config"

    error = config_error(missing)

    assert str(missing) in str(error)
    assert "does not exist" in str(error)


def test_wrong_type_from_the_environment_names_the_key() -> None:
    error = config_error(env={"YUQING_MAIL__SMTP_PORT": "abc"})

    assert error.key == "mail.smtp_port"
    assert "environment variable" in str(error)


def test_wrong_type_from_the_environment_names_the_whole_variable() -> None:
    error = config_error(env={"YUQING_MAIL__SMTP_PORT": "abc"})

    assert "YUQING_MAIL__SMTP_PORT" in str(error)


def test_toml_mistake_is_blamed_on_the_file_even_when_env_sets_the_same_section(
    config_dir: Path,
) -> None:
    path = write(config_dir, "settings.toml", '[mail]\nsmtp_port = "abc"\n')

    error = config_error(config_dir, env={"YUQING_MAIL__SENDER": "ops@example.cn"})

    assert_names(error, path.resolve(), "mail.smtp_port")


# --- meta-tests: declarations, documentation and settings.toml agree ----------------------


@pytest.mark.parametrize(
    ("model", "field"),
    [(model, field) for model in SECTIONS.values() for field in model.model_fields]
    + [(Settings, field) for field in sorted(TOP_LEVEL_KEYS)],
    ids=lambda value: value if isinstance(value, str) else value.__name__,
)
def test_every_setting_is_documented_where_it_is_declared(
    model: type[BaseModel], field: str
) -> None:
    description = model.model_fields[field].description

    assert description and description.strip()


def test_every_section_of_settings_is_checked_by_the_meta_tests() -> None:
    section_fields = {
        name
        for name, info in Settings.model_fields.items()
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel)
    } - NOT_FROM_TOML

    assert section_fields == set(SECTIONS)
    assert all(Settings.model_fields[name].annotation is SECTIONS[name] for name in SECTIONS)


def packaged_toml() -> dict[str, object]:
    return tomllib.loads((DEFAULT_CONFIG_DIR / "settings.toml").read_text(encoding="utf-8"))


def test_every_key_in_settings_toml_is_a_declared_setting() -> None:
    undeclared = []
    for key, value in packaged_toml().items():
        if key in NAMED_TABLES:
            assert value == {}, f"[{key}] entries belong in an office's own settings.toml"
        elif isinstance(value, dict):
            if key not in SECTIONS:
                undeclared.append(f"[{key}]")
                continue
            undeclared += [f"{key}.{sub}" for sub in value if sub not in SECTIONS[key].model_fields]
        elif key not in TOP_LEVEL_KEYS:
            undeclared.append(key)

    assert undeclared == []


def test_every_declared_setting_appears_in_settings_toml() -> None:
    toml = packaged_toml()
    missing = [key for key in sorted(TOP_LEVEL_KEYS | NAMED_TABLES) if key not in toml]
    for section, model in SECTIONS.items():
        table = toml.get(section, {})
        assert isinstance(table, dict)
        missing += [f"{section}.{key}" for key in model.model_fields if key not in table]

    assert missing == []


def test_a_period_that_is_no_year_names_file_and_key(config_dir: Path) -> None:
    fact = (
        "facts:\n  - indicator: 常住人口\n    region: 临江县\n    period: 去年\n"
        "    value: 52.3\n    unit: 万人\n    source: 公报\n"
    )
    path = write(config_dir, "facts.yaml", fact)

    error = config_error(config_dir)

    assert_names(error, path.resolve(), "facts.0.period")
    assert "2025年1-9月" in error.problem  # says how to write it


def test_a_period_written_as_a_bare_year_reads_as_that_year(config_dir: Path) -> None:
    fact = (
        "facts:\n  - indicator: 常住人口\n    region: 临江县\n    period: 2025\n"
        "    value: 52.3\n    unit: 万人\n    source: 公报\n"
    )
    write(config_dir, "facts.yaml", fact)

    assert load_settings(config_dir, env={}).facts[0].period == "2025年"


def test_a_published_figure_near_its_region_is_relevant(config_dir: Path) -> None:
    write(
        config_dir,
        "facts.yaml",
        "facts:\n"
        "  - indicator: 地区生产总值增速\n"
        "    aliases: [GDP增速]\n"
        "    region: 江州市\n"
        "    period: 2025年\n"
        "    value: 5.8\n"
        '    unit: "%"\n'
        "    source: 江州市统计公报\n",
    )

    settings = load_settings(config_dir, env={})

    assert nlp.is_relevant("江州2025年GDP增速有9.6%？", settings.keywords)
    assert nlp.is_relevant("江州市今年地区生产总值增速是多少", settings.keywords)
    assert not nlp.is_relevant("邻市GDP增速有9.6%", settings.keywords)
    # Loading twice (overrides revalidate) adds each derived rule once.
    again = Settings.model_validate(settings.model_dump())
    assert len(again.keywords.near) == len(set(map(tuple, again.keywords.near)))


@pytest.mark.parametrize(
    ("region", "stem"),
    [("临江县", "临江"), ("江州市", "江州"), ("峨边彝族自治县", "峨边彝族"), ("沙县", "沙县")],
)
def test_region_stem_drops_the_administrative_suffix(region: str, stem: str) -> None:
    assert region_stem(region) == stem
