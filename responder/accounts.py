"""User accounts of the web UI: roles, argon2 password hashes, lockout after failed logins,
and disabling that ends a user's sessions at once.

Roles: duty (值班员) triages and corrects, press (宣传/审核) writes templates and drafts and
approves them, leader (领导) reads and acknowledges, admin (管理员) manages accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from responder import audit
from responder.audit import AuditAction
from responder.errors import DomainError
from responder.labels import label
from responder.models import User
from responder.settings import WebSettings

ROLES = ("duty", "press", "leader", "admin")
# Who may record a mention received by phone, visit or mail (登记舆情); leaders read.
REGISTER_ROLES = ("duty", "press", "admin")
MIN_PASSWORD = 8
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the name is unknown, so a wrong name costs as long as a wrong
    password. Made on first use: hashing at import cost every CLI command half a second."""
    return _hasher.hash("not a password of anyone")


class AccountError(DomainError, ValueError):
    """A change to an account that cannot be made; nothing was changed."""


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"密码至少 {MIN_PASSWORD} 个字符")


def find(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))


def roster(session: Session) -> list[User]:
    """Every account as the administrator's page lists them: enabled first, by role, by name."""
    return list(session.scalars(select(User).order_by(User.disabled, User.role, User.name)))


# The one role policy: who may do what. The domain checks it (incident decisions,
# acknowledgements, corrections, drafts, the template library) whether the web or the CLI
# asks, and the web shows or hides its buttons by it.
DECIDE_INCIDENTS = ("duty", "admin")
ACKNOWLEDGE = ("duty", "admin", "leader")
CORRECT = ("duty", "admin")
COMPLETE_FACTS = ("duty", "press", "admin")  # the report fields of an incident
EDIT_DRAFTS = ("press", "duty")  # duty officers fix facts in drafts; only press approves
REVIEW_DRAFTS = ("press",)
AUTHOR_TEMPLATES = ("press",)
APPROVE_TEMPLATES = ("press",)


@dataclass(frozen=True)
class Refusal:
    """Why `name` may not do something: no such account, a disabled one, or another role."""

    name: str
    problem: str  # "unknown" | "disabled" | "role"
    role: str | None
    roles: tuple[str, ...]

    def message(self, doing: str) -> str:
        """In Chinese, for the web and the domain's errors."""
        allowed = "、".join(label("roles", r) for r in self.roles)
        if self.problem == "unknown":
            why = f"没有用户 {self.name}，"
        elif self.problem == "disabled":
            why = f"用户 {self.name} 已停用，"
        else:
            why = ""
        return f"{why}只有{allowed}可以{doing}"

    def english(self, doing: str) -> str:
        """In English, for the CLI's `--by`."""
        allowed = ", ".join(self.roles)
        if self.problem == "unknown":
            return f"there is no account named {self.name!r}; {doing} needs an active account"
        if self.problem == "disabled":
            return f"the account {self.name!r} is disabled; {doing} needs an active account"
        return f"the account {self.name!r} has the role {self.role}; only {allowed} may {doing}"


def refusal(session: Session, name: str, roles: tuple[str, ...]) -> Refusal | None:
    """None when `name` is an enabled account holding one of `roles`, else why not."""
    return _refusal(find(session, name), name, roles)


def _refusal(user: User | None, name: str, roles: tuple[str, ...]) -> Refusal | None:
    if user is None:
        return Refusal(name, "unknown", None, roles)
    if user.disabled:
        return Refusal(name, "disabled", user.role, roles)
    if user.role not in roles:
        return Refusal(name, "role", user.role, roles)
    return None


def require_role(
    session: Session, name: str, roles: tuple[str, ...], doing: str, error: type[Exception]
) -> User:
    """The enabled user `name` holding one of `roles`, else `error` saying who may do it and
    what is wrong (no such account, a disabled one, another role)."""
    user = find(session, name)
    refused = _refusal(user, name, roles)
    if refused is not None or user is None:
        raise error((refused or Refusal(name, "unknown", None, roles)).message(doing))
    return user


def add_user(session: Session, name: str, role: str, email: str, password: str, actor: str) -> User:
    name = name.strip()
    if not name:
        raise AccountError("用户名不能为空")
    if role not in ROLES:
        raise AccountError(f"未知角色 {role!r}，可选：{', '.join(ROLES)}")
    if find(session, name) is not None:
        raise AccountError(f"用户 {name} 已存在")
    _check_password(password)
    user = User(name=name, role=role, email=email.strip(), password_hash=_hasher.hash(password))
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        AuditAction.USER_ADD,
        "user",
        user.name,
        after={"role": role, "email": user.email},
    )
    return user


def _existing(session: Session, name: str) -> User:
    user = find(session, name)
    if user is None:
        raise AccountError(f"没有用户 {name}")
    return user


def set_disabled(session: Session, name: str, disabled: bool, actor: str) -> User:
    """Disable (every session ends at once) or enable an account."""
    user = _existing(session, name)
    if user.disabled == disabled:
        raise AccountError(f"用户 {name} 已经{'停用' if disabled else '启用'}")
    user.disabled = disabled
    user.session_epoch += 1
    if not disabled:
        user.failed_logins, user.locked_until = 0, None
    audit.record(
        session,
        actor,
        AuditAction.USER_DISABLE if disabled else AuditAction.USER_ENABLE,
        "user",
        user.name,
        before={"disabled": not disabled},
        after={"disabled": disabled},
    )
    return user


def set_password(session: Session, name: str, password: str, actor: str) -> User:
    """A new password; the user's other sessions end."""
    user = _existing(session, name)
    _check_password(password)
    user.password_hash = _hasher.hash(password)
    user.session_epoch += 1
    user.failed_logins, user.locked_until = 0, None
    audit.record(session, actor, AuditAction.USER_PASSWORD, "user", user.name)
    return user


def set_role(session: Session, name: str, role: str, actor: str) -> User:
    user = _existing(session, name)
    if role not in ROLES:
        raise AccountError(f"未知角色 {role!r}，可选：{', '.join(ROLES)}")
    before = user.role
    user.role = role
    user.session_epoch += 1
    audit.record(
        session,
        actor,
        AuditAction.USER_ROLE,
        "user",
        user.name,
        before={"role": before},
        after={"role": role},
    )
    return user


def log_out(session: Session, user_id: int) -> None:
    """End every session of the account: a logged-out cookie must not work when replayed, and
    sessions are signed cookies, so the epoch they carry is what can be made stale."""
    user = session.get(User, user_id)
    if user is None:
        return
    user.session_epoch += 1
    audit.record(session, user.name, AuditAction.USER_LOGOUT, "user", user.name)


REFUSED = "用户名或密码错误；连续失败多次的账号会临时锁定，请稍后再试"


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    message: str = ""


def authenticate(
    session: Session, name: str, password: str, now: datetime, web: WebSettings
) -> LoginResult:
    """Check a login. After `web.login_attempts` failures in a row the account is locked for
    `web.lockout_minutes`; the message never says whether the name exists."""
    # One answer for an unknown name, a wrong password and a locked account, after the same
    # hashing work: neither the words nor the time tell whether a name exists.
    refused = LoginResult(None, REFUSED)
    user = find(session, name.strip())
    if user is None or (user.locked_until is not None and user.locked_until > now):
        try:
            _hasher.verify(_dummy_hash(), password)
        except VerificationError:
            pass
        return refused
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= web.login_attempts:
            user.locked_until = now + timedelta(minutes=web.lockout_minutes)
            user.failed_logins = 0
            audit.record(session, "system", AuditAction.USER_LOCKOUT, "user", user.name)
        return refused
    if user.disabled:
        return LoginResult(None, "该账号已停用，请联系管理员")
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return LoginResult(user)
