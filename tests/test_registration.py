"""登记舆情: a mention received by phone or a visit, recorded in the web UI or with `yuqing add`,
stored like a crawled one (masked, de-duplicated, audited with who recorded it) and carried by
the next cycle to an incident and a notice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from typer.testing import CliRunner

from responder import clock
from responder.cli import app
from responder.db import Database
from responder.intake.registration import (
    ACTION,
    SOURCE_KIND,
    Registration,
    RegistrationError,
    register,
)
from responder.models import AuditEntry, Incident, Mention, Notice, Source
from responder.running.cycle import Cycle
from responder.settings import Settings
from tests.webclient import client_as, csrf, ensure_user

PHONE, ID_NUMBER = "13812345678", "110101199003071233"
CALL = (
    "群众来电反映：有人冒充临江县普查员到青石镇上门，索要银行卡号和短信验证码，"
    "已有两位老人被骗走三万元，请统计局尽快核实处理。"
)
LEAKED = f"来电人称普查员把她的身份证号{ID_NUMBER}和手机号{PHONE}发到了业主群里，要求统计局说明。"


def earlier(settings: Settings, hours: int = 3) -> str:
    """A time some hours before the (pinned) clock, as a person types it in office time."""
    return (clock.now() - timedelta(hours=hours)).astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")


def mentions(db: Database) -> list[Mention]:
    with db.sessions() as session:
        return list(
            session.scalars(
                select(Mention).options(selectinload(Mention.judgements)).order_by(Mention.id)
            )
        )


def registrations(db: Database) -> list[AuditEntry]:
    with db.sessions() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == ACTION)))


def record(settings: Settings, db: Database, recorder: str = "值班员甲", **fields: str):  # type: ignore[no-untyped-def]
    form = Registration(**{"channel": "phone", "text": CALL, **fields})  # type: ignore[arg-type]
    with db.transaction() as session:
        return register(session, settings, form, recorder)


@pytest.fixture
def officer(db: Database) -> str:
    ensure_user(db, "值班员甲", "duty")
    return "值班员甲"


def test_a_phone_call_is_stored_under_a_manual_source_with_who_recorded_it(settings, db, officer):
    at = (clock.now() - timedelta(hours=2)).astimezone(settings.tz)
    done = record(
        settings, db, who="青石镇村民王某", time=at.strftime("%Y-%m-%d %H:%M"), title="冒充普查员"
    )

    assert not done.duplicate
    [mention] = mentions(db)
    assert mention.id == done.mention_id
    assert mention.text == CALL and mention.title == "冒充普查员"
    assert mention.author == "青石镇村民王某"
    assert mention.url.startswith("manual:")
    assert mention.published_at == at.replace(second=0, microsecond=0)
    assert "普查员" in mention.keywords_matched
    assert not mention.judgements and not mention.triaged  # the cycle judges it
    with db.sessions() as session:
        source = session.get(Source, mention.source_id)
        assert source is not None and (source.kind, source.name) == (SOURCE_KIND, "电话登记")
    [entry] = registrations(db)
    assert (entry.actor, entry.object_type, entry.object_id) == (
        officer,
        "mention",
        str(done.mention_id),
    )
    assert entry.after is not None and entry.after["channel"] == "phone"


def test_the_time_defaults_to_now_and_each_channel_has_its_own_source(settings, db, officer):
    before = clock.now()
    record(settings, db)
    record(
        settings,
        db,
        channel="visit",
        text="来访群众反映城关街道普查员态度恶劣，多次催促填表还出言不逊。",
    )

    phone, visit = mentions(db)
    assert phone.published_at is not None and phone.published_at >= before.replace(microsecond=0)
    with db.sessions() as session:
        names = set(session.scalars(select(Source.name).where(Source.kind == SOURCE_KIND)))
    assert names == {"电话登记", "来访登记"}
    assert visit.source_id != phone.source_id


def test_personal_data_is_masked_in_the_text_and_the_caller(settings, db, officer):
    record(settings, db, text=LEAKED, who=f"张女士 {PHONE}")

    [mention] = mentions(db)
    assert ID_NUMBER not in mention.text and PHONE not in mention.text
    assert PHONE not in mention.author and mention.author.startswith("张女士")


def test_the_same_words_recorded_twice_are_one_mention(settings, db, officer):
    at = earlier(settings)
    first = record(settings, db, time=at)
    again = record(settings, db, time=at, who="另一位值班员听到的同一通电话")

    assert again.duplicate and again.mention_id == first.mention_id
    assert len(mentions(db)) == 1
    assert len(registrations(db)) == 1


@pytest.mark.parametrize(
    ("fields", "chinese", "english"),
    [
        ({"text": "  "}, "请填写内容", "text is empty"),
        ({"text": "太短了"}, "内容太短", "shorter than"),
        ({"channel": "fax"}, "请选择渠道", "unknown channel"),
        ({"time": "上周某天"}, "无法识别时间", "unreadable time"),
        ({"time": "2099-01-01 08:00"}, "时间不能晚于现在", "in the future"),
        ({"who": "某" * 201}, "来电人或媒体过长", "caller or outlet"),
    ],
)
def test_bad_input_is_refused_naming_what_is_wrong_and_stores_nothing(
    settings, db, officer, fields, chinese, english
):
    with pytest.raises(RegistrationError) as refused:
        record(settings, db, **fields)

    assert chinese in refused.value.chinese and english in refused.value.english
    assert mentions(db) == [] and registrations(db) == []


@pytest.mark.parametrize(("name", "role"), [("领导乙", "leader"), ("nobody", None)])
def test_only_enabled_duty_press_or_admin_accounts_may_register(settings, db, name, role):
    if role:
        ensure_user(db, name, role)

    with pytest.raises(RegistrationError, match="只有值班员、宣传/审核、管理员可以登记舆情"):
        record(settings, db, recorder=name)
    assert mentions(db) == []


def test_a_duty_officer_registers_on_the_page_and_sees_it_among_the_mentions(settings, db):
    at = earlier(settings)
    client = client_as(settings, db, "duty", "值班员甲")
    page = client.get("/register")
    assert page.status_code == 200 and "登记舆情" in page.text
    assert 'href="/register"' in client.get("/").text  # in the navigation

    done = client.post(
        "/register",
        data={
            "csrf_token": csrf(page.text),
            "channel": "visit",
            "who": "来访群众",
            "time": at.replace(" ", "T"),
            "title": "",
            "text": CALL,
        },
        follow_redirects=False,
    )

    assert done.status_code == 303
    [mention] = mentions(db)
    assert done.headers["location"] == f"/mentions/{mention.id}"
    assert mention.published_at is not None
    assert mention.published_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M") == at
    shown = client.get(done.headers["location"])
    assert "已登记" in shown.text and "来访群众" in shown.text
    listed = client.get("/register").text
    assert "来访" in listed and "值班员甲" in listed  # recent registrations, with the recorder


def test_a_refused_form_comes_back_with_the_reason_and_what_was_typed(settings, db):
    client = client_as(settings, db, "duty")
    token = csrf(client.get("/register").text)

    refused = client.post(
        "/register",
        data={"csrf_token": token, "channel": "phone", "who": "王某", "time": "明天", "text": CALL},
    )

    assert refused.status_code == 400
    assert "无法识别时间" in refused.text and "王某" in refused.text and CALL in refused.text
    assert mentions(db) == []


@pytest.mark.parametrize("role", ["press", "admin"])
def test_the_press_office_and_admin_may_register_and_a_repeat_links_to_the_stored_one(
    settings, db, role
):
    client = client_as(settings, db, role)
    form = {"channel": "mailbox", "who": "", "time": "", "title": "", "text": CALL}

    first = client.post(
        "/register",
        data={**form, "csrf_token": csrf(client.get("/register").text)},
        follow_redirects=False,
    )
    again = client.post(
        "/register", data={**form, "csrf_token": csrf(client.get("/register").text)}
    )

    assert first.status_code == 303
    [mention] = mentions(db)
    assert again.status_code == 200 and f"信息 #{mention.id}" in again.text
    assert "未重复保存" in again.text
    assert [e.actor for e in registrations(db)] == [f"test-{role}"]


def test_a_leader_may_not_register(settings, db):
    client = client_as(settings, db, "leader")

    assert client.get("/register").status_code == 403
    assert 'href="/register"' not in client.get("/").text
    token = csrf(client.get("/").text)
    refused = client.post("/register", data={"csrf_token": token, "channel": "phone", "text": CALL})
    assert refused.status_code == 403
    assert mentions(db) == []


def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_yuqing_add_records_a_call_from_the_command_line(settings, db, officer):
    code, out, err = invoke(
        "add", "--channel", "phone", "--by", officer, "--time", earlier(settings), "--text", CALL
    )
    assert code == 0, err
    assert "stored mention" in out

    code, out, err = invoke("add", "--channel", "visit", "--by", officer, stdin=LEAKED)
    assert code == 0, err
    code, out, _ = invoke("add", "--by", officer, "--text", CALL)
    assert code == 0 and "already stored" in out

    stored = mentions(db)
    assert len(stored) == 2 and ID_NUMBER not in stored[1].text
    assert [e.actor for e in registrations(db)] == [officer, officer]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--text", CALL], "--by NAME is required"),
        (["--by", "nobody", "--text", CALL], "not an enabled account"),
        (["--by", "值班员甲", "--channel", "fax", "--text", CALL], "unknown channel"),
        (["--by", "值班员甲", "--time", "soon", "--text", CALL], "unreadable time"),
        (["--by", "值班员甲", "--text", ""], "text is empty"),
    ],
)
def test_yuqing_add_refuses_bad_input_in_english_and_stores_nothing(
    settings, db, officer, args, message
):
    code, _, err = invoke("add", *args)

    assert code == 2 and message in err and "nothing stored" in err
    assert mentions(db) == []


def test_a_mention_recorded_by_phone_reaches_an_incident_and_a_notice(
    settings, db, officer, mail_sink
):
    done = record(settings, db, who="青石镇村民")

    Cycle(settings, db).run(crawl=False)

    with db.sessions() as session:
        mention = session.get(Mention, done.mention_id)
        assert mention is not None and mention.judgement is not None
        assert mention.judgement.sentiment == "negative"
        assert mention.judgement.category == "scam"
        assert mention.incident_id is not None
        incident = session.get(Incident, mention.incident_id)
        assert incident is not None and incident.status == "open"
        assert session.scalar(
            select(func.count(Notice.id)).where(Notice.incident_id == incident.id)
        )
