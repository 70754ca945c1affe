"""The reprint chain (首发与扩散): the earliest mention posted first; the amplifiers are the later
mentions with the widest reach — outlet authority, hot-list place, engagement, reprints — shown
in time order."""

from __future__ import annotations

import json
from datetime import timedelta

from typer.testing import CliRunner

from responder import clock
from responder.cli import app
from responder.incidents.chain import build, chain_of
from responder.incidents.hotlists import HotPlace
from responder.intake.mentions import MentionRecord, canonical_url, store
from responder.models import HotRank, Incident, Mention
from responder.models import Source as SourceRow

START = clock.now() - timedelta(hours=6)


def mention(
    number: int,
    minutes: int,
    outlet: str,
    reprint_of: int | None = None,
    reposts: int = 0,
    published: bool = True,
) -> Mention:
    url = f"http://news.example/{number}"
    return Mention(
        id=number,
        url=url,
        canonical_url=url,
        content_hash=str(number),
        title=f"第{number}条",
        text="临江县普查员登记的住户信息遭打包出售",
        outlet=outlet,
        author="",
        published_at=START + timedelta(minutes=minutes) if published else None,
        fetched_at=START + timedelta(minutes=minutes),
        reposts=reposts,
        comments=0,
        likes=0,
        reprint_of=reprint_of,
    )


def test_the_earliest_mention_posted_first_whatever_order_they_come_in(settings):
    posts = [
        mention(3, 90, "人民网", reprint_of=2),
        mention(2, 10, "临江论坛"),  # the forum post that started it
        mention(4, 30, "网友小王"),  # a lone personal post: no reach, not an amplifier
    ]

    chain = build(posts, settings.severity, {})

    assert chain.first is not None
    assert (chain.first.mention_id, chain.first.outlet) == (2, "临江论坛")
    assert chain.first.at == START + timedelta(minutes=10)
    assert chain.first.reprinted == 1
    assert [p.mention_id for p in chain.amplifiers] == [3]
    assert chain.amplifiers[0].tier == "central_media"
    assert (chain.amplifier_count, chain.reprints, chain.more) == (1, 1, 0)


def test_an_unpublished_mention_counts_from_when_it_was_fetched(settings):
    posts = [mention(1, 50, "临江论坛"), mention(2, 20, "江州头条", published=False)]
    chain = build(posts, settings.severity, {})
    assert chain.first is not None and chain.first.mention_id == 2


def test_the_widest_reach_is_kept_and_shown_in_time_order(settings):
    posts = [
        mention(1, 0, "临江论坛"),
        mention(2, 10, "网友甲", reposts=5),  # engagement only
        mention(3, 20, "临江新闻网"),  # local media
        mention(4, 30, "网友乙", reprint_of=1),  # a personal reprint
        mention(5, 40, "东川日报"),  # provincial media
        mention(6, 50, "网友丙"),  # on a hot list
        mention(7, 60, "新华网"),  # central media
        mention(8, 70, "网友丁", reposts=900),
    ]
    places = {"http://news.example/6": HotPlace("微博热搜", 3)}

    chain = build(posts, settings.severity, places, shown=4)

    # By reach: central, provincial, local, then the hot-listed post; shown by time.
    assert [p.mention_id for p in chain.amplifiers] == [3, 5, 6, 7]
    assert chain.amplifiers[2].hot == HotPlace("微博热搜", 3)
    assert (chain.amplifier_count, chain.more) == (7, 3)
    assert chain.first is not None and chain.first.mention_id == 1

    # With room for all, the personal ones follow by hot place, engagement, then reprints.
    everyone = build(posts, settings.severity, places, shown=7)
    assert [p.mention_id for p in everyone.amplifiers] == [2, 3, 4, 5, 6, 7, 8]
    narrow = build(posts, settings.severity, places, shown=6)
    assert 4 not in [p.mention_id for p in narrow.amplifiers]  # least reach of the seven


def test_no_mentions_make_no_chain(settings):
    chain = build([], settings.severity, {})
    assert chain.first is None and chain.amplifiers == [] and chain.amplifier_count == 0


def test_the_hot_list_places_are_read_from_the_sightings(settings, db):
    with db.transaction() as session:
        board = SourceRow(name="热榜", kind="hotlist", url="http://hot.example")
        session.add(board)
        session.flush()
        stored = []
        for n, minutes in enumerate((0, 30)):
            found = store(
                session,
                MentionRecord(
                    url=f"http://forum.example/t/{n}",
                    title=f"普查员信息泄露{n}",
                    text=f"临江县普查员登记的住户信息遭打包出售{n}",
                    outlet="网友爆料",
                    published_at=START + timedelta(minutes=minutes),
                ),
            )
            assert found is not None
            stored.append(found)
        for rank, name in ((12, "百度热搜"), (4, "微博热搜"), (9, "微博热搜")):
            session.add(
                HotRank(
                    source_id=board.id,
                    board=name,
                    canonical_url=canonical_url("http://forum.example/t/1"),
                    rank=rank,
                )
            )
        session.flush()
        chain = chain_of(session, settings.severity, stored)

    assert chain.first is not None and chain.first.hot is None
    assert [(p.title, p.hot) for p in chain.amplifiers] == [
        ("普查员信息泄露1", HotPlace("微博热搜", 4))
    ]


def test_yuqing_incident_show_prints_the_chain(settings, db):
    with db.transaction() as session:
        forum, paper = (
            store(
                session,
                MentionRecord(
                    url=url,
                    title=title,
                    text="临江县普查员登记的住户信息遭打包出售，涉及青石镇多个小区",
                    outlet=outlet,
                    published_at=START + timedelta(minutes=minutes),
                ),
            )
            for url, title, outlet, minutes in (
                ("http://forum.example/t/1", "有人在群里卖普查登记信息", "临江论坛", 0),
                ("http://news.example/a/2", "临江县普查信息疑遭倒卖", "人民网", 45),
            )
        )
        assert forum is not None and paper is not None
        paper.reprint_of = forum.id
        incident = Incident(
            title="普查登记信息疑遭倒卖",
            category="data_security",
            first_seen=START,
            last_seen=START + timedelta(minutes=45),
            mention_count=2,
        )
        session.add(incident)
        session.flush()
        forum.incident_id = paper.incident_id = incident.id
        ids = (incident.id, forum.id, paper.id)

    text = CliRunner().invoke(app, ["incident", "show", str(ids[0])])
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    at = lines.index("首发与扩散：")
    assert (
        lines[at + 1].startswith("  首发 ")
        and f"#{ids[1]} 有人在群里卖普查登记信息" in lines[at + 1]
    )
    assert "临江论坛" in lines[at + 1] and "被转载 1 次" in lines[at + 1]
    assert lines[at + 2].startswith("  转载 ") and "人民网（中央媒体）" in lines[at + 2]
    assert f"转载自 #{ids[1]}" in lines[at + 2]
    assert lines[at + 3] == "  本事件共有转载 1 条"

    shown = CliRunner().invoke(app, ["incident", "show", str(ids[0]), "--json"])
    chain = json.loads(shown.stdout)["chain"]
    assert chain["first"]["mention_id"] == ids[1] and chain["reprints"] == 1
    assert [(p["mention_id"], p["tier"], p["reprint_of"]) for p in chain["amplifiers"]] == [
        (ids[2], "central_media", ids[1])
    ]
