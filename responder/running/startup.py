"""Checks before `yuqing demo`, `run` and `web` start anything: the problems people meet in their
first minutes (a port another instance holds, a database or mail server that does not answer,
no Chinese font for the charts) become one line in Chinese and English saying what to change,
instead of a traceback from deep inside a server.

A busy port or an unreachable database stops the command (exit status 2, as for a
configuration error): nothing would work half-started. An unreachable SMTP server and a
missing font only warn: notices wait in the outbox until mail is back, and everything but the
chart labels works without the font."""

from __future__ import annotations

import errno
import logging
import smtplib
import socket
from dataclasses import dataclass

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import NullPool

from responder.settings import Settings

log = logging.getLogger(__name__)
# Seconds to wait for the database or the mail server before calling it unreachable: long
# enough for a slow network, short enough that a person is not left staring at nothing.
CONNECT_TIMEOUT = 5
DATABASE_SETTING = "YUQING_DATABASE__URL（config/settings.toml [database] url）"
SMTP_SETTING = "YUQING_MAIL__SMTP_HOST / YUQING_MAIL__SMTP_PORT（[mail] smtp_host / smtp_port）"


class StartupProblem(Exception):
    """A problem the person starting yuqing can fix; the message says how, in one line."""


@dataclass(frozen=True)
class Listener:
    """One port a command is about to listen on, and how a person would choose another."""

    host: str
    port: int
    what_zh: str
    what_en: str
    setting: str  # the environment variable (or option) that moves it

    def busy(self) -> StartupProblem:
        return StartupProblem(
            f"{self.what_zh}端口 {self.port} 已被占用（可能已有一个 yuqing 在运行）："
            f"请先停止它，或设置 {self.setting}。"
            f" {self.what_en}port {self.port} is in use (perhaps another yuqing is running): "
            f"stop it first, or set {self.setting}."
        )


def web_listener(host: str, port: int, option: bool = True) -> Listener:
    setting = "YUQING_WEB__PORT / --port" if option else "YUQING_WEB__PORT"
    return Listener(host, port, "网页界面", "Web UI ", setting)


def demo_listeners(settings: Settings) -> list[Listener]:
    """The demo's own servers; port 0 means "any free port", which cannot be busy."""
    found = [
        Listener(
            "127.0.0.1",
            settings.demo.world_port,
            "演示新闻站",
            "Demo news site ",
            "YUQING_DEMO__WORLD_PORT",
        ),
        Listener(
            "127.0.0.1",
            settings.demo.mail_port,
            "演示邮件接收（SMTP）",
            "Demo mail sink (SMTP) ",
            "YUQING_DEMO__MAIL_PORT",
        ),
        Listener(
            "127.0.0.1",
            settings.demo.imap_port,
            "演示局长信箱（IMAP）",
            "Demo mailbox (IMAP) ",
            "YUQING_DEMO__IMAP_PORT",
        ),
    ]
    return [listener for listener in found if listener.port]


def in_use(host: str, port: int) -> bool:
    """True when something already listens on host:port (as for a server about to start)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        # Servers set SO_REUSEADDR, so the TIME_WAIT leftovers of an instance that just stopped
        # do not keep them from starting; they must not count as busy here either.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def check_ports(listeners: list[Listener]) -> None:
    for listener in listeners:
        if in_use(listener.host, listener.port):
            raise listener.busy()


def explain_bind_error(exc: OSError, listeners: list[Listener]) -> StartupProblem | None:
    """A port taken between the check and the start (a race) still gets the one-line answer."""
    if exc.errno != errno.EADDRINUSE:
        return None
    for listener in listeners:
        if in_use(listener.host, listener.port):
            return listener.busy()
    return None


def check_font() -> None:
    """Look for the charts' Chinese font now, so a missing one is reported (one line, logged
    by `charts.cjk_font`) among the start-up messages rather than at the first chart."""
    # charts loads matplotlib (about a second); only this check and the reports need it.
    from responder.reports.charts import cjk_font

    cjk_font()


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__


def check_database(settings: Settings) -> None:
    """Connect once to a database server; SQLite (a file in the data directory) needs none.
    The line names the host and port, never the URL: it may hold the password."""
    raw = settings.database_url
    if raw.startswith("sqlite"):
        return
    try:
        url = make_url(raw)
    except ArgumentError:
        raise StartupProblem(
            f"数据库地址无法识别：请在 {DATABASE_SETTING} 中改正，如"
            " postgresql+psycopg://用户:密码@主机:5432/库名。"
            f" The database URL cannot be read: fix {DATABASE_SETTING},"
            " e.g. postgresql+psycopg://user:password@host:5432/name."
        ) from None
    where = f"{url.host or 'localhost'}:{url.port or ''}".rstrip(":")
    args = {"connect_timeout": CONNECT_TIMEOUT} if url.get_backend_name() == "postgresql" else {}
    try:
        engine = create_engine(url, poolclass=NullPool, connect_args=args)
    except ImportError as exc:
        raise StartupProblem(
            f"数据库驱动 {exc.name} 未安装：请安装它，或在 {DATABASE_SETTING} 中改用"
            f" postgresql+psycopg://。 The database driver {exc.name} is not installed:"
            f" install it, or use postgresql+psycopg:// in {DATABASE_SETTING}."
        ) from None
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except DBAPIError as exc:
        reason = _reason(exc)
        raise StartupProblem(
            f"数据库 {where} 无法连接（{reason}）：请确认数据库已启动、地址和口令无误，"
            f"或在 {DATABASE_SETTING} 中改正。"
            f" Database {where} is unreachable ({reason}): start it and check its address"
            f" and password, or fix {DATABASE_SETTING}."
        ) from None
    finally:
        engine.dispose()


def check_smtp(settings: Settings) -> str | None:
    """Knock on the mail server; when nobody answers, warn (logged, and returned) that notices
    wait in the outbox. Not fatal: the sender retries and delivers them once it is back."""
    host, port = settings.mail.smtp_host, settings.mail.smtp_port
    try:
        if settings.mail.security == "ssl":
            # A TLS handshake needs the certificate settings; reaching the port is enough here.
            with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT):
                return None
        # Greeted and said goodbye to, so the server sees a polite client, not a dropped one.
        with smtplib.SMTP(host, port, timeout=CONNECT_TIMEOUT) as smtp:
            smtp.noop()
            return None
    except (OSError, smtplib.SMTPException) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    line = (
        f"邮件服务器 {host}:{port} 无法连接（{reason}）：通知先存入发件箱，恢复后自动补发；"
        f"请启动邮件服务器，或设置 {SMTP_SETTING}。"
        f" SMTP server {host}:{port} is unreachable ({reason}): notices wait in the outbox and"
        f" go out once it is back; start it, or set {SMTP_SETTING}."
    )
    log.warning("%s", line)
    return line
