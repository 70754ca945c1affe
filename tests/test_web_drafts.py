"""The drafts pages: the review queue with overdue flags, a draft's editor and history, the
approval rules as the browser meets them, and exports of approved drafts only."""

from __future__ import annotations

import email
import re
from datetime import timedelta
from email.policy import default as email_policy

import pytest
from docx import Document
from sqlalchemy import select

from responder import clock
from responder.delivery.outbox import drain
from responder.models import Draft, DraftEvent, OutboxMessage
from responder.replies.drafts import approve, edit
from tests.test_drafts_review import XSS, make_draft
from tests.webclient import PASSWORD, client_as, csrf, ensure_user


def body_of(db, draft_id: int) -> str:  # type: ignore[no-untyped-def]
    with db.sessions() as session:
        return session.get(Draft, draft_id).body


def test_a_script_in_a_draft_is_shown_and_exported_as_text(settings, db):
    draft_id = make_draft(db, settings, title=f"泄露{XSS}")
    ensure_user(db, "赵雪", "press")
    ensure_user(db, "钱明", "press")
    with db.transaction() as session:
        edit(session, draft_id, body_of(db, draft_id) + f"\n{XSS}\n", "赵雪")
        approve(session, draft_id, "钱明")
    client = client_as(settings, db, "leader")

    for path in ("/drafts", f"/drafts/{draft_id}"):
        page = client.get(path).text
        assert "<script>alert" not in page and "&lt;script&gt;alert(&#34;x&#34;)" in page
    page = client.get(f"/drafts/{draft_id}").text
    txt = client.post(
        f"/drafts/{draft_id}/export", data={"csrf_token": csrf(page), "format": "txt"}
    )
    assert txt.status_code == 200 and txt.headers["content-type"].startswith("text/plain")
    assert XSS in txt.content.decode("utf-8-sig")
    disposition = txt.headers["content-disposition"]
    assert f'filename="draft-{draft_id}.txt"' in disposition and "filename*=UTF-8''" in disposition
    assert "%3Cscript" not in disposition  # the crawled title is reduced to letters and digits


def test_an_unapproved_draft_cannot_be_exported(settings, db):
    draft_id = make_draft(db, settings)
    client = client_as(settings, db, "press")
    page = client.get(f"/drafts/{draft_id}").text
    assert "下载 .docx" not in page  # no export buttons before approval
    for kind in ("txt", "docx"):
        refused = client.post(
            f"/drafts/{draft_id}/export", data={"csrf_token": csrf(page), "format": kind}
        )
        assert refused.status_code == 400 and "只有已批准的草稿才能导出" in refused.text
    copied = client.post(f"/drafts/{draft_id}/copied", headers={"x-csrf-token": csrf(page)})
    assert copied.status_code == 400
    emailed = client.post(
        f"/drafts/{draft_id}/email",
        data={"csrf_token": csrf(page), "contact": settings.recipients.media[0].email},
    )
    assert "只有已批准的草稿" in emailed.text
    with db.sessions() as session:
        assert session.scalars(select(OutboxMessage)).all() == []
        assert session.scalars(select(DraftEvent.kind)).all() == ["created"]


@pytest.mark.parametrize("role", ["duty", "leader", "admin"])
def test_only_press_may_approve_reject_or_email(settings, db, role):
    draft_id = make_draft(db, settings)
    client = client_as(settings, db, role)
    token = csrf(client.get(f"/drafts/{draft_id}").text)
    for action in ("approve", "reject", "email"):
        refused = client.post(
            f"/drafts/{draft_id}/{action}", data={"csrf_token": token, "comment": "好"}
        )
        assert refused.status_code == 403 and "无权" in refused.text, action
    assert "审核</h3>" not in client.get(f"/drafts/{draft_id}").text
    with db.sessions() as session:
        assert session.get(Draft, draft_id).status == "pending"


def test_a_duty_officer_edits_but_a_leader_only_reads(settings, db):
    draft_id = make_draft(db, settings)
    duty = client_as(settings, db, "duty", "王敏")
    page = duty.get(f"/drafts/{draft_id}").text
    assert 'name="body"' in page
    saved = duty.post(
        f"/drafts/{draft_id}/edit",
        data={"csrf_token": csrf(page), "body": "值班员补充的事实\n", "seen": "0"},
    )
    assert "已保存修改" in saved.text and "值班员补充的事实" in saved.text
    leader = client_as(settings, db, "leader")
    page = leader.get(f"/drafts/{draft_id}").text
    assert 'name="body"' not in page and "值班员补充的事实" in page
    refused = leader.post(f"/drafts/{draft_id}/edit", data={"csrf_token": csrf(page), "body": "改"})
    assert refused.status_code == 403


def test_a_stale_edit_keeps_the_typed_text_and_changes_nothing(settings, db):
    draft_id = make_draft(db, settings)
    ensure_user(db, "赵雪", "press")
    client = client_as(settings, db, "press", "钱明")
    page = client.get(f"/drafts/{draft_id}").text
    with db.transaction() as session:
        edit(session, draft_id, "赵雪先改了\n", "赵雪")
    answer = client.post(
        f"/drafts/{draft_id}/edit",
        data={"csrf_token": csrf(page), "body": "钱明的长篇修改\n", "seen": "0"},
    )
    assert answer.status_code == 409 and "草稿已被 赵雪 修改过" in answer.text
    assert "钱明的长篇修改" in answer.text
    assert body_of(db, draft_id) == "赵雪先改了\n"


def test_the_queue_puts_waiting_drafts_first_and_flags_overdue_ones(settings, db):
    old = make_draft(db, settings, title="三天前的旧事件")
    new = make_draft(db, settings, title="刚刚发生的新事件")
    done = make_draft(db, settings, title="已经批准的事件")
    with db.transaction() as session:
        session.get(Draft, old).created_at = clock.now() - timedelta(days=3, hours=2)
        session.get(Draft, done).status = "approved"
    client = client_as(settings, db, "press")

    page = client.get("/drafts").text
    assert page.index("三天前的旧事件") < page.index("刚刚发生的新事件") < page.index("已经批准")
    assert page.count('class="tag overdue"') == 1 and "3天2小时" in page
    overdue = client.get("/drafts?status=overdue").text
    assert "三天前的旧事件" in overdue and "刚刚发生的新事件" not in overdue
    approved = client.get("/drafts?status=approved").text
    assert "已经批准" in approved and "三天前" not in approved
    assert client.get("/drafts?status=nonsense").status_code == 400
    assert f'href="/drafts/{new}"' in page


def log_in(page, base: str, name: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


@pytest.mark.slow
def test_two_press_users_edit_approve_and_export_a_draft_in_the_browser(
    settings, db, live_server, chromium, browser_page, screens, mail_sink
):
    expect = pytest.importorskip("playwright.sync_api").expect
    draft_id = make_draft(db, settings, title="网传临江县普查登记信息被倒卖")
    late = make_draft(db, settings, title="网友质疑一季度GDP增速")
    rejected = make_draft(db, settings, title="网传普查员冒充上门收取“登记费”")
    with db.transaction() as session:  # a fuller queue for the screenshot
        session.get(Draft, late).created_at = clock.now() - timedelta(hours=6, minutes=15)
        session.get(Draft, rejected).status = "rejected"
    ensure_user(db, "赵雪", "press")
    ensure_user(db, "钱明", "press")
    base, page = live_server.url, browser_page

    # 赵雪 edits the draft: the diff shows in the page and is stored.
    log_in(page, base, "赵雪")
    page.goto(f"{base}/drafts")
    screens(page, "queue")
    page.click(f"a[href='/drafts/{draft_id}']")
    body = page.locator("textarea[name=body]")
    text = body.input_value()
    body.fill(text.replace("高度重视", "高度重视并已报警", 1) + "\n联系电话：0571-12345678\n")
    page.fill("input[name=note]", "补充报警情况和联系电话")
    page.click("text=保存修改")
    expect(page.locator(".flash")).to_contain_text("已保存修改")
    expect(page.locator(".diff .dl.add mark").first).to_have_text("并已报警")
    expect(page.locator(".diff .dl.add").last).to_contain_text("联系电话：0571-12345678")
    screens(page, "edited-with-diff")
    with db.sessions() as session:
        event = session.scalars(select(DraftEvent).where(DraftEvent.kind == "edited")).one()
        assert event.actor == "赵雪" and "+联系电话：0571-12345678" in event.diff

    # 赵雪 may not approve her own edit.
    expect(page.locator("#review .warn")).to_contain_text("最后修改人")
    page.click("#review button:has-text('批准')")
    expect(page.locator(".flash.error")).to_contain_text("不能批准自己修改的内容")
    screens(page, "self-approval-refused")
    assert body_of(db, draft_id) and _status(db, draft_id) == "pending"

    # 钱明, in another browser context, approves it.
    other_context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    other = other_context.new_page()
    try:
        log_in(other, base, "钱明")
        other.goto(f"{base}/drafts/{draft_id}")
        other.fill("#review input[name=comment]", "同意，可以对外发布")
        other.click("#review button:has-text('批准')")
        expect(other.locator(".flash")).to_contain_text("已批准")
        expect(other.locator("h2 .tag")).to_have_text("已批准")
        screens(other, "approved-by-another")
        assert _status(db, draft_id) == "approved"

        # Exports: .txt and .docx downloads carry the approved text.
        with other.expect_download() as txt_download:
            other.click("text=下载 .txt")
        txt = txt_download.value
        assert txt.suggested_filename.endswith(f"草稿{draft_id}.txt")
        assert "联系电话：0571-12345678" in txt.path().read_text(encoding="utf-8-sig")
        with other.expect_download() as docx_download:
            other.click("text=下载 .docx")
        paragraphs = [p.text for p in Document(docx_download.value.path()).paragraphs]
        assert "联系电话：0571-12345678" in paragraphs
        assert any("高度重视并已报警" in p for p in paragraphs)

        # Copy to the clipboard is recorded as an export.
        other_context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
        other.click("#copy")
        expect(other.locator("#copy-status")).to_have_text("已复制到剪贴板")
        assert "联系电话" in other.evaluate("navigator.clipboard.readText()")

        # Email to the configured media contact, through the outbox to a real SMTP sink.
        contact = settings.recipients.media[0]
        other.select_option("select[name=contact]", contact.email)
        other.click("text=邮件发送给媒体")
        expect(other.locator(".flash")).to_contain_text("已加入发送队列")
        other.reload()
        screens(other, "exported-and-emailed")
        expect(other.locator("ol.events")).to_contain_text(f"发送给 {contact.name}")
    finally:
        other_context.close()

    with db.sessions() as session:
        message = session.scalars(select(OutboxMessage)).one()
        kinds = session.scalars(
            select(DraftEvent.comment).where(DraftEvent.kind.in_(["exported", "emailed"]))
        ).all()
    assert message.stage == "media_reply" and message.recipient == contact.email
    assert kinds == [
        "下载 .txt",
        "下载 .docx",
        "复制到剪贴板",
        f"发送给 {contact.name} <{contact.email}>",
    ]
    result = drain(db.sessions, settings.mail)
    assert result.sent == 1
    (eml,) = mail_sink.messages()
    sent = email.message_from_bytes(eml.read_bytes(), policy=email_policy)
    assert sent["To"].addresses[0].addr_spec == contact.email
    assert "联系电话：0571-12345678" in sent.get_body().get_content()
    assert re.search(r"高度重视并已报警", sent.get_body().get_content())


def _status(db, draft_id: int) -> str:  # type: ignore[no-untyped-def]
    with db.sessions() as session:
        return session.get(Draft, draft_id).status
