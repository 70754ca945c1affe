"""The `yuqing` application object and what every command shares: the settings, loaded once
by the callback, and clear exits for bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from nlp import ModelError
from responder import logs
from responder.accounts import refusal
from responder.settings import ConfigError, Settings, load_settings

app = typer.Typer(
    help="yuqing — public-opinion monitoring and response for statistics bureaus",
    no_args_is_help=True,
    add_completion=False,
)


def settings_of(ctx: typer.Context) -> Settings:
    return ctx.obj  # type: ignore[no-any-return]


@app.callback()
def main_options(
    ctx: typer.Context,
    config: Annotated[
        Path | None, typer.Option("--config", help="configuration directory (also YUQING_CONFIG)")
    ] = None,
) -> None:
    try:
        settings = load_settings(config)
    except ConfigError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from None
    logs.setup(settings.log_level, settings.log_format)
    ctx.obj = settings


def _or_exit(make: Any) -> Any:
    """Run `make`; a model or data problem is reported in one line and exits with status 2."""

    try:
        return make()
    except (ModelError, ValueError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _open_or_exit(path: Path, mode: str) -> Any:
    return _or_exit(lambda: path.open(mode, encoding="utf-8"))


def require_account(session: Any, name: str, roles: tuple[str, ...], doing: str) -> None:
    """`--by` must name an enabled account whose role may do this (the role policy of
    responder/accounts.py); else say what is wrong and exit with status 2. Call it inside the
    command's transaction, so nothing is changed."""

    refused = refusal(session, name, roles)
    if refused is not None:
        typer.echo(f"error: {refused.english(doing)}", err=True)
        raise typer.Exit(2)
