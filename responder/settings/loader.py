"""Loading the one settings object: packaged defaults, the configuration directory's files, the
secrets file and `YUQING_*` environment variables, merged in that order."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    ValidationError,
)

from responder import clock
from responder.paths import DEFAULT_CONFIG_DIR
from responder.settings.base import ConfigError
from responder.settings.schema import Settings
from responder.settings.sections import DemoSettings

ENV_PREFIX = "YUQING_"


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
    ("mailbox_passwords", "*"),
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
    """`{demo_world}` in a source URL is the bundled demo world's address, `{demo_mailbox}` its
    IMAP mailbox's (plaintext, loopback)."""
    # Either may be anything a file or variable said ("demo = 5"): validation reports that.
    demo, sources = data.get("demo"), data.get("sources")
    port = DemoSettings.model_fields["world_port"].default
    imap_port = DemoSettings.model_fields["imap_port"].default
    if isinstance(demo, dict):
        port = demo.get("world_port", port)
        imap_port = demo.get("imap_port", imap_port)
    for source in sources if isinstance(sources, list) else []:
        if isinstance(source, dict) and isinstance(source.get("url"), str):
            source["url"] = (
                source["url"]
                .replace("{demo_world}", f"http://127.0.0.1:{port}")
                .replace("{demo_mailbox}", f"imap+plain://127.0.0.1:{imap_port}")
            )


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
