"""Notices reach an SMTP server that requires STARTTLS or implicit TLS and a login, with the
server's certificate verified against the office's own CA, and the password never shown."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select

from responder.delivery.outbox import drain, enqueue
from responder.demo.mailsink import MailboxHandler, free_port
from responder.models import OutboxMessage
from responder.settings import MailSettings

PASSWORD = "s3cret-口令"


class Accounts:
    def __init__(self) -> None:
        self.logins: list[str] = []

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == PASSWORD.encode()
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "office-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def start(mailbox: Path, ca: trustme.CA, implicit: bool) -> tuple[Controller, Accounts, int]:
    accounts = Accounts()
    port = free_port()
    tls = server_context(ca)
    options: dict[str, Any] = (
        # aiosmtpd does not count implicit TLS as TLS when deciding to offer AUTH.
        {"ssl_context": tls, "auth_require_tls": False}
        if implicit
        else {"tls_context": tls, "require_starttls": True}
    )
    server = Controller(
        MailboxHandler(mailbox),
        hostname="127.0.0.1",
        port=port,
        authenticator=accounts,
        auth_required=True,
        **options,
    )
    server.start()
    return server, accounts, port


def deliver(db, mail: MailSettings) -> Any:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        enqueue(
            session, "k:1", "leader@example.org", "陈局长", "【舆情初报】测试", "正文", "initial"
        )
    return drain(db.sessions, mail)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_a_notice_goes_over_tls_with_a_login_verified_against_the_office_ca(
    db, tmp_path, ca, ca_file, security
):
    mailbox = tmp_path / "mailbox"
    server, accounts, port = start(mailbox, ca, implicit=security == "ssl")
    mail = MailSettings(
        smtp_port=port, security=security, username="yuqing", password=PASSWORD, ca_file=ca_file
    )
    try:
        result = deliver(db, mail)
    finally:
        server.stop()
    assert result.sent == 1, result
    assert accounts.logins == ["yuqing"]
    assert len(list(mailbox.glob("*.eml"))) == 1


def test_an_untrusted_certificate_or_a_wrong_password_delays_the_notice_without_leaking_it(
    db, tmp_path, ca, ca_file
):
    mailbox = tmp_path / "mailbox"
    server, accounts, port = start(mailbox, ca, implicit=False)
    try:
        untrusted = deliver(
            db,
            MailSettings(smtp_port=port, security="starttls", username="yuqing", password=PASSWORD),
        )
        with db.sessions() as session:
            error = session.scalars(select(OutboxMessage.last_error)).one() or ""
        wrong = MailSettings(
            smtp_port=port,
            security="starttls",
            username="yuqing",
            password="wrong-口令",
            ca_file=ca_file,
        )
        with db.transaction() as session:
            session.scalars(select(OutboxMessage)).one().next_attempt_at = session.scalars(
                select(OutboxMessage.created_at)
            ).one()
        refused = drain(db.sessions, wrong)
        with db.sessions() as session:
            refused_error = session.scalars(select(OutboxMessage.last_error)).one() or ""
    finally:
        server.stop()
    assert untrusted.deferred == 1 and "CERTIFICATE_VERIFY_FAILED" in error
    assert refused.deferred == 1 and "Authentication" in refused_error
    assert PASSWORD not in error + refused_error and "wrong-口令" not in refused_error
    assert accounts.logins == [] and not list(mailbox.glob("*.eml"))
