"""The `yuqing` command line. Settings are loaded once, by the application's callback, and
passed to what runs; each module below adds one group of commands."""

from __future__ import annotations

from responder.cli.app import app

# Each module registers its commands; this order is the order of `yuqing --help`.
# isort: off
from responder.cli import (
    running,
    sources,
    judgements,
    duty,
    incidents,
    notices,
    reports,
    users,
    status,
    backup,
    purge,
    privacy,
)  # noqa: E402, E501, F401
# isort: on

__all__ = ["app", "main"]


def main() -> None:
    app()
