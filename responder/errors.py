"""The one base of the domain's refusals.

A `DomainError` says why something a person asked for cannot be done, in words fit to show
them; nothing was changed. The web maps it to a page or a flash message in one handler
(responder/web/__init__.py) and the CLI prints it as `error: …` with exit status 2.
"""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses; its message is for the person who made it."""

    # The HTTP status the web answers with when no page handles the refusal itself.
    status_code = 400


class MigrationError(Exception):
    """A schema migration did not complete; the message says what state is kept and what to do.

    Not a `DomainError`: no person's request is refused, the database needs an operator. It
    lives here, not in responder/db.py, so the command line can name it without loading
    Alembic for commands that never open the database."""
