"""Chinese labels for codes, read from `templates/labels.yaml`; the audit actions' labels
(kind "audit_actions") come from their registry, `responder.audit.AuditAction`."""

from __future__ import annotations

from functools import cache

import yaml

from responder.audit import AuditAction
from responder.paths import TEMPLATES_DIR


@cache
def labels() -> dict[str, dict[str, str]]:
    kinds: dict[str, dict[str, str]] = yaml.safe_load(
        (TEMPLATES_DIR / "labels.yaml").read_text(encoding="utf-8")
    )
    kinds["audit_actions"] = {action.value: action.label for action in AuditAction}
    return kinds


def label(kind: str, code: str | None) -> str:
    if code is None:
        return ""
    return labels().get(kind, {}).get(code, code)
