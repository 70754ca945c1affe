"""The 应答口径 library: numbered versions of each category's reply template. A press user
proposes a version; it is checked in the sandbox with a sample incident before anything is
stored; another press user approves it, which retires the version in force. Drafts only ever
render approved versions (`responder.replies.drafts.approved_version`).
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import TemplateSyntaxError
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from responder import accounts, audit, clock, sandbox
from responder.accounts import require_role
from responder.audit import AuditAction
from responder.errors import DomainError
from responder.labels import label, labels
from responder.models import AuditEntry, ResponseTemplate, TemplateVersion
from responder.rendering import IncidentView, text_environment
from responder.replies.approved import seed_templates
from responder.replies.diffs import unified_diff
from responder.replies.drafts import reply_context, tidy
from responder.sandbox import RenderLimit
from responder.settings import Settings
from responder.statuses import IncidentStatus, TemplateStatus

AUTHORS = accounts.AUTHOR_TEMPLATES
# The regulation puts approval with the press office; an administrator manages accounts and
# could otherwise make a second account to approve their own text.
APPROVERS = accounts.APPROVE_TEMPLATES
MAX_TEMPLATE = 20_000
NAMES = (
    "office、incident.title、incident.level、category、level、today、"
    "facts_contradicted、debunks_matched、summary"
)


class TemplateLibraryError(DomainError, ValueError):
    """A proposal or decision that cannot be made; nothing was stored."""


class InvalidTemplate(TemplateLibraryError):
    pass


class UnsafeTemplate(InvalidTemplate):
    """The sandbox refused the template: it reached for Python internals."""


class NotAllowed(TemplateLibraryError):
    pass


SAMPLE_REASONS: list[dict[str, object]] = [
    {
        "kind": "contradicts_fact",
        "detail": "文中称全县GDP增长12%，官方数据为5.8%",
        "evidence": "2025年统计公报：全县地区生产总值增长5.8%",
    },
    {
        "kind": "matches_debunk",
        "detail": "与已发布辟谣内容相似",
        "evidence": "辟谣声明：普查不采集个人存款信息",
    },
]


def sample_context(settings: Settings, category: str) -> dict[str, object]:
    now = clock.now().astimezone(settings.tz)
    incident = IncidentView(
        id=0,
        title="示例事件：网传普查数据被泄露",
        category=category,
        level="II",
        status=IncidentStatus.OPEN,
        mention_count=12,
        score=80.0,
        first_seen=now,
        last_seen=now,
    )
    return reply_context(settings, incident, SAMPLE_REASONS, ["示例摘要句。（临江新闻网）"])


def check(settings: Settings, category: str, body: str) -> str:
    """The body rendered with a sample incident; raises InvalidTemplate with a Chinese reason."""
    if not body.strip():
        raise InvalidTemplate("模板内容不能为空")
    if len(body) > MAX_TEMPLATE:
        raise InvalidTemplate(f"模板过长（{len(body)} 字），上限 {MAX_TEMPLATE} 字")
    try:
        template = text_environment().from_string(body)
    except TemplateSyntaxError as exc:
        raise InvalidTemplate(f"模板语法错误（第 {exc.lineno} 行）：{exc.message}") from exc
    try:
        return tidy(sandbox.render(template, sample_context(settings, category)))
    except RenderLimit as exc:
        raise UnsafeTemplate(f"模板超出资源限制，已被安全沙箱拒绝，未保存：{exc}") from exc
    except SecurityError as exc:
        raise UnsafeTemplate(
            f"模板试图访问系统内部对象，已被安全沙箱拒绝，未保存（{exc}）"
        ) from exc
    except UndefinedError as exc:
        raise InvalidTemplate(
            f"模板引用了不存在的名称（{exc.message}），未保存。可用的名称：{NAMES}"
        ) from exc
    except TemplateError as exc:
        raise InvalidTemplate(f"模板无法渲染，未保存：{exc}") from exc
    except Exception as exc:
        # The body is code a person wrote: any error in it (1/0, a bad method call) refuses
        # the proposal with the reason, and nothing is stored.
        raise InvalidTemplate(f"模板渲染出错，未保存：{type(exc).__name__}: {exc}") from exc


def _version(session: Session, version_id: int) -> TemplateVersion:
    version = session.get(TemplateVersion, version_id)
    if version is None:
        raise TemplateLibraryError(f"没有模板版本 #{version_id}")
    return version


def _pending(version: TemplateVersion, doing: str) -> None:
    if version.status != TemplateStatus.PENDING:
        status = label("template_status", version.status)
        raise TemplateLibraryError(f"v{version.version} 当前为“{status}”，不能{doing}")


def entry(session: Session, category: str) -> ResponseTemplate | None:
    return session.scalar(
        select(ResponseTemplate)
        .where(ResponseTemplate.category == category)
        .options(selectinload(ResponseTemplate.versions))
    )


def in_force(template: ResponseTemplate) -> TemplateVersion | None:
    return next(
        (v for v in reversed(template.versions) if v.status == TemplateStatus.APPROVED), None
    )


def waiting(template: ResponseTemplate) -> TemplateVersion | None:
    return next((v for v in template.versions if v.status == TemplateStatus.PENDING), None)


@dataclass
class Row:
    template: ResponseTemplate
    approved: TemplateVersion | None
    pending: TemplateVersion | None


def overview(session: Session) -> list[Row]:
    templates = session.scalars(
        select(ResponseTemplate)
        .options(selectinload(ResponseTemplate.versions))
        .order_by(ResponseTemplate.id)
    ).all()
    return [Row(t, in_force(t), waiting(t)) for t in templates]


def propose(
    session: Session, settings: Settings, category: str, body: str, author: str
) -> TemplateVersion:
    require_role(session, author, AUTHORS, "提交应答口径", NotAllowed)
    if category not in labels()["categories"]:
        raise TemplateLibraryError(f"未知类别 {category!r}")
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    check(settings, category, body)
    seed_templates(session)
    template = entry(session, category)
    if template is None:
        template = ResponseTemplate(
            category=category, name=f"{label('categories', category)}应答口径"
        )
        session.add(template)
        session.flush()
    pending = waiting(template)
    if pending is not None:
        raise TemplateLibraryError(
            f"已有待审核的 v{pending.version}（{pending.author} 提交），请先审核、退回或撤回"
        )
    current = in_force(template)
    if current is not None and current.body.strip() == body.strip():
        raise TemplateLibraryError(f"内容与现行版本 v{current.version} 相同，无需提交")
    number = (
        session.scalar(
            select(func.max(TemplateVersion.version)).where(
                TemplateVersion.template_id == template.id
            )
        )
        or 0
    ) + 1
    version = TemplateVersion(
        template_id=template.id,
        version=number,
        body=body,
        status=TemplateStatus.PENDING,
        author=author,
    )
    session.add(version)
    session.flush()
    audit.record(
        session,
        author,
        AuditAction.TEMPLATE_PROPOSE,
        "template_version",
        version.id,
        after={"category": category, "version": number, "status": TemplateStatus.PENDING},
    )
    return version


def approve(session: Session, version_id: int, approver: str) -> TemplateVersion:
    """Put the version in force; the one it replaces is retired in the same transaction."""
    version = _version(session, version_id)
    require_role(session, approver, APPROVERS, "批准应答口径", NotAllowed)
    _pending(version, "批准")
    if approver == version.author:
        raise NotAllowed("不能批准自己提交的版本，须由另一位宣传/审核人员批准")
    for old in version.template.versions:
        if old.status == TemplateStatus.APPROVED:
            old.status = TemplateStatus.RETIRED
            audit.transition(
                session,
                approver,
                AuditAction.TEMPLATE_RETIRE,
                "template_version",
                old.id,
                TemplateStatus.APPROVED,
                TemplateStatus.RETIRED,
                f"由 v{version.version} 取代",
            )
    version.status = TemplateStatus.APPROVED
    version.approved_by = approver
    version.approved_at = clock.now()
    audit.transition(
        session,
        approver,
        AuditAction.TEMPLATE_APPROVE,
        "template_version",
        version.id,
        TemplateStatus.PENDING,
        TemplateStatus.APPROVED,
        f"{version.template.category} v{version.version}",
    )
    return version


def reject(session: Session, version_id: int, reviewer: str, comment: str) -> None:
    version = _version(session, version_id)
    require_role(session, reviewer, APPROVERS, "退回应答口径", NotAllowed)
    _pending(version, "退回")
    if reviewer == version.author:
        raise NotAllowed("自己提交的版本请用“撤回”")
    if not comment.strip():
        raise TemplateLibraryError("退回时请填写意见")
    version.status = TemplateStatus.REJECTED
    audit.transition(
        session,
        reviewer,
        AuditAction.TEMPLATE_REJECT,
        "template_version",
        version.id,
        TemplateStatus.PENDING,
        TemplateStatus.REJECTED,
        comment.strip(),
    )


def withdraw(session: Session, version_id: int, author: str) -> None:
    version = _version(session, version_id)
    _pending(version, "撤回")
    if author != version.author:
        raise NotAllowed("只有提交人可以撤回")
    version.status = TemplateStatus.WITHDRAWN
    audit.transition(
        session,
        author,
        AuditAction.TEMPLATE_WITHDRAW,
        "template_version",
        version.id,
        TemplateStatus.PENDING,
        TemplateStatus.WITHDRAWN,
    )


def decisions(session: Session, template: ResponseTemplate) -> dict[int, AuditEntry]:
    """The last decision (approve, reject, withdraw) on each version, for its reason."""
    ids = [str(v.id) for v in template.versions]
    rows = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.object_type == "template_version",
            AuditEntry.object_id.in_(ids),
            AuditEntry.action.in_(["template.approve", "template.reject", "template.withdraw"]),
        )
        .order_by(AuditEntry.id)
    ).all()
    return {int(e.object_id): e for e in rows}


def version_diff(before: TemplateVersion | None, after: TemplateVersion) -> str:
    if before is None:
        return ""
    return unified_diff(before.body, after.body, f"v{before.version}", f"v{after.version}")
