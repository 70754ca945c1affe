"""Incidents are events: grouping by place, words, figures, time and category."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import select

from responder import clock
from responder.incidents.grouping import new_profile
from responder.incidents.triage import Triage
from responder.models import Incident, Mention
from responder.running.cycle import Cycle


@pytest.fixture
def triage(settings) -> Triage:  # type: ignore[no-untyped-def]
    return Triage.from_settings(settings)


def test_places_come_from_names_before_a_suffix_not_from_pronouns(triage):
    features = triage.grouper.features(
        "双河镇竹坪村普查员被困",
        "我们村的表都是村干部在村部代填的，县经济开发区也在查",
        "柳湾镇的风",
    )

    assert features.places == ["双河镇", "竹坪村", "园区", "柳湾镇"]


def test_two_scams_in_two_townships_the_same_week_stay_apart(triage):
    now = clock.now()
    first = triage.grouper.features(
        "石门乡老人被假普查员骗走200元", "有人冒充普查员到石门乡收取登记费，老人被骗200元，已报警。"
    )
    second = triage.grouper.features(
        "南岭镇老人被假普查员骗走200元", "有人冒充普查员到南岭镇收取登记费，老人被骗200元，已报警。"
    )

    join = triage.grouper.score(
        second, "scam", now, new_profile(first), "scam", now - timedelta(days=2), now
    )

    assert join is None


def test_a_paraphrase_of_the_same_event_joins_with_its_reasons(triage):
    now = clock.now()
    report = triage.grouper.features(
        "梅溪村普查员入户时被犬咬伤",
        "枫林街道梅溪村普查员杨某入户登记时被未拴养的犬只咬伤左腿，已接种狂犬疫苗。",
    )
    post = triage.grouper.features(
        "普查员来梅溪村登记被狗咬了",
        "梅溪村村口那户的狗没拴，一口咬在普查员小腿上，送卫生院打了狂犬疫苗。",
    )

    join = triage.grouper.score(
        post, "field_safety", now, new_profile(report), "field_safety", now, now
    )

    assert join is not None
    assert join.reason.startswith("同一地点：梅溪村；同类事件")


def _world_events() -> dict[str, str]:
    from tests.test_cycle import demo_world_items

    return {i["title"]: i["event"] for i in demo_world_items() if "event" in i}


@pytest.mark.slow
def test_the_demo_cycle_never_puts_two_storylines_in_one_incident(settings, db, demo_world):
    Cycle(settings, db).run()
    events = _world_events()
    with db.sessions() as session:
        by_incident: dict[int, set[str]] = defaultdict(set)
        by_event: dict[str, set[int]] = defaultdict(set)
        for mention in session.scalars(select(Mention).where(Mention.incident_id.is_not(None))):
            event = events.get(mention.title)
            if event is not None and mention.incident_id is not None:
                by_incident[mention.incident_id].add(event)
                by_event[event].add(mention.incident_id)
        assert all(len(found) == 1 for found in by_incident.values()), by_incident
        assert len(by_event["census-data-sale"]) <= 2
        reasons = session.scalars(
            select(Mention.join_reason).where(Mention.join_reason.is_not(None))
        ).all()
        assert any(r.startswith("同一地点：") for r in reasons)
        assert session.scalars(select(Incident).where(Incident.status == "open")).all()


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="issue 18: three storylines are still split (census-data-sale, donghu-refusal, "
    "liuwan-allowance); see `python -m bench.events --set demo --show errors`",
)
def test_the_demo_cycle_opens_one_incident_per_storyline(settings, db, demo_world):
    Cycle(settings, db).run()
    events = _world_events()
    with db.sessions() as session:
        by_event: dict[str, set[int | None]] = defaultdict(set)
        for mention in session.scalars(select(Mention)):
            if mention.title in events:
                by_event[events[mention.title]].add(mention.incident_id)
    assert {e: len(ids) for e, ids in by_event.items() if len(ids) > 1} == {}
