"""Notices built from hostile crawled text: every field quoting a page is bounded, so an
alert always fits under a mail server's size limit and is delivered."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

from responder import clock
from responder.db import Database
from responder.demo.mailsink import MailSink
from responder.running.cycle import Cycle
from responder.settings import load_settings
from tests.test_faults import add_mention


def test_a_nine_megabyte_sentence_with_a_loss_word_still_gets_its_alert_delivered(data_dir, ports):
    settings = load_settings(
        overrides={
            "duty": {
                "people": [{"name": "王敏", "email": "wangmin@example.org"}],
                "order": ["王敏"],
                "start": clock.today(load_settings().tz).isoformat(),
            },
            "recipients": {"leadership": [{"name": "陈局长", "email": "chen@example.org"}]},
            # Whatever level the page gets, its alert carries the report with 损失情况.
            "alerts": {"own_message_from": "IV", "immediate_from": "IV"},
        }
    )
    db = Database(settings)
    sink = MailSink(settings.data_dir / "mailbox", port=settings.mail.smtp_port).start()
    try:
        # One sentence, no 。！？ in it: 3 million characters, 9 MB of UTF-8.
        # A statement of loss (an amount leaked), so 损失情况 quotes it.
        page = "临江县统计局3万条人口普查登记信息泄露" + "，住户名单外流" * 430_000
        assert len(page.encode()) > 9_000_000
        add_mention(db, 1, page, clock.now())
        add_mention(db, 2, page + "第二条", clock.now())
        summary = Cycle(settings, db).run(crawl=False, now=clock.now())
        assert summary.emails_sent > 0
        mail = [m.read_bytes() for m in sink.messages()]
        assert mail and max(len(m) for m in mail) < 200_000
        # The messages carrying the report (the duty alert or 初报, whichever the level calls
        # for; a batch or digest lists incidents without one).
        bodies = [message_from_bytes(m, policy=policy.default) for m in mail]
        texts = [b.get_content() for b in bodies if isinstance(b, EmailMessage)]
        losses = next(line for text in texts for line in text.splitlines() if "损失情况" in line)
        assert "泄露" in losses and len(losses) <= settings.limits.field_chars + 20
        assert "（截断）" in losses
    finally:
        sink.stop()
        db.dispose()
