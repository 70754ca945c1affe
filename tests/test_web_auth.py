"""Accounts, sessions and the guards every page goes through: login with argon2 hashes and a
lockout, redirects to /login, roles, CSRF on every form, disabling that ends sessions at once,
and the `yuqing users` commands."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select
from starlette.routing import Route
from starlette.testclient import TestClient
from typer.testing import CliRunner

from responder.cli import app as cli
from responder.models import AuditEntry, User
from responder.web import create_app
from tests.webclient import PASSWORD, client_as, csrf, ensure_user, log_in

PAGES = ["/", "/mentions", "/incidents", "/drafts", "/admin/users"]


def test_every_page_sends_a_visitor_who_is_not_logged_in_to_the_login_page(settings, db):
    client = TestClient(create_app(settings, db))
    for path in PAGES:
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == f"/login?next={path}"
    assert client.get("/healthz").text == "ok"


def test_a_login_stores_an_argon2_hash_and_a_wrong_password_is_refused(settings, db):
    ensure_user(db, "王敏", "duty")
    with db.sessions() as session:
        stored = session.scalars(select(User.password_hash)).one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored

    client = TestClient(create_app(settings, db))
    token = csrf(client.get("/login").text)
    wrong = client.post("/login", data={"name": "王敏", "password": "nope", "csrf_token": token})
    unknown = client.post("/login", data={"name": "谁", "password": "nope", "csrf_token": token})

    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    assert unknown.status_code == 401 and "用户名或密码错误" in unknown.text  # no hint either way
    log_in(client, "王敏")
    home = client.get("/")
    assert home.status_code == 200 and "王敏（值班员）" in home.text


def test_too_many_failures_lock_the_account_for_a_while(settings, db):
    ensure_user(db, "李强", "duty")
    client = TestClient(create_app(settings, db))
    token = csrf(client.get("/login").text)
    for _ in range(settings.web.login_attempts):
        client.post("/login", data={"name": "李强", "password": "guess", "csrf_token": token})

    locked = client.post("/login", data={"name": "李强", "password": PASSWORD, "csrf_token": token})

    assert locked.status_code == 401 and "临时锁定" in locked.text
    with db.sessions() as session:
        assert session.scalars(select(User.locked_until)).one() is not None
        assert "user.lockout" in session.scalars(select(AuditEntry.action)).all()


def test_a_login_only_redirects_to_pages_of_this_site(settings, db):
    ensure_user(db, "王敏", "duty")
    client = TestClient(create_app(settings, db))
    page = client.get("/login?next=https://evil.example/x").text
    answer = client.post(
        "/login",
        data={
            "name": "王敏",
            "password": PASSWORD,
            "csrf_token": csrf(page),
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/"


def test_a_post_without_the_sessions_csrf_token_is_refused_on_every_form(settings, db):
    app = create_app(settings, db)
    client = client_as(settings, db, "admin")
    posts = [
        r.path
        for r in app.routes
        if isinstance(r, Route) and "POST" in (r.methods or ()) and "{" not in r.path
    ]
    assert "/admin/users" in posts and "/logout" in posts
    for path in posts:
        if path == "/login":
            continue
        refused = client.post(path, data={"action": "add", "name": "x", "role": "duty"})
        assert refused.status_code == 403, path
        assert "CSRF" in refused.text
    forged = client.post("/admin/users", data={"csrf_token": "forged", "action": "disable"})
    assert forged.status_code == 403
    with db.sessions() as session:
        assert session.scalar(select(User).where(User.name == "x")) is None


def test_another_roles_page_is_refused(settings, db):
    duty = client_as(settings, db, "duty")
    refused = duty.get("/admin/users")
    assert refused.status_code == 403 and "无权" in refused.text


def test_disabling_a_user_ends_their_open_session_at_once(settings, db):
    press = client_as(settings, db, "press", name="赵雪")
    assert press.get("/drafts").status_code == 200
    admin = client_as(settings, db, "admin")
    token = csrf(admin.get("/admin/users").text)

    done = admin.post(
        "/admin/users", data={"csrf_token": token, "action": "disable", "name": "赵雪"}
    )

    assert "已停用用户 赵雪" in done.text
    answer = press.get("/drafts", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    token = csrf(press.get("/login").text)
    again = press.post("/login", data={"name": "赵雪", "password": PASSWORD, "csrf_token": token})
    assert again.status_code == 401 and "已停用" in again.text


def test_an_admin_adds_a_user_and_a_bad_one_is_refused_clearly(settings, db):
    admin = client_as(settings, db, "admin")
    token = csrf(admin.get("/admin/users").text)
    form = {"csrf_token": token, "action": "add", "name": "孙浩", "role": "press"}

    added = admin.post("/admin/users", data={**form, "password": "long enough 1"})
    short = admin.post("/admin/users", data={**form, "name": "周", "password": "short"})
    role = admin.post(
        "/admin/users", data={**form, "name": "吴", "role": "boss", "password": "x" * 9}
    )

    assert "已添加用户 孙浩" in added.text
    assert "密码至少 8 个字符" in short.text and "未知角色" in role.text
    with db.sessions() as session:
        assert session.scalars(select(User.name).order_by(User.name)).all() == [
            "test-admin",
            "孙浩",
        ]


def test_yuqing_users_adds_lists_and_disables_accounts(settings, db):
    runner = CliRunner()
    added = runner.invoke(
        cli,
        ["users", "add", "王敏", "--role", "duty", "--email", "w@x.org", "--password-stdin"],
        input="a good password\n",
    )
    assert added.exit_code == 0, added.output
    twice = runner.invoke(
        cli,
        ["users", "add", "王敏", "--role", "duty", "--password-stdin"],
        input="a good password\n",
    )
    bad_role = runner.invoke(
        cli,
        ["users", "add", "李强", "--role", "boss", "--password-stdin"],
        input="a good password\n",
    )
    assert twice.exit_code == 2 and "已存在" in twice.output
    assert bad_role.exit_code == 2 and "未知角色" in bad_role.output

    client = log_in(TestClient(create_app(settings, db)), "王敏", "a good password")
    assert runner.invoke(cli, ["users", "disable", "王敏"]).exit_code == 0
    assert client.get("/", follow_redirects=False).status_code == 303
    listed = runner.invoke(cli, ["users", "list"]).output
    assert "王敏" in listed and "已停用" in listed


@pytest.mark.slow
def test_in_the_browser_an_admin_disables_a_user_whose_page_then_asks_for_a_login(
    settings, db, live_server, chromium, screens
):
    ensure_user(db, "赵雪", "press")
    ensure_user(db, "管理员", "admin")
    press = chromium.new_context(locale="zh-CN").new_page()
    admin = chromium.new_context(locale="zh-CN").new_page()
    for page, name in ((press, "赵雪"), (admin, "管理员")):
        page.goto(f"{live_server.url}/drafts")
        page.fill("input[name=name]", name)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
    assert press.url.endswith("/drafts")
    screens(press, "press-logged-in")

    admin.goto(f"{live_server.url}/admin/users")
    row = admin.locator("tr", has_text="赵雪")
    row.get_by_role("button", name="停用").click()
    assert admin.get_by_text("已停用用户 赵雪").is_visible()
    screens(admin, "admin-disabled-user")

    press.reload()
    assert "/login" in press.url and press.get_by_role("button", name="登录").is_visible()
    screens(press, "press-session-rejected")
    with db.sessions() as session:
        assert session.scalar(select(User.disabled).where(User.name == "赵雪")) is True
        assert (
            session.scalar(select(AuditEntry.actor).where(AuditEntry.action == "user.disable"))
            == "管理员"
        )
    press.context.close()
    admin.context.close()


def test_the_session_cookie_is_http_only_and_a_session_ends_after_session_hours(settings, db):
    import time_machine

    ensure_user(db, "王敏", "duty")
    client = TestClient(create_app(settings, db))
    token = csrf(client.get("/login").text)
    answer = client.post(
        "/login",
        data={"name": "王敏", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert client.get("/", follow_redirects=False).status_code == 200

    later = time.time() + settings.web.session_hours * 3600 + 60
    with time_machine.travel(later, tick=False):
        expired = client.get("/", follow_redirects=False)
    assert expired.status_code == 303 and expired.headers["location"].startswith("/login")
