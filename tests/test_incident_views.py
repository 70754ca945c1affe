"""The incidents read model (responder/incidents/views.py) that the web list and page and the
`yuqing incident list/show` commands share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from responder import clock
from responder.db import Database
from responder.incidents import views
from responder.models import Incident
from responder.settings import Settings
from responder.statuses import IncidentStatus

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def add(db: Database, title: str, level: str, status: str, hours: int, override: str = "") -> int:
    with db.transaction() as session:
        incident = Incident(
            title=title,
            category="data_fraud",
            first_seen=T0,
            last_seen=T0 + timedelta(hours=hours),
            sentiment="negative",
            machine_level=level,
            level_override=override or None,
            status=status,
        )
        session.add(incident)
        session.flush()
        return incident.id


def test_the_urgent_order_puts_open_and_higher_levels_first(db: Database) -> None:
    low = add(db, "一般事件", "IV", IncidentStatus.OPEN, hours=5)
    high = add(db, "较大事件", "II", IncidentStatus.OPEN, hours=1)
    overridden = add(db, "人工定级", "IV", IncidentStatus.OPEN, hours=0, override="I")
    closed = add(db, "已关闭", "I", IncidentStatus.CLOSED, hours=9)
    with db.sessions() as session:
        urgent = views.listing(session, status="all")
        recent = views.listing(session, status="all", order="recent")
        only_open = views.listing(session)
        level_ii = views.listing(session, level="II")
    assert [i.id for i in urgent.incidents] == [overridden, high, low, closed]
    assert [i.id for i in recent.incidents] == [closed, low, high, overridden]
    assert closed not in [i.id for i in only_open.incidents]
    # The level in force is the person's, where there is one.
    assert [i.id for i in level_ii.incidents] == [high]


def test_pages_hold_page_size_incidents_and_a_page_past_the_end_is_the_last(db: Database) -> None:
    ids = [add(db, f"事件{n}", "IV", IncidentStatus.OPEN, hours=n) for n in range(5)]
    with db.sessions() as session:
        first = views.listing(session, order="recent", page=1, page_size=2)
        past = views.listing(session, order="recent", page=9, page_size=2)
    assert (first.total, first.pages, first.page) == (5, 3, 1)
    assert [i.id for i in first.incidents] == ids[::-1][:2]
    assert past.page == 3 and [i.id for i in past.incidents] == [ids[0]]


def test_the_detail_of_an_unknown_incident_is_none_and_a_known_one_has_its_history(
    settings: Settings, db: Database
) -> None:
    known = add(db, "网传临江县普查数据造假", "III", IncidentStatus.OPEN, hours=0)
    with db.sessions() as session:
        assert views.detail(session, settings, known + 100, clock.now()) is None
        found = views.detail(session, settings, known, clock.now())
        assert views.level_of(session, known) == "III"
        assert views.level_of(session, known + 100) is None
    assert found is not None
    assert found.incident.id == known and found.mentions == [] and found.history == []
