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
