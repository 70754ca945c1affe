"""Incidents are events: grouping by place, words, figures, time and category."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import select

from responder import clock
from responder.incidents.grouping import add_to_profile, new_profile
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


def test_a_place_name_never_begins_inside_another_word(triage):
    features = triage.grouper.features(
        "大家对社区一肚子火",
        "物业不让普查员进小区，打电话问镇普查办也没人管。临江县城关镇老街社区的居民说。",
    )

    assert features.places == ["城关镇", "老街社区"]


def test_a_place_named_without_its_suffix_is_the_same_place(triage):
    now = clock.now()
    report = triage.grouper.features(
        "柳湾镇拖欠普查员补贴", "柳湾镇部分普查员的误工补贴迟迟未发放，还被扣了管理费。"
    )
    post = triage.grouper.features(
        "补贴一分没见着", "当了两个月普查员，说好的误工补贴一分钱没到账。", "柳湾普查员"
    )

    join = triage.grouper.score(
        post, "staff_conduct", now, new_profile(report), "staff_conduct", now, now
    )

    assert post.places == []
    assert join is not None
    assert join.reason.startswith("同一地点：柳湾镇；")


def test_a_township_named_once_in_a_county_wide_story_does_not_set_it_apart(triage):
    now = clock.now()
    story = [
        (
            "普查信息疑遭倒卖",
            "有人在群里倒卖临江县普查登记的居民个人信息，姓名身份证号手机号都有。",
        ),
        ("普查信息泄露持续发酵", "网友整理，多名居民的个人信息疑遭倒卖，身份证号手机号被泄露。"),
        ("河口街道居民接到诈骗电话", "河口街道一位居民说，个人信息泄露后接到诈骗电话。"),
        ("倒卖普查信息", "居民个人信息被倒卖，身份证号、手机号都在群里卖。"),
    ]
    profile: dict = {}
    for title, text in story:
        profile = add_to_profile(profile, triage.grouper.features(title, text))
    local = triage.grouper.features(
        "青石镇居民个人信息泄露", "青石镇居民说登记后个人信息被泄露，身份证号手机号都被人倒卖。"
    )
    elsewhere = triage.grouper.features(
        "河口街道普查信息泄露", "河口街道居民说登记后个人信息被泄露，身份证号手机号都被人倒卖。"
    )
    single = new_profile(triage.grouper.features(*story[2]))

    assert triage.grouper.score(local, "privacy_leak", now, profile, "privacy_leak", now, now)
    assert triage.grouper.score(elsewhere, "privacy_leak", now, single, "privacy_leak", now, now)
    assert not triage.grouper.score(local, "privacy_leak", now, single, "privacy_leak", now, now)


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
def test_the_demo_cycle_opens_one_incident_per_storyline(settings, db, demo_world):
    Cycle(settings, db).run()
    events = _world_events()
    with db.sessions() as session:
        by_event: dict[str, set[int | None]] = defaultdict(set)
        for mention in session.scalars(select(Mention)):
            if mention.title in events:
                by_event[events[mention.title]].add(mention.incident_id)
    assert {e: len(ids) for e, ids in by_event.items() if len(ids) > 1} == {}
