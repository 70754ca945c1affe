"""A logged-in test client: a user of the given role made in the database, then the real
login form (with its CSRF token) filled in."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from responder.accounts import add_user, find
from responder.db import Database
from responder.settings import Settings
from responder.web import create_app

PASSWORD = "correct horse 1"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(page_html: str) -> str:
    found = _TOKEN.search(page_html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def ensure_user(db: Database, name: str, role: str) -> None:
    with db.transaction() as session:
        if find(session, name) is None:
            add_user(session, name, role, f"{name}@example.org", PASSWORD, "test")


def log_in(client: TestClient, name: str, password: str = PASSWORD) -> TestClient:
    token = csrf(client.get("/login").text)
    done = client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    return client


def client_as(
    settings: Settings, db: Database, role: str = "duty", name: str | None = None
) -> TestClient:
    name = name or f"test-{role}"
    ensure_user(db, name, role)
    return log_in(TestClient(create_app(settings, db)), name)
