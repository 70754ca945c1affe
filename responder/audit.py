"""The audit trail: one inserted row per state change, in the caller's transaction.

Every action a row can record is a member of `AuditAction`, with the Chinese label the audit
log page, the incident and template histories and the CLI show for it. The stored code is the
member's value, so rows written before the registry existed read the same. The audit log page
reads the trail through `Trail`; nothing edits or deletes a row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from responder.models import AuditEntry


class AuditAction(StrEnum):
    """The actions of the audit trail: `AuditAction.INCIDENT_CLOSE == "incident.close"`, and
    `AuditAction.INCIDENT_CLOSE.label` is how people read it (关闭)."""

    label: str

    def __new__(cls, code: str, label: str = "") -> AuditAction:
        member = str.__new__(cls, code)
        member._value_ = code
        member.label = label
        return member

    INCIDENT_OPEN = "incident.open", "新建事件"
    INCIDENT_LEVEL = "incident.level", "机器定级上升"
    INCIDENT_NOTIFY = "incident.notify", "发出通知"
    INCIDENT_MERGE = "incident.merge", "合并"
    INCIDENT_SPLIT = "incident.split", "拆分"
    INCIDENT_LEVEL_OVERRIDE = "incident.level_override", "人工定级"
    INCIDENT_CLOSE = "incident.close", "关闭"
    INCIDENT_REOPEN = "incident.reopen", "重新打开"
    INCIDENT_FACT = "incident.fact", "核实事件要素"
    INCIDENT_TITLE = "incident.title", "修改事件标题"
    TASK_ADD = "task.add", "布置处置任务"
    TASK_DONE = "task.done", "完成处置任务"
    NOTICE_REPEAT = "notice.repeat", "重复提醒"
    NOTICE_ESCALATE = "notice.escalate", "逾时升级"
    NOTICE_ACK = "notice.ack", "确认收到"
    DUTY_HANDOVER = "duty.handover", "值班交接"
    USER_ADD = "user.add", "添加用户"
    USER_DISABLE = "user.disable", "停用用户"
    USER_ENABLE = "user.enable", "启用用户"
    USER_PASSWORD = "user.password", "重设密码"
    USER_ROLE = "user.role", "修改角色"
    USER_LOCKOUT = "user.lockout", "登录失败锁定"
    USER_LOGOUT = "user.logout", "退出登录"
    MENTIONS_IMPORT = "mentions.import", "导入信息"
    MENTION_REGISTER = "mention.register", "登记舆情"
    MENTION_ATTACH = "mention.attach", "添加附件"
    ATTACHMENT_DOWNLOAD = "attachment.download", "下载附件"
    PRIVACY_MASK_STORED = "privacy.mask_stored", "已存信息补做脱敏"
    RETENTION_PURGE = "retention.purge", "清理过期数据"
    TEMPLATE_SEED = "template.seed", "初始化应答口径"
    TEMPLATE_PROPOSE = "template.propose", "提交口径新版本"
    TEMPLATE_APPROVE = "template.approve", "批准口径版本"
    TEMPLATE_RETIRE = "template.retire", "停用旧口径版本"
    TEMPLATE_REJECT = "template.reject", "退回口径版本"
    TEMPLATE_WITHDRAW = "template.withdraw", "撤回口径版本"
    DRAFT_CREATE = "draft.create", "生成应答草稿"
    DRAFT_EDIT = "draft.edit", "修改应答草稿"
    DRAFT_APPROVE = "draft.approve", "批准应答草稿"
    DRAFT_REJECT = "draft.reject", "退回应答草稿"
    DRAFT_EMAIL = "draft.email", "邮件发送草稿"
    DRAFT_EXPORT = "draft.export", "导出草稿"
    JUDGEMENT_CORRECT = "judgement.correct", "纠正研判"


class UnknownAuditAction(ValueError):
    """An action that is not in `AuditAction`: add it there, with its label, first."""


def action_label(code: str) -> str:
    """The Chinese label of a stored action code; an unknown code is shown as it is."""
    try:
        return AuditAction(code).label
    except ValueError:
        return code


def record(
    session: Session,
    actor: str,
    action: AuditAction,
    object_type: str,
    object_id: Any,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str = "",
) -> AuditEntry:
    try:
        action = AuditAction(action)
    except ValueError:
        raise UnknownAuditAction(
            f"unknown audit action {action!r}: add it to responder.audit.AuditAction"
            " with its Chinese label"
        ) from None
    entry = AuditEntry(
        actor=actor,
        action=action.value,
        object_type=object_type,
        object_id=str(object_id),
        before=before,
        after=after,
        detail=detail,
    )
    session.add(entry)
    return entry


def transition(
    session: Session,
    actor: str,
    action: AuditAction,
    object_type: str,
    object_id: Any,
    before: str,
    after: str,
    detail: str = "",
) -> AuditEntry:
    """A status change of one object, as every owner of a status records it: the statuses
    before and after, and why."""
    return record(
        session,
        actor,
        action,
        object_type,
        object_id,
        before={"status": before},
        after={"status": after},
        detail=detail,
    )


@dataclass(frozen=True)
class Trail:
    """Which audit rows to read: each field narrows them when given; `start` and `end` bound
    `at` (`end` excluded)."""

    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    start: datetime | None = None
    end: datetime | None = None

    def query(self) -> Select[AuditEntry]:
        query = select(AuditEntry)
        if self.actor:
            query = query.where(AuditEntry.actor == self.actor)
        if self.action:
            query = query.where(AuditEntry.action == self.action)
        if self.object_type:
            query = query.where(AuditEntry.object_type == self.object_type)
        if self.object_id:
            query = query.where(AuditEntry.object_id == self.object_id)
        if self.start:
            query = query.where(AuditEntry.at >= self.start)
        if self.end:
            query = query.where(AuditEntry.at < self.end)
        return query


@dataclass(frozen=True)
class TrailPage:
    entries: list[AuditEntry]
    total: int
    page: int
    pages: int


def read_trail(session: Session, trail: Trail, page: int, page_size: int) -> TrailPage:
    """One page of the rows `trail` selects, newest first; a page past the last is the last."""
    query = trail.query()
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, math.ceil(total / page_size))
    page = min(page, pages)
    entries = session.scalars(
        query.order_by(AuditEntry.id.desc()).offset((page - 1) * page_size).limit(page_size)
    ).all()
    return TrailPage(list(entries), total, page, pages)


@dataclass(frozen=True)
class Recorded:
    """The actions, object types and actors the trail holds (the filters offer them)."""

    actions: list[str]
    object_types: list[str]
    actors: list[str]


def recorded(session: Session) -> Recorded:
    return Recorded(
        actions=list(session.scalars(select(AuditEntry.action).distinct())),
        object_types=list(session.scalars(select(AuditEntry.object_type).distinct())),
        actors=list(
            session.scalars(select(AuditEntry.actor).distinct().order_by(AuditEntry.actor))
        ),
    )
