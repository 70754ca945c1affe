"""Cutting text from outside (crawled pages, imported files) to the bounds in `[limits]`, so
one hostile page cannot make a notice, report or draft too big to send or read."""

from __future__ import annotations

CUT = "…（截断）"


def clip(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else its start marked as cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(CUT), 0)] + CUT
