"""`yuqing demo`: the bundled news world, a local mail sink, the scheduler and the web UI."""

from __future__ import annotations

import logging
import uuid
from urllib.parse import urlsplit

import uvicorn
from sqlalchemy import make_url, select

from responder.accounts import add_user
from responder.db import Database
from responder.demo.mailbox import MAILBOX_USER
from responder.demo.mailsink import MailSink
from responder.demo.world import NOTICES, DemoWorld, DemoWorldServer
from responder.intake.watching import last_text
from responder.models import User
from responder.running.cycle import Cycle, CycleSummary, crawl_subprocess
from responder.running.scheduler import build_scheduler
from responder.settings import MailSettings, Settings
from responder.web import create_app

log = logging.getLogger(__name__)
# Demo accounts, one password for all, made when the demo database has no users. The duty
# officers and press staff bear the names of duty.yaml, so the dashboard knows who is on duty.
DEMO_PASSWORD = "yuqing-demo"
DEMO_USERS = (
    ("王敏", "duty"),
    ("李强", "duty"),
    ("赵雪", "press"),
    ("孙浩", "press"),
    ("陈局长", "leader"),
    ("admin", "admin"),
)


def seed_demo_users(db: Database) -> bool:
    """Add the demo accounts unless the database has users already; True when added."""
    with db.transaction() as session:
        if session.scalar(select(User.id).limit(1)) is not None:
            return False
        for name, role in DEMO_USERS:
            add_user(session, name, role, "", DEMO_PASSWORD, "demo")
    return True


def demo_settings(settings: Settings, mail_port: int) -> Settings:
    """Whatever SMTP server is configured, the demo delivers to its own sink."""
    mail = MailSettings(smtp_host="127.0.0.1", smtp_port=mail_port, sender=settings.mail.sender)
    return settings.model_copy(update={"mail": mail})


class Demo:
    def __init__(self, settings: Settings) -> None:
        self.world = DemoWorldServer(
            DemoWorld(settings.tz),
            port=settings.demo.world_port,
            imap_port=settings.demo.imap_port,
        )
        self.sink = MailSink(settings.data_dir / "mailbox", port=settings.demo.mail_port)
        self.settings = demo_settings(settings, self.sink.port)
        self.db = Database(self.settings)
        seed_demo_users(self.db)

    def __enter__(self) -> Demo:
        self.world.start()
        self.sink.start()
        self.read_earlier_notices()
        return self

    def read_earlier_notices(self) -> None:
        """A watched page's first read is only its baseline. So that the first cycle shows the
        latest notice of the 通知公告 column, the demo reads the column as it stood before that
        notice, once, before the cycle: on a fresh database only (later runs have their
        baseline)."""
        sources = [
            s.name
            for s in self.settings.sources
            if s.kind == "watch" and s.enabled and urlsplit(s.url).path == NOTICES
        ]
        with self.db.sessions() as session:
            known = [
                s.name
                for s in self.settings.sources
                if s.name in sources and last_text(session, s.url) is not None
            ]
        if not sources or known:
            return
        self.world.world.show_earlier_notices(True)
        try:
            crawl_subprocess(self.settings, f"demo-baseline-{uuid.uuid4().hex[:8]}", sources)
        finally:
            self.world.world.show_earlier_notices(False)

    def __exit__(self, *exc: object) -> None:
        self.sink.stop()
        self.world.stop()
        self.db.dispose()

    def _mailbox_url(self) -> str:
        mailbox = self.world.mailbox
        return f"{mailbox.url}（IMAP，用户 {MAILBOX_USER}，无密码）" if mailbox else "未启动"

    def once(self) -> CycleSummary:
        return Cycle(self.settings, self.db).run()

    def serve(self, announce: bool = True) -> None:
        """Run until Ctrl-C: the scheduler in the background, the web UI in this thread."""
        scheduler = build_scheduler(self.settings, Cycle(self.settings, self.db))
        web = self.settings.web
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(self.settings, self.db),
                host=web.host,
                port=web.port,
                log_level="warning",
            )
        )
        if announce:
            print(
                "yuqing 演示已启动 (Ctrl-C 停止)\n"
                f"  网页界面:   http://{web.host}:{web.port}/\n"
                f"  演示账号:   {'、'.join(f'{n}（{r}）' for n, r in DEMO_USERS)}，"
                f"密码均为 {DEMO_PASSWORD}\n"
                f"  演示新闻站: {self.world.base_url}/\n"
                f"  邮件 (.eml): {self.sink.handler.mailbox}\n"
                f"  局长信箱:   {self._mailbox_url()}\n"
                f"  数据库:     {make_url(self.settings.database_url).render_as_string()}\n"
                f"  每 {self.settings.schedule.cycle_minutes} 分钟运行一次采集-研判-处置周期",
                flush=True,
            )
        scheduler.start()
        try:
            server.run()
        finally:
            scheduler.shutdown(wait=True)
            log.info("demo stopped")
