"""How high and how long an incident's mentions stood on hot lists: the listing per board from
the recorded sightings, and the line the incident page shows."""

from __future__ import annotations

import re
from datetime import timedelta

from responder import clock
from responder.incidents.hotlists import best_rank, hot_listings
from responder.incidents.severity import assess
from responder.incidents.triage import refresh
from responder.intake.mentions import MentionRecord, canonical_url, store
from responder.intake.watching import Sighting, record_sightings
from responder.models import HotRank, Incident, Mention
from responder.models import Source as SourceRow
from tests.webclient import client_as

TOPIC = "https://s.weibo.com/weibo?q=%23临江普查员%23"
# (hours after the first sighting, board, place)
SIGHTINGS = [(0, "微博热搜", 9), (1, "微博热搜", 7), (3, "微博热搜", 12), (2, "百度热搜", 20)]


def seed(db) -> int:  # type: ignore[no-untyped-def]
    """An incident whose one mention stood on 微博热搜 for three hours (best 7th) and was seen
    once on 百度热搜; returns the incident's id."""
    start = clock.now() - timedelta(hours=4)
    with db.transaction() as session:
        source = SourceRow(name="热榜", kind="hotlist", url="http://hot.example")
        incident = Incident(
            title="临江县普查员入户被打", category="field_safety", first_seen=start, last_seen=start
        )
        session.add_all([source, incident])
        session.flush()
        mention = store(
            session,
            MentionRecord(
                url=TOPIC, title="临江县统计局回应普查员被打", text="临江县统计局回应普查员被打一事"
            ),
        )
        assert mention is not None
        mention.incident_id = incident.id
        for hours, board, rank in SIGHTINGS:
            session.add(
                HotRank(
                    source_id=source.id,
                    board=board,
                    canonical_url=canonical_url(TOPIC),
                    title=mention.title,
                    rank=rank,
                    heat=1000 * (30 - rank),
                    seen_at=start + timedelta(hours=hours),
                )
            )
        return incident.id


def test_a_listing_per_board_says_the_best_place_and_how_long(db) -> None:  # type: ignore[no-untyped-def]
    incident_id = seed(db)
    with db.transaction() as session:
        mentions = session.query(Mention).filter_by(incident_id=incident_id).all()
        listings = hot_listings(session, mentions)
        assert [(x.board, x.best_rank, x.hours, x.top_heat) for x in listings] == [
            ("微博热搜", 7, 3, 23_000),
            ("百度热搜", 20, 0, 10_000),
        ]
        assert best_rank(session, mentions) == 7
        assert hot_listings(session, []) == []


def test_sightings_are_recorded_by_canonical_url(db) -> None:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        source = SourceRow(name="热榜", kind="hotlist", url="http://hot.example")
        session.add(source)
        session.flush()
        record_sightings(
            session, [Sighting(TOPIC + "&utm_source=x", "题", "抖音热榜", 3, 5)], source.id
        )
    with db.transaction() as session:
        row = session.query(HotRank).one()
        assert (row.canonical_url, row.board, row.rank, row.heat) == (
            canonical_url(TOPIC),
            "抖音热榜",
            3,
            5,
        )
        assert abs(row.seen_at - clock.now()) < timedelta(minutes=1)


def test_the_incident_page_shows_where_and_how_long_it_stood(settings, db) -> None:  # type: ignore[no-untyped-def]
    incident_id = seed(db)
    page = client_as(settings, db, "duty").get(f"/incidents/{incident_id}")
    assert page.status_code == 200
    text = re.sub(r"<[^>]+>", "", page.text)
    assert "上榜：微博热搜第7位，持续3小时" in text
    assert "上榜：百度热搜第20位（热度 10000）" in text


def test_the_demo_cycle_stores_the_hot_list_entry_and_its_incident_shows_it(
    settings, db, demo_world, mail_sink
) -> None:  # type: ignore[no-untyped-def]
    from responder.running.cycle import Cycle

    Cycle(settings, db).run()
    with db.sessions() as session:
        hot = session.query(Mention).filter(Mention.outlet == "微博热搜").all()
        # The board lists two entries; only the census-data one matches the keyword rules.
        assert [m.title for m in hot] == ["临江县普查登记信息被打包出售"]
        (sighting,) = session.query(HotRank).all()
        assert (sighting.board, sighting.rank, sighting.heat) == ("微博热搜", 1, 1_280_000)
        incident_id = hot[0].incident_id
    assert incident_id is not None
    page = client_as(settings, db, "duty").get(f"/incidents/{incident_id}")
    assert "上榜：微博热搜第1位" in re.sub(r"<[^>]+>", "", page.text)


def test_the_best_place_on_a_hot_list_raises_the_score_by_its_band(settings, db) -> None:  # type: ignore[no-untyped-def]
    incident_id = seed(db)
    with db.transaction() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        refresh(session, settings, incident)
        fired = {r["rule"]: r for r in incident.fired_rules}
        # 7th place: the "top 10" band of the packaged severity.yaml.
        assert fired["热榜排名"]["score"] == 8
        assert fired["热榜排名"]["detail"] == "热榜第7位"
        mentions = session.query(Mention).filter_by(incident_id=incident_id).all()
        assert settings.severity is not None
        without = assess(incident.category, mentions, settings.severity)
        assert incident.score == without.score + 8
