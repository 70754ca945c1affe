"""The role policy at the command line: `--by` names the person acting."""

from __future__ import annotations

from typing import Any

import typer

from responder.accounts import refusal


def require_account(session: Any, name: str, roles: tuple[str, ...], doing: str) -> None:
    """`--by` must name an enabled account whose role may do this (the role policy of
    responder/accounts.py); else say what is wrong and exit with status 2. Call it inside the
    command's transaction, so nothing is changed."""

    refused = refusal(session, name, roles)
    if refused is not None:
        typer.echo(f"error: {refused.english(doing)}", err=True)
        raise typer.Exit(2)
