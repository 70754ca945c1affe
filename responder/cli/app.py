"""The `yuqing` application object and what every command shares: the settings, loaded once
by the callback, and clear exits for bad input.

Each module of `responder.cli` adds one group of commands, and a command's module is imported
only when that command runs (`LazyCommands`): `yuqing classify` then loads the classifier, not
the database, the incident stages and the web of every other command (about a second of
start-up on this machine). The pattern is Click's "lazily loading subcommands"."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import import_module
from pathlib import Path
from typing import Annotated, Any

import typer

# Typer (0.29) carries its own copy of Click: the group's methods take and give its types.
from typer import _click
from typer.core import TyperGroup

from nlp import ModelError
from responder import logs
from responder.settings import ConfigError, Settings, load_settings

# Command (or command group) name → the module of `responder.cli` that registers it. The
# modules' order is the order of `yuqing --help`; tests/test_cli_lazy.py checks this table
# against what the modules register.
COMMANDS: dict[str, str] = {
    **dict.fromkeys(("demo", "cycle", "run", "web", "migrate"), "running"),
    **dict.fromkeys(("crawl", "sources", "import"), "sources"),
    "add": "registration",
    **dict.fromkeys(("classify", "train", "eval"), "judgements"),
    "export": "exports",
    "duty": "duty",
    "incident": "incidents",
    **dict.fromkeys(("send", "notices", "ack"), "notices"),
    "report": "reports",
    "users": "users",
    "status": "status",
    **dict.fromkeys(("backup", "restore"), "backup"),
    "purge": "purge",
    "privacy": "privacy",
}


class LazyCommands(TyperGroup):
    """The root group: it imports a command's module when the command is looked up, and every
    module when the commands are listed (for `--help` and suggestions)."""

    def list_commands(self, ctx: _click.Context) -> list[str]:
        self._load(dict.fromkeys(COMMANDS.values()))
        return super().list_commands(ctx)

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        if cmd_name not in self.commands:
            # A name missing from the table loads everything, so it is never unreachable.
            module = COMMANDS.get(cmd_name)
            self._load([module] if module else dict.fromkeys(COMMANDS.values()))
        return super().get_command(ctx, cmd_name)

    def _load(self, modules: Iterable[str]) -> None:
        for module in modules:
            import_module(f"responder.cli.{module}")
        # Typer builds the click commands of what is registered so far; keep the ones new here.
        for name, command in typer.main.get_group(app).commands.items():
            self.commands.setdefault(name, command)


app = typer.Typer(
    cls=LazyCommands,
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
