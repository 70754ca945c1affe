"""Statuses are string enums stored as plain strings, and audit actions come from one registry
with a Chinese label each."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import select, text

from responder import audit, clock
from responder.audit import AuditAction, UnknownAuditAction, action_label
from responder.labels import label, labels
from responder.models import AuditEntry, Incident
from responder.statuses import (
    DraftEventKind,
    DraftStatus,
    IncidentStatus,
    OutboxStatus,
    TemplateStatus,
)

RESPONDER = Path(__file__).resolve().parent.parent / "responder"


def _incident(status: str) -> Incident:
    now = clock.now()
    return Incident(
        title="网传普查数据泄露",
        category="privacy_leak",
        status=status,
        first_seen=now,
        last_seen=now,
    )


def test_an_enum_status_is_stored_as_its_string_and_reads_back_as_the_member(db):
    with db.transaction() as session:
        session.add(_incident(IncidentStatus.CLOSED))
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM incidents")).scalar_one() == "closed"
        conn.execute(text("UPDATE incidents SET status = 'merged'"))
        conn.commit()
    with db.sessions() as session:
        incident = session.scalars(select(Incident)).one()
        assert incident.status is IncidentStatus.MERGED
        assert incident.status == "merged"
        assert session.scalar(select(Incident.id).where(Incident.status == "merged")) == incident.id


def test_a_plain_string_status_is_accepted_and_the_default_is_the_member(db):
    with db.transaction() as session:
        session.add(_incident("open"))
        now = clock.now()
        session.add(Incident(title="二", category="general", first_seen=now, last_seen=now))
    with db.sessions() as session:
        assert [i.status for i in session.scalars(select(Incident))] == [IncidentStatus.OPEN] * 2


def test_an_unknown_status_is_refused_on_writing(db):
    with (
        pytest.raises(Exception, match="'reopened' is not a value of IncidentStatus"),
        db.transaction() as session,
    ):
        session.add(_incident("reopened"))


def test_a_stored_status_the_enum_does_not_know_still_reads(db):
    with db.transaction() as session:
        session.add(_incident(IncidentStatus.OPEN))
    with db.engine.connect() as conn:
        conn.execute(text("UPDATE incidents SET status = 'archived'"))
        conn.commit()
    with db.sessions() as session:
        assert session.scalars(select(Incident)).one().status == "archived"


@pytest.mark.parametrize(
    ("enum", "kind"),
    [
        (IncidentStatus, "incident_status"),
        (DraftStatus, "draft_status"),
        (TemplateStatus, "template_status"),
        (OutboxStatus, "outbox_status"),
        (DraftEventKind, "draft_events"),
    ],
)
def test_every_status_has_a_chinese_label(enum, kind):
    assert set(labels()[kind]) == {member.value for member in enum}
    assert all(label(kind, member) for member in enum)


def test_every_audit_action_has_its_own_chinese_label():
    for action in AuditAction:
        assert action.label and action.label != action.value, action
    assert len({a.label for a in AuditAction}) == len(AuditAction)
    assert AuditAction("incident.close") is AuditAction.INCIDENT_CLOSE == "incident.close"
    assert labels()["audit_actions"]["incident.merge"] == "合并" == action_label("incident.merge")
    assert action_label("legacy.thing") == "legacy.thing"


def test_an_unknown_audit_action_is_refused_with_a_clear_error(db):
    with db.transaction() as session:
        with pytest.raises(UnknownAuditAction, match="unknown audit action 'incident.explode'"):
            audit.record(session, "王敏", "incident.explode", "incident", 1)  # type: ignore[arg-type]
        entry = audit.record(session, "王敏", AuditAction.INCIDENT_CLOSE, "incident", 1)
    with db.sessions() as session:
        stored = session.get(AuditEntry, entry.id)
        assert stored is not None and stored.action == "incident.close"


def _record_calls() -> list[tuple[Path, ast.Call]]:
    calls = []
    for path in RESPONDER.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("record", "transition")
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "audit"
            ):
                calls.append((path, node))
    return calls


def test_every_action_recorded_anywhere_is_a_registered_member():
    """Each `audit.record(...)` or `audit.transition(...)` in responder names its action as
    `AuditAction.<MEMBER>` (or a name bound to one): no string, no f-string, no member that
    does not exist."""
    calls = _record_calls()
    assert len(calls) > 30
    named: set[str] = set()
    for path, call in calls:
        action = call.args[2] if len(call.args) > 2 else None
        action = action or next(k.value for k in call.keywords if k.arg == "action")
        where = f"{path.relative_to(RESPONDER.parent)}:{call.lineno}"
        for node in ast.walk(action):
            assert not isinstance(node, ast.Constant | ast.JoinedStr), f"{where}: a bare string"
            if isinstance(node, ast.Attribute) and getattr(node.value, "id", "") == "AuditAction":
                assert node.attr in AuditAction.__members__, f"{where}: no {node.attr}"
                named.add(node.attr)
    # Every member is used by name somewhere: in a call, or in a table or constant a call
    # reads (drafts' decisions, corrections' ACTION).
    for path in RESPONDER.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and getattr(node.value, "id", "") == "AuditAction":
                assert node.attr in AuditAction.__members__, f"{path}: no {node.attr}"
                named.add(node.attr)
    unused = set(AuditAction.__members__) - named
    assert not unused, unused
