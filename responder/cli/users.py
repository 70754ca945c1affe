"""Accounts of the web UI: add, list, disable, enable, set a password."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from responder.accounts import AccountError, add_user, roster, set_disabled, set_password
from responder.cli.app import app, settings_of
from responder.db import Database
from responder.labels import label

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

users_app = typer.Typer(
    help="Accounts of the web UI (duty, press, leader, admin)", no_args_is_help=True
)
app.add_typer(users_app, name="users")

ACTOR = "cli"


def _read_password(from_stdin: bool) -> str:
    """From standard input (scripts) or a prompt; never from the command line, where other
    users of the host could read it in the process list."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("密码：")
    if first != getpass.getpass("再输一次："):
        typer.echo("error: the two passwords differ", err=True)
        raise typer.Exit(2)
    return first


def _change(ctx: typer.Context, change: Callable[[Session], str]) -> None:
    db = Database(settings_of(ctx))
    try:
        with db.transaction() as session:
            message = change(session)
    except AccountError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    typer.echo(message, err=True)


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="login name, e.g. the person's name 王敏")],
    role: Annotated[str, typer.Option("--role", help="duty, press, leader or admin")],
    email: Annotated[str, typer.Option("--email")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
) -> None:
    """Add an account."""

    password = _read_password(password_stdin)

    def change(session: Session) -> str:
        add_user(session, name, role, email, password, ACTOR)
        return f"user {name} added"

    _change(ctx, change)


@users_app.command("disable")
def users_disable(ctx: typer.Context, name: str) -> None:
    """Disable an account: it cannot log in, and its open sessions end at once."""

    def change(session: Session) -> str:
        set_disabled(session, name, True, ACTOR)
        return f"user {name} disabled"

    _change(ctx, change)


@users_app.command("enable")
def users_enable(ctx: typer.Context, name: str) -> None:
    """Enable a disabled account again."""

    def change(session: Session) -> str:
        set_disabled(session, name, False, ACTOR)
        return f"user {name} enabled"

    _change(ctx, change)


@users_app.command("passwd")
def users_passwd(
    ctx: typer.Context,
    name: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
) -> None:
    """Set a new password; the user's open sessions end."""

    password = _read_password(password_stdin)

    def change(session: Session) -> str:
        set_password(session, name, password, ACTOR)
        return f"password of {name} set"

    _change(ctx, change)


@users_app.command("list")
def users_list(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Every account with its role and state."""

    db = Database(settings_of(ctx))
    with db.sessions() as session:
        rows = [
            {"name": u.name, "role": u.role, "email": u.email, "disabled": u.disabled}
            for u in roster(session)
        ]
    db.dispose()
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        state = "已停用" if r["disabled"] else "正常"
        typer.echo(f"{r['name']}\t{label('roles', str(r['role']))}\t{r['email']}\t{state}")
