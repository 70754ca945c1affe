"""Model cards: the JSON file in a model directory that says what the model is and how it was
trained. Both trained backends write one; this reads and checks it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nlp.types import ModelError


def parse_card(card_path: Path, backend: str, format: int) -> dict[str, Any]:
    """The card at `card_path`, which must be a `backend` card of `format`; ModelError if not:
    such a directory was written by something else or only half written."""
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{card_path}: not valid JSON ({exc})") from exc
    if not isinstance(card, dict) or card.get("format") != format or card.get("backend") != backend:
        raise ModelError(f"{card_path}: not a {backend} model card of format {format}")
    return card
