"""The pages people open from an alert on their phone — the acknowledgement link, the incident,
the dashboard and a mention — in Chromium as a 390×844 touch phone: nothing scrolls sideways
(tables turn into cards), every button is at least 44 px high (a fingertip), and no visible text
is smaller than 14 px. Each page is saved as a screenshot for a person to look at."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from responder import clock
from responder.models import Mention, Notice
from responder.notices.acks import ack_token
from responder.notices.escalation import notify_all
from tests.test_web_incidents import LEAK, LOST, SCAM, log_in, make_incident
from tests.webclient import ensure_user

pytestmark = pytest.mark.slow

PHONE = {"width": 390, "height": 844}
MIN_BUTTON = 44
MIN_TEXT = 14

# What a page must not do on a phone, gathered by the browser itself (page.evaluate, which the
# Content-Security-Policy allows; a string given to wait_for_function would be an inline eval).
MEASURE = """(limit) => {
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const name = (el) => el.tagName.toLowerCase() + (el.className ? '.' + el.className : '')
    + ' «' + (el.innerText || el.value || '').trim().slice(0, 20) + '»';
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (visible(el) && r.right > limit.width + 0.5) {
      wide.push(name(el) + ' right=' + Math.round(r.right));
    }
  }
  const small_buttons = [];
  for (const el of document.querySelectorAll('button, input[type=submit]')) {
    const h = el.getBoundingClientRect().height;
    if (visible(el) && h < limit.button) small_buttons.push(name(el) + ' h=' + h);
  }
  const small_text = [];
  for (const el of document.body.querySelectorAll('*')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (own && visible(el) && size < limit.text) small_text.push(name(el) + ' ' + size + 'px');
  }
  return {
    scroll_width: document.documentElement.scrollWidth,
    inner_width: window.innerWidth,
    body_font: parseFloat(getComputedStyle(document.body).fontSize),
    wide: wide.slice(0, 8),
    small_buttons: small_buttons.slice(0, 8),
    small_text: [...new Set(small_text)].slice(0, 12),
  };
}"""


def phone(chromium: Any) -> Any:
    context = chromium.new_context(
        viewport=PHONE, has_touch=True, is_mobile=True, device_scale_factor=3, locale="zh-CN"
    )
    return context.new_page()


def problems(page: Any, screens: Any, label: str) -> list[str]:
    """What is wrong with the page as a phone shows it (nothing, when it lays out well)."""
    screens(page, label)
    m = page.evaluate(MEASURE, {"width": PHONE["width"], "button": MIN_BUTTON, "text": MIN_TEXT})
    found = []
    # The layout viewport itself must stay the phone's width: a page wider than the screen
    # makes mobile Chromium zoom out, which would hide the overflow from innerWidth alone.
    if m["scroll_width"] > min(m["inner_width"], PHONE["width"]):
        found.append(f"{label}: {m['scroll_width']} px wide on a {m['inner_width']} px screen")
        found += [f"{label}:   too wide: {w}" for w in m["wide"]]
    found += [f"{label}: button under {MIN_BUTTON} px: {b}" for b in m["small_buttons"]]
    if m["body_font"] < MIN_TEXT:
        found.append(f"{label}: body text {m['body_font']} px")
    found += [f"{label}: text under {MIN_TEXT} px: {t}" for t in m["small_text"]]
    return found


@pytest.fixture
def world(settings, db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Three open incidents with notices sent; the leak (III) has one waiting for its ack, and a
    provincial paper reprinted its first post (the chain of who posted first and who amplified)."""
    with db.transaction() as session:
        ids = {
            name: make_incident(session, settings, spec, hours=n).id
            for n, (name, spec) in enumerate((("leak", LEAK), ("lost", LOST), ("scam", SCAM)))
        }
        first, second = session.scalars(
            select(Mention).where(Mention.incident_id == ids["leak"]).order_by(Mention.id)
        )
        second.outlet, second.reprint_of, second.reposts = "东川日报", first.id, 340
        notify_all(session, settings, clock.now())
        ids["notice"] = (
            session.scalars(
                select(Notice).where(
                    Notice.incident_id == ids["leak"], Notice.next_step_at.is_not(None)
                )
            )
            .one()
            .id
        )
        ids["mention"] = session.scalars(
            select(Mention.id).where(Mention.incident_id == ids["leak"]).limit(1)
        ).one()
    return ids


def test_duty_reads_the_dashboard_an_incident_and_a_mention_on_a_phone(
    settings, db, world, live_server, chromium, screens
):
    url = live_server.url
    ensure_user(db, "王敏", "duty")
    page = phone(chromium)
    log_in(page, url, "王敏")
    found = []
    # What each page must show while it is measured: the dashboard's SVG charts, the incident's
    # chain of who posted first and who amplified it.
    for path, label, shows, count in (
        ("/", "dashboard", ".bar-chart a.bar", 4),  # 临江论坛, 东川日报; three categories
        (f"/incidents/{world['leak']}", "incident", "table.chain tr[data-role]", 2),
        (f"/mentions/{world['mention']}", "mention", "h2", 1),
    ):
        answer = page.goto(f"{url}{path}")
        assert answer is not None and answer.status == 200, path
        assert page.locator(shows).count() >= count, (path, shows)
        found += problems(page, screens, f"duty-{label}")
    # A chart's bar is a link a fingertip can follow: tapping a category opens its mentions.
    page.goto(f"{url}/")
    bar = page.locator(".bar-chart a.bar[href*='category=']").first
    count = bar.get_attribute("data-count")
    bar.tap()
    page.wait_for_url("**/mentions?*category=*")
    assert page.get_by_text(f"共 {count} 条").is_visible()
    # The decisions stay within reach: the level form's button is on screen, not off its edge.
    page.goto(f"{url}/incidents/{world['leak']}")
    assert page.get_by_role("button", name="确定定级").is_visible()
    page.context.close()
    assert not found, "\n".join(found)


def test_a_leader_acknowledges_from_the_link_and_reads_the_incident_on_a_phone(
    settings, db, world, live_server, chromium, screens
):
    url = live_server.url
    ensure_user(db, "陈局长", "leader")
    token = ack_token(settings, world["notice"], "chen.juzhang@linjiang-stats.example")
    page = phone(chromium)
    found = []
    answer = page.goto(f"{url}/ack/{token}")
    assert answer is not None and answer.status == 200
    found += problems(page, screens, "leader-ack")
    page.get_by_role("button", name="确认收到").tap()
    page.locator(".ack-done").wait_for()
    found += problems(page, screens, "leader-ack-done")

    log_in(page, url, "陈局长")
    answer = page.goto(f"{url}/incidents/{world['leak']}")
    assert answer is not None and answer.status == 200
    found += problems(page, screens, "leader-incident")
    page.context.close()
    assert not found, "\n".join(found)
