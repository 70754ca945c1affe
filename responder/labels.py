"""Chinese labels for codes, read from `templates/labels.yaml`."""

from __future__ import annotations

from functools import cache

import yaml

from responder.paths import TEMPLATES_DIR


@cache
def labels() -> dict[str, dict[str, str]]:
    return yaml.safe_load((TEMPLATES_DIR / "labels.yaml").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def label(kind: str, code: str | None) -> str:
    if code is None:
        return ""
    return labels().get(kind, {}).get(code, code)
