"""Reprints (转载) are grouped with the story they reprint and join its incident."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from responder import clock
from responder.intake.mentions import MentionRecord, store
from responder.intake.reprints import group_reprints
from responder.models import Mention

STORY = (
    "临江县统计局今天发布数据，前三季度全县地区生产总值增长5.8%，规模以上工业增加值增长6.1%，"
    "社会消费品零售总额增长4.2%，固定资产投资同比增长3.5%，城乡居民人均可支配收入稳步提高。"
)
OTHER = (
    "临江县统计局召开会议，部署第五次全国经济普查工作，"
    "要求各乡镇做好单位清查准备，确保数据真实准确。"
)


def add(db, url: str, text: str, title: str = "") -> int:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        mention = store(session, MentionRecord(url=url, title=title, text=text))
        assert mention is not None
        return mention.id


def group(db, settings) -> int:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        return group_reprints(session, settings)


def test_a_reprint_with_a_new_title_and_a_byline_points_at_the_first_story(db, settings):
    original = add(db, "http://a.example/1", STORY, "统计局发布前三季度数据")
    other = add(db, "http://a.example/2", OTHER)
    reprint = add(
        db,
        "http://b.example/x",
        "【转载】" + STORY + "来源：临江日报 责任编辑：王某",
        "前三季度临江经济稳中有进",
    )
    assert group(db, settings) == 1
    with db.sessions() as session:
        rows = {m.id: m for m in session.scalars(select(Mention))}
    assert rows[reprint].reprint_of == original
    assert rows[original].reprint_of is None and rows[other].reprint_of is None
    assert all(m.minhash for m in rows.values())


def test_a_reprint_of_a_reprint_joins_the_same_group_in_a_later_run(db, settings):
    original = add(db, "http://a.example/1", STORY)
    add(db, "http://b.example/1", STORY + "（来源：临江日报）")
    group(db, settings)
    third = add(db, "http://c.example/1", "转自临江日报：" + STORY + "（来源：临江日报）")
    assert group(db, settings) == 1
    with db.sessions() as session:
        assert session.get(Mention, third).reprint_of == original  # type: ignore[union-attr]


def test_grouping_is_idempotent_and_different_stories_stay_apart(db, settings):
    add(db, "http://a.example/1", STORY)
    add(db, "http://a.example/2", OTHER)
    assert group(db, settings) == 0
    assert group(db, settings) == 0


def test_the_similarity_threshold_comes_from_the_settings(db, settings):
    settings.crawl.reprint_similarity = 0.99
    add(db, "http://a.example/1", STORY)
    add(db, "http://b.example/1", "【转载】" + STORY + "来源：临江日报 责任编辑：王某")
    assert group(db, settings) == 0


def test_a_reprint_joins_the_incident_of_its_original(db, settings):
    import nlp
    from responder.incidents.triage import Triage
    from responder.judging.classifier import build_classifier
    from responder.judging.classify import classify_pending

    negative = (
        "网友爆料：临江县统计局涉嫌数据造假，前三季度地区生产总值增长5.8%的数字被指注水，"
        "多名企业主称被要求虚报产值，群众质疑统计数据真实性，要求彻查。"
    )
    # Shared terms can never join two mentions here: only the reprint link can.
    settings.incidents.min_shared_terms = 1000
    original = add(db, "http://a.example/1", negative)
    reprint = add(db, "http://b.example/1", negative + "（本文转自网络，仅供参考）")
    group(db, settings)
    classifier = build_classifier(settings)
    triage = Triage(settings, nlp.Segmenter(settings.userdict, [settings.office_name]))
    with db.transaction() as session:
        classify_pending(session, classifier, 64)
    with db.transaction() as session:
        triage.run(session)
    with db.sessions() as session:
        first, second = session.get(Mention, original), session.get(Mention, reprint)
        assert first is not None and second is not None
        assert first.incident_id is not None
        assert second.incident_id == first.incident_id
        assert first.incident.mention_count == 2  # type: ignore[union-attr]


def test_a_crawl_groups_the_same_story_reprinted_on_two_sites(tmp_path, data_dir):
    from responder.db import Database
    from responder.settings import load_settings
    from tests.crawling import LoopbackSite, run_crawl

    # Published a day before the clock's now: inside the crawl's look-back window on any day.
    published = clock.now().astimezone(ZoneInfo("Asia/Shanghai")) - timedelta(days=1)
    article = (
        "<html><head><title>{title}</title></head><body><h1>{title}</h1>"
        f"<p>发布时间：{published:%Y-%m-%d %H:%M} 来源：{{outlet}}</p><p>{{text}}</p></body></html>"
    )
    sites = [LoopbackSite().start(), LoopbackSite().start()]
    try:
        for n, site in enumerate(sites):
            site.page(
                "/news/",
                '<html><body><ul><li><a href="/news/2026/a1.html">临江前三季度经济运行情况发布</a>'
                "</li></ul></body></html>",
            )
            site.page(
                "/news/2026/a1.html",
                article.format(
                    title=["临江县统计局发布前三季度数据", "前三季度临江经济稳中有进"][n],
                    outlet=["临江发布", "江州日报"][n],
                    text=STORY + ["", "（转载自临江发布）"][n],
                ),
            )
        sources = [
            {"name": f"网站{n}", "kind": "site", "url": site.url("/news/")}
            for n, site in enumerate(sites)
        ]
        done = run_crawl(tmp_path / "config", sources)
        assert done.returncode == 0, done.stderr[-2000:]
    finally:
        for site in sites:
            site.stop()
    db = Database(load_settings(tmp_path / "config"))
    with db.sessions() as session:
        first, second = session.scalars(select(Mention).order_by(Mention.id)).all()
    db.dispose()
    assert first.reprint_of is None and second.reprint_of == first.id
