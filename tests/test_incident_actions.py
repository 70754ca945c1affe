"""A person's decisions about incidents — merge, split, level override, close, reopen — change
the incident, re-assess its severity, leave audit rows, and refuse bad input without changing
anything; triage never adds to a closed or merged incident."""

from __future__ import annotations

import getpass
import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

import nlp
from responder.cli import app
from responder.incidents import actions
from responder.incidents.triage import Triage, refresh
from responder.intake.mentions import MentionRecord, store
from responder.models import AuditEntry, Incident, Judgement, Mention
from tests.conftest import REPO
from tests.webclient import client_as, ensure_user

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
LEAK = [
    "网友爆料：临江县普查员登记的住户信息遭打包出售，涉及3万条，多名居民接到诈骗电话。",
    "住户信息遭打包出售？临江普查员登记资料流出，居民频繁接到诈骗电话，要求彻查。",
]
LEAK_LATER = "打包出售的住户信息仍在网上流传，诈骗电话不断，普查员登记资料去向成谜。"
LOST = [
    "临江县城关街道一名普查员将整袋普查表格遗失在公交车上，表格含姓名和联系方式。",
    "公交车上捡到普查表格！城关街道普查员遗失整袋表格，网友担心表格外泄。",
]
_urls = itertools.count(1)


@pytest.fixture(scope="module")
def segmenter() -> nlp.Segmenter:
    return nlp.Segmenter(REPO / "config" / "userdict.txt", ["临江县统计局"])


def add(
    session: Session,
    text: str,
    hours: float = 0,
    category: str = "privacy_leak",
    sentiment: str = "negative",
    outlet: str = "",
    reprint_of: int | None = None,
) -> Mention:
    mention = store(
        session,
        MentionRecord(
            url=f"http://x.example/{next(_urls)}",
            text=text,
            outlet=outlet,
            published_at=NOW + timedelta(hours=hours),
        ),
    )
    assert mention is not None
    mention.reprint_of = reprint_of
    mention.judgements.append(
        Judgement(
            sentiment=sentiment,
            sentiment_score=0.9,
            category=category,
            category_score=0.9,
            misinfo=False,
            misinfo_reasons=[],
        )
    )
    session.flush()
    return mention


def triage(db, settings, segmenter) -> None:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        Triage(settings, segmenter).run(session)


@pytest.fixture
def deciders(db) -> None:  # type: ignore[no-untyped-def]
    """The duty officers who decide on incidents here, and the login name the CLI uses without
    --by: deciding needs an enabled account whose role may decide."""
    for name in ("王敏", "赵雪", "李强", getpass.getuser()):
        ensure_user(db, name, "duty")


@pytest.fixture
def world(db, settings, segmenter, deciders) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Two open incidents of one category found by triage: a leak (III) and lost forms (IV)."""
    with db.transaction() as session:
        leak = [add(session, text, hours=n).id for n, text in enumerate(LEAK)]
        lost = [add(session, text, hours=n).id for n, text in enumerate(LOST)]
    triage(db, settings, segmenter)
    with db.sessions() as session:
        found = {m.id: m.incident_id for m in session.scalars(select(Mention))}
        levels = {i.id: i.machine_level for i in session.scalars(select(Incident))}
    assert found[leak[0]] == found[leak[1]] != found[lost[0]] == found[lost[1]]
    assert (levels[found[leak[0]]], levels[found[lost[0]]]) == ("III", "IV")
    return {"leak": found[leak[0]], "lost": found[lost[0]], "leak_ids": leak, "lost_ids": lost}


def audits(db, action: str) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    with db.sessions() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )


def test_merging_moves_the_mentions_unites_the_terms_and_raises_the_targets_level(
    db, settings, world
):
    with db.sessions() as session:
        leak_terms = session.get(Incident, world["leak"]).terms  # type: ignore[union-attr]
    with db.transaction() as session:
        actions.merge(session, settings, world["leak"], world["lost"], "王敏", "同一批普查资料")

    with db.sessions() as session:
        source = session.get(Incident, world["leak"])
        target = session.get(Incident, world["lost"])
        assert source is not None and target is not None
        assert (source.status, source.merged_into, source.mention_count) == (
            "merged",
            target.id,
            0,
        )
        assert target.status == "open" and target.mention_count == 4
        assert target.machine_level == "III" and target.level == "III"
        assert any(r["rule"] == "大规模信息泄露" for r in target.fired_rules)
        assert set(leak_terms) <= set(target.terms)
        assert {m.id for m in target.mentions} == set(world["leak_ids"] + world["lost_ids"])
    merges = audits(db, "incident.merge")
    assert [(a.object_id, a.actor, a.detail) for a in merges] == [
        (str(world["leak"]), "王敏", "同一批普查资料"),
        (str(world["lost"]), "王敏", "同一批普查资料"),
    ]
    assert merges[0].before["status"] == "open"  # type: ignore[index]
    assert merges[0].after["merged_into"] == world["lost"]  # type: ignore[index]
    assert merges[1].before["machine_level"] == "IV"  # type: ignore[index]
    assert merges[1].after["machine_level"] == "III"  # type: ignore[index]
    assert sorted(merges[1].after["mentions_moved"]) == sorted(world["leak_ids"])  # type: ignore[index]
    # The rise is audited like any rise, so escalation for the new level can follow it.
    rise = audits(db, "incident.level")[-1]
    assert (rise.object_id, rise.actor, rise.after["machine_level"]) == (  # type: ignore[index]
        str(world["lost"]),
        "王敏",
        "III",
    )


def test_after_a_merge_new_mentions_and_reprints_of_the_story_join_the_surviving_incident(
    db, settings, segmenter, world
):
    with db.transaction() as session:
        actions.merge(session, settings, world["leak"], world["lost"], "王敏", "同一事件")
    with db.transaction() as session:
        later = add(session, LEAK_LATER, hours=5).id
        reprint = add(
            session, LEAK[0] + "（转自网络）", hours=6, reprint_of=world["leak_ids"][0]
        ).id
        incidents_before = session.scalar(select(func.count(Incident.id)))

    triage(db, settings, segmenter)

    with db.sessions() as session:
        assert session.get(Mention, later).incident_id == world["lost"]  # type: ignore[union-attr]
        assert session.get(Mention, reprint).incident_id == world["lost"]  # type: ignore[union-attr]
        assert session.scalar(select(func.count(Incident.id))) == incidents_before
        assert session.get(Incident, world["leak"]).mention_count == 0  # type: ignore[union-attr]
        assert session.get(Incident, world["lost"]).mention_count == 6  # type: ignore[union-attr]


def test_a_reprint_follows_the_merge_of_its_originals_incident(db, settings, segmenter, world):
    settings.incidents.min_shared_terms = 1000  # only the reprint link can place it
    with db.transaction() as session:
        # An original left behind in a merged incident (merged before mentions moved).
        leak = session.get(Incident, world["leak"])
        assert leak is not None
        leak.status, leak.merged_into = "merged", world["lost"]
        reprint = add(session, LEAK[1] + "（转载）", hours=3, reprint_of=world["leak_ids"][1]).id

    triage(db, settings, segmenter)

    with db.sessions() as session:
        assert session.get(Mention, reprint).incident_id == world["lost"]  # type: ignore[union-attr]


def test_a_reprint_of_a_closed_incidents_story_opens_a_new_incident(db, settings, segmenter, world):
    settings.incidents.min_shared_terms = 1000
    with db.transaction() as session:
        actions.close(session, settings, world["leak"], "王敏", "已处置完毕")
    with db.transaction() as session:
        reprint = add(session, LEAK[0] + "（转载）", hours=30, reprint_of=world["leak_ids"][0]).id

    triage(db, settings, segmenter)

    with db.sessions() as session:
        joined = session.get(Mention, reprint).incident_id  # type: ignore[union-attr]
        closed = session.get(Incident, world["leak"])
        assert closed is not None
        assert joined not in (None, world["leak"], world["lost"])
        assert (closed.status, closed.mention_count) == ("closed", 2)
        assert session.get(Incident, joined).status == "open"  # type: ignore[union-attr]


def test_splitting_moves_the_chosen_mentions_into_a_new_incident_and_reassesses_both(
    db, settings, world
):
    with db.transaction() as session:
        actions.merge(session, settings, world["leak"], world["lost"], "王敏", "疑似同一事件")
    with db.transaction() as session:
        new_id = actions.split(
            session,
            settings,
            world["lost"],
            world["leak_ids"],
            "李强",
            "倒卖与遗失是两件事",
            title="普查住户信息被倒卖",
        ).id

    with db.sessions() as session:
        new = session.get(Incident, new_id)
        old = session.get(Incident, world["lost"])
        assert new is not None and old is not None
        assert (new.title, new.category, new.status) == (
            "普查住户信息被倒卖",
            "privacy_leak",
            "open",
        )
        assert {m.id for m in new.mentions} == set(world["leak_ids"])
        assert (new.mention_count, new.machine_level) == (2, "III")
        assert (old.mention_count, old.machine_level) == (2, "IV")
        assert new.terms and all(any(t in text for text in LEAK) for t in new.terms)
        assert all(any(t in text for text in LOST) for t in old.terms)
        assert new.first_seen == NOW and new.last_seen == NOW + timedelta(hours=1)
    split = audits(db, "incident.split")[-1]
    assert (split.object_id, split.actor, split.detail) == (
        str(world["lost"]),
        "李强",
        "倒卖与遗失是两件事",
    )
    assert split.before["mention_count"] == 4  # type: ignore[index]
    assert split.after["split_into"] == new_id  # type: ignore[index]
    opened = audits(db, "incident.open")[-1]
    assert opened.object_id == str(new_id) and "倒卖与遗失是两件事" in opened.detail


def test_a_split_off_incident_takes_the_category_most_of_its_mentions_were_judged(
    db, settings, deciders
):
    with db.transaction() as session:
        mentions = [
            add(session, LOST[0]),
            add(session, LOST[1], category="data_security"),
            add(session, LEAK[0], category="data_security"),
            add(session, LEAK[1]),
        ]
        incident = Incident(title="混合", category="privacy_leak", first_seen=NOW, last_seen=NOW)
        session.add(incident)
        session.flush()
        for m in mentions:
            m.incident = incident
        refresh(session, settings, incident)
    with db.transaction() as session:
        new = actions.split(
            session, settings, incident.id, [mentions[1].id, mentions[2].id], "李强", "不同事件"
        )
        assert new.category == "data_security"
        assert new.title == mentions[1].title or new.title == mentions[1].text[:40]
    with db.transaction() as session:
        tie = actions.split(
            session, settings, incident.id, [mentions[0].id], "李强", "再拆一次"
        )  # one privacy_leak mention: keeps the incident's category
        assert tie.category == "privacy_leak"


def test_a_person_overrides_the_level_with_a_reason_and_can_clear_it(db, settings, world):
    with db.transaction() as session:
        incident = actions.override_level(
            session, settings, world["lost"], "ii", "赵雪", "省级媒体已关注"
        )
        assert (incident.level, incident.machine_level) == ("II", "IV")
    with db.sessions() as session:
        stored = session.get(Incident, world["lost"])
        assert stored is not None
        assert (stored.level_override, stored.override_reason) == ("II", "省级媒体已关注")
    with db.transaction() as session:
        actions.override_level(session, settings, world["lost"], None, "赵雪", "媒体未跟进")
    with db.sessions() as session:
        stored = session.get(Incident, world["lost"])
        assert stored is not None
        assert (stored.level, stored.level_override, stored.override_reason) == ("IV", None, None)
    first, second = audits(db, "incident.level_override")
    assert first.before == {"level_override": None, "override_reason": None, "level": "IV"}
    assert first.after["level"] == "II" and first.detail == "省级媒体已关注"  # type: ignore[index]
    assert second.before["level_override"] == "II"  # type: ignore[index]
    assert second.after["level_override"] is None and second.actor == "赵雪"  # type: ignore[index]


def test_closing_and_reopening_are_recorded_and_audited(db, settings, world):
    closed_at = NOW + timedelta(days=1)
    with db.transaction() as session:
        actions.close(session, settings, world["leak"], "王敏", "已辟谣，热度消退", now=closed_at)
    with db.sessions() as session:
        stored = session.get(Incident, world["leak"])
        assert stored is not None
        assert (stored.status, stored.closed_at, stored.close_reason) == (
            "closed",
            closed_at,
            "已辟谣，热度消退",
        )
    with db.transaction() as session:
        actions.reopen(session, settings, world["leak"], "李强", "又有新帖")
    with db.sessions() as session:
        stored = session.get(Incident, world["leak"])
        assert stored is not None
        assert (stored.status, stored.closed_at, stored.close_reason) == ("open", None, None)
        assert stored.mention_count == 2 and stored.machine_level == "III"
    (closing,) = audits(db, "incident.close")
    (reopening,) = audits(db, "incident.reopen")
    assert (closing.actor, closing.detail, closing.after["status"]) == (  # type: ignore[index]
        "王敏",
        "已辟谣，热度消退",
        "closed",
    )
    assert reopening.before["close_reason"] == "已辟谣，热度消退"  # type: ignore[index]
    assert (reopening.actor, reopening.after["status"]) == ("李强", "open")  # type: ignore[index]


def snapshot(db) -> tuple[Any, ...]:  # type: ignore[no-untyped-def]
    with db.sessions() as session:
        incidents = [
            (
                i.id,
                i.title,
                i.category,
                i.status,
                i.mention_count,
                i.machine_level,
                i.level_override,
                i.override_reason,
                i.merged_into,
                i.closed_at,
                i.close_reason,
                i.score,
                tuple(i.terms),
            )
            for i in session.scalars(select(Incident).order_by(Incident.id))
        ]
        mentions = list(session.execute(select(Mention.id, Mention.incident_id)).all())
        audit_rows = session.scalar(select(func.count(AuditEntry.id)))
    return incidents, mentions, audit_rows


@pytest.fixture
def states(db, world) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The world plus a closed and a merged incident (without mentions)."""
    with db.transaction() as session:
        closed = Incident(
            title="已关闭", category="scam", status="closed", first_seen=NOW, last_seen=NOW
        )
        merged = Incident(
            title="已合并",
            category="scam",
            status="merged",
            merged_into=world["lost"],
            first_seen=NOW,
            last_seen=NOW,
        )
        session.add_all([closed, merged])
        session.flush()
    return {**world, "closed": closed.id, "merged": merged.id}


BAD: dict[str, tuple[type[Exception], Callable[..., Any]]] = {
    "merge an unknown incident": (
        actions.UnknownIncident,
        lambda s, cfg, w: actions.merge(s, cfg, 999, w["lost"], "王敏", "原因"),
    ),
    "merge into an unknown incident": (
        actions.UnknownIncident,
        lambda s, cfg, w: actions.merge(s, cfg, w["leak"], 999, "王敏", "原因"),
    ),
    "merge into itself": (
        actions.InvalidMerge,
        lambda s, cfg, w: actions.merge(s, cfg, w["leak"], w["leak"], "王敏", "原因"),
    ),
    "merge into a closed incident": (
        actions.InvalidMerge,
        lambda s, cfg, w: actions.merge(s, cfg, w["leak"], w["closed"], "王敏", "原因"),
    ),
    "merge into a merged incident": (
        actions.InvalidMerge,
        lambda s, cfg, w: actions.merge(s, cfg, w["leak"], w["merged"], "王敏", "原因"),
    ),
    "merge a merged incident again": (
        actions.InvalidTransition,
        lambda s, cfg, w: actions.merge(s, cfg, w["merged"], w["leak"], "王敏", "原因"),
    ),
    "merge without a reason": (
        actions.MissingReason,
        lambda s, cfg, w: actions.merge(s, cfg, w["leak"], w["lost"], "王敏", "  "),
    ),
    "merge without saying who": (
        actions.MissingActor,
        lambda s, cfg, w: actions.merge(s, cfg, w["leak"], w["lost"], "", "原因"),
    ),
    "split off every mention": (
        actions.InvalidSplit,
        lambda s, cfg, w: actions.split(s, cfg, w["leak"], w["leak_ids"], "王敏", "原因"),
    ),
    "split off no mention": (
        actions.InvalidSplit,
        lambda s, cfg, w: actions.split(s, cfg, w["leak"], [], "王敏", "原因"),
    ),
    "split off another incident's mention": (
        actions.InvalidSplit,
        lambda s, cfg, w: actions.split(
            s, cfg, w["leak"], [w["leak_ids"][0], w["lost_ids"][0]], "王敏", "原因"
        ),
    ),
    "split off an unknown mention": (
        actions.InvalidSplit,
        lambda s, cfg, w: actions.split(s, cfg, w["leak"], [999], "王敏", "原因"),
    ),
    "split a closed incident": (
        actions.InvalidTransition,
        lambda s, cfg, w: actions.split(s, cfg, w["closed"], [1], "王敏", "原因"),
    ),
    "split an unknown incident": (
        actions.UnknownIncident,
        lambda s, cfg, w: actions.split(s, cfg, 999, [1], "王敏", "原因"),
    ),
    "override with an unknown level": (
        actions.InvalidLevel,
        lambda s, cfg, w: actions.override_level(s, cfg, w["leak"], "V", "王敏", "原因"),
    ),
    "override without a reason": (
        actions.MissingReason,
        lambda s, cfg, w: actions.override_level(s, cfg, w["leak"], "II", "王敏", ""),
    ),
    "clear an override that is not there": (
        actions.InvalidLevel,
        lambda s, cfg, w: actions.override_level(s, cfg, w["leak"], None, "王敏", "原因"),
    ),
    "override a merged incident": (
        actions.InvalidTransition,
        lambda s, cfg, w: actions.override_level(s, cfg, w["merged"], "II", "王敏", "原因"),
    ),
    "close a closed incident": (
        actions.InvalidTransition,
        lambda s, cfg, w: actions.close(s, cfg, w["closed"], "王敏", "原因"),
    ),
    "close a merged incident": (
        actions.InvalidTransition,
        lambda s, cfg, w: actions.close(s, cfg, w["merged"], "王敏", "原因"),
    ),
    "close without a reason": (
        actions.MissingReason,
        lambda s, cfg, w: actions.close(s, cfg, w["leak"], "王敏", ""),
    ),
    "reopen an open incident": (
        actions.InvalidTransition,
        lambda s, cfg, w: actions.reopen(s, cfg, w["leak"], "王敏", "原因"),
    ),
    "reopen an unknown incident": (
        actions.UnknownIncident,
        lambda s, cfg, w: actions.reopen(s, cfg, 999, "王敏", "原因"),
    ),
}


@pytest.mark.parametrize("case", BAD)
def test_a_refused_decision_names_the_problem_and_changes_nothing(db, settings, states, case):
    error, decide = BAD[case]
    before = snapshot(db)

    with pytest.raises(error) as caught, db.transaction() as session:
        decide(session, settings, states)

    assert isinstance(caught.value, ValueError) and str(caught.value)
    assert snapshot(db) == before


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, ["incident", *args])


def test_yuqing_incident_lists_shows_and_merges(db, world):
    listed = json.loads(cli("list", "--json").stdout)
    assert {r["id"] for r in listed} == {world["leak"], world["lost"]}
    assert all(r["status"] == "open" and r["rules_fired"] >= 1 for r in listed)

    done = cli("merge", str(world["leak"]), "--into", str(world["lost"]), "--reason", "同一事件")
    assert done.exit_code == 0, done.output
    assert f"事件 #{world['leak']} 已并入事件 #{world['lost']}" in done.stderr

    assert [r["id"] for r in json.loads(cli("list", "--json").stdout)] == [world["lost"]]
    every = {r["id"]: r for r in json.loads(cli("list", "--all", "--json").stdout)}
    assert every[world["leak"]]["merged_into"] == world["lost"]
    table = cli("list", "--all").stdout
    assert "已合并" in table and f"→#{world['lost']}" in table

    shown = json.loads(cli("show", str(world["lost"]), "--json").stdout)
    assert shown["mention_count"] == 4 and shown["spread"]["mentions"] == 4
    assert len(shown["mentions"]) == 4 and shown["fired_rules"]
    assert [h["action"] for h in shown["history"]][-1] == "incident.merge"
    text = cli("show", str(world["lost"])).stdout
    assert "传播：" in text and "处置记录：" in text and "合并：同一事件" in text
    assert f"#{world['leak_ids'][0]} " in text
    assert "已并入事件" in cli("show", str(world["leak"])).stdout


def test_yuqing_incident_splits_sets_the_level_closes_and_reopens(db, world):
    ids = ",".join(str(n) for n in world["leak_ids"])
    assert (
        cli("merge", str(world["leak"]), "--into", str(world["lost"]), "--reason", "r").exit_code
        == 0
    )
    split = cli(
        "split",
        str(world["lost"]),
        "--mentions",
        ids,
        "--reason",
        "两件事",
        "--title",
        "倒卖",
        "--by",
        "李强",
    )
    assert split.exit_code == 0, split.output
    new = max(r["id"] for r in json.loads(cli("list", "--json").stdout))
    assert json.loads(cli("show", str(new), "--json").stdout)["title"] == "倒卖"

    raised = cli("level", str(new), "I", "--reason", "央视报道", "--by", "赵雪")
    assert raised.exit_code == 0, raised.output
    shown = json.loads(cli("show", str(new), "--json").stdout)
    assert (shown["level"], shown["override_reason"]) == ("I", "央视报道")
    assert "人工定级，原因：央视报道" in cli("show", str(new)).stdout
    cleared = cli("level", str(new), "--clear", "--reason", "误判")
    assert cleared.exit_code == 0, cleared.output
    assert json.loads(cli("show", str(new), "--json").stdout)["level_override"] is None

    assert cli("close", str(new), "--reason", "已处置").exit_code == 0
    assert new not in [r["id"] for r in json.loads(cli("list", "--json").stdout)]
    assert "已关闭" in cli("show", str(new)).stdout
    assert cli("reopen", str(new), "--reason", "新帖").exit_code == 0
    history = json.loads(cli("show", str(new), "--json").stdout)["history"]
    assert [h["action"] for h in history] == [
        "incident.open",
        "incident.level",
        "incident.level_override",
        "incident.level_override",
        "incident.close",
        "incident.reopen",
    ]
    assert history[1]["actor"] == "李强" and history[2]["actor"] == "赵雪"


@pytest.mark.parametrize(
    "args",
    [
        ["merge", "{leak}", "--into", "{leak}", "--reason", "r"],
        ["merge", "{leak}", "--into", "999", "--reason", "r"],
        ["split", "{leak}", "--mentions", "3,x", "--reason", "r"],
        ["split", "{leak}", "--mentions", "{leak_ids}", "--reason", "r"],
        ["level", "{leak}", "--reason", "r"],
        ["level", "{leak}", "II", "--clear", "--reason", "r"],
        ["level", "{leak}", "V", "--reason", "r"],
        ["level", "{leak}", "II", "--reason", " "],
        ["close", "{leak}", "--reason", "r", "--by", " "],
        ["reopen", "{leak}", "--reason", "r"],
        ["show", "999"],
    ],
)
def test_a_refused_command_prints_an_error_exits_2_and_changes_nothing(db, world, args):
    before = snapshot(db)
    values = {"leak": world["leak"], "leak_ids": ",".join(map(str, world["leak_ids"]))}

    done = cli(*[a.format(**values) for a in args])

    assert done.exit_code == 2, done.output
    assert done.stderr.startswith("error: ")
    assert snapshot(db) == before


def test_the_incident_page_shows_spread_status_override_and_the_audit_history(db, settings, world):
    script = '<script>alert("x")</script>'
    with db.transaction() as session:
        actions.merge(session, settings, world["leak"], world["lost"], "王敏", f"同一事件{script}")
        actions.override_level(session, settings, world["lost"], "II", "赵雪", "省级媒体已关注")
    client = client_as(settings, db)

    page = client.get(f"/incidents/{world['lost']}").text

    assert "传播情况" in page and "信源 1 个" in page and "个人账号 4 条" in page
    assert "近6小时" in page and "转发 未知" in page
    assert "人工定级 重大（II级），原因：省级媒体已关注" in page
    assert "处置记录" in page and "合并" in page and "人工定级" in page
    assert "同一事件&lt;script&gt;" in page and "<script>" not in page
    assert f"#{world['leak_ids'][0]}" in page
    merged = client.get(f"/incidents/{world['leak']}").text
    assert "已合并" in merged and f'href="/incidents/{world["lost"]}"' in merged


@pytest.fixture
def others(db, settings) -> None:  # type: ignore[no-untyped-def]
    """A disabled duty officer and a leader: neither may decide on incidents."""
    from responder.accounts import set_disabled

    ensure_user(db, "周停", "duty")
    ensure_user(db, "刘局", "leader")
    with db.transaction() as session:
        set_disabled(session, "周停", True, "test")


@pytest.mark.parametrize(
    ("who", "why"),
    [("无此人", "没有用户 无此人"), ("周停", "用户 周停 已停用"), ("刘局", "只有值班员")],
)
def test_only_an_enabled_account_whose_role_may_decide_can_decide(
    db, settings, world, others, who, why
):
    before = snapshot(db)

    with pytest.raises(actions.NotPermitted, match=why), db.transaction() as session:
        actions.close(session, settings, world["leak"], who, "已处置")

    assert snapshot(db) == before
    with db.transaction() as session:
        assert actions.close(session, settings, world["leak"], "王敏", "已处置").status == "closed"


@pytest.mark.parametrize(
    ("who", "why"),
    [
        ("无此人", "no account named '无此人'"),
        ("周停", "'周停' is disabled"),
        ("刘局", "'刘局' has the role leader; only duty, admin may decide on incidents"),
    ],
)
def test_the_cli_refuses_a_by_that_may_not_decide_and_changes_nothing(db, world, others, who, why):
    before = snapshot(db)

    done = cli("close", str(world["leak"]), "--reason", "已处置", "--by", who)

    assert done.exit_code == 2, done.output
    assert done.stderr.startswith("error: ") and why in done.stderr
    assert snapshot(db) == before
    allowed = cli("close", str(world["leak"]), "--reason", "已处置", "--by", "赵雪")
    assert allowed.exit_code == 0, allowed.output
