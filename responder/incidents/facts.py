"""An incident's fact sheet: the eight fields a report must carry, and who vouches for each.

The machine fills what the mentions tell (机器生成, with its evidence) and leaves the rest
待核实; duty officers and the press office correct and complete fields (`set_fact`), which
then read 已核实 with their author. This module owns those changes: each is role-checked and
audited and marks the incident (`Incident.facts_pending`); notices/follow.py decides whether
that calls for a 续报.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from responder import audit, clock
from responder.accounts import COMPLETE_FACTS, require_role
from responder.audit import AuditAction
from responder.errors import DomainError
from responder.incidents.severity import authority_tier
from responder.incidents.summary import rank, sentences_of, similar, summarise
from responder.labels import label
from responder.limits import clip
from responder.models import Incident, IncidentFact, IncidentTask, Mention
from responder.plaintext import one_line
from responder.rendering import local_time
from responder.settings import Settings

FIELDS = {
    "time": "时间",
    "place": "地点",
    "cause": "原因",
    "details": "事件详情",
    "losses": "损失情况",
    "scope": "影响范围",
    "trend": "发展趋势",
    "measures": "处置措施",
}
UNKNOWN = "待核实"
MACHINE, PENDING, CONFIRMED = "machine", "pending", "confirmed"
STATES = {MACHINE: "机器生成", PENDING: "待核实", CONFIRMED: "已核实"}
_PLACE = re.compile(r"[\u4e00-\u9fff]{2,6}?(?:省|市|县|区|镇|乡|街道|社区|村)")
# A statement of loss names casualties, or records, people or money affected by a loss, in the
# indicative: a question ("这算不算信息泄露？"), a worry, hearsay or a hashtag is none.
_CASUALTY = re.compile(r"死亡|身亡|遇难|受伤|重伤|轻伤|住院|伤亡")
_AMOUNT = re.compile(r"[\d一二两三四五六七八九十百千万几数多余约]+(?:条|户|人|名|份|元|万元|台)")
_LOSS = re.compile(r"泄露|外流|丢失|被骗|骗走|损失|被盗|倒卖|叫卖|出售|损毁|无法恢复")
_NOT_A_STATEMENT = re.compile(
    r"[？?]|吗|是不是|算不算|会不会|难道|如果|万一|担心|怕是|可能会|据说|听说|网传|扩散|转发|//@|#"
)
LOSS_STATEMENTS = 3
DETAIL_SENTENCES = 4


class FactError(DomainError, ValueError):
    """A fact-sheet change that cannot be made; nothing was changed."""


class UnknownField(FactError):
    pass


class UnknownIncident(FactError):
    pass


class NotPermitted(FactError):
    """The person is no enabled account whose role may complete fact sheets."""


@dataclass(frozen=True)
class Fact:
    field: str
    value: str
    state: str  # machine | pending | confirmed
    evidence: str = ""
    author: str = ""
    at: datetime | None = None

    @property
    def label(self) -> str:
        return FIELDS[self.field]

    @property
    def state_label(self) -> str:
        return STATES[self.state]


def states_loss(sentence: str) -> bool:
    """Whether the sentence states a loss: casualties, or an amount lost, leaked or stolen."""
    if _NOT_A_STATEMENT.search(sentence):
        return False
    return bool(_CASUALTY.search(sentence) or (_AMOUNT.search(sentence) and _LOSS.search(sentence)))


def loss_statements(mentions: list[Mention], settings: Settings) -> list[tuple[str, Mention]]:
    """Sentences stating a loss, the most authoritative sources' first, each loss once."""
    found: list[tuple[str, Mention]] = []
    read = settings.limits.analysed_chars
    ranked = sorted((m for m in mentions if m.reprint_of is None), key=lambda m: -rank(m, settings))
    for mention in ranked:
        # The text before the headline: a headline often is the text's first words, cut short.
        for sentence in sentences_of(mention.text[:read]) + sentences_of(mention.title):
            if states_loss(sentence) and not any(similar(sentence, other) for other, _ in found):
                found.append((sentence, mention))
    return found


def _ids(mentions: list[Mention]) -> str:
    return "、".join(f"#{m.id}" for m in mentions[:5])


def machine_facts(
    settings: Settings,
    incident: Incident,
    mentions: list[Mention],
    has_draft: bool,
    done_tasks: Sequence[IncidentTask] = (),
) -> dict[str, Fact]:
    """What the mentions tell of each field; a field they do not tell says 待核实."""
    tz = settings.tz
    cap = settings.limits.field_chars
    text = "\n".join(f"{m.title}\n{m.text[: settings.limits.analysed_chars]}" for m in mentions)
    facts: dict[str, Fact] = {}
    first = mentions[0] if mentions else None
    seen = local_time(incident.first_seen, tz), local_time(incident.last_seen, tz)
    facts["time"] = Fact(
        "time",
        f"{seen[0]} 首次发现，最新 {seen[1]}",
        MACHINE,
        f"首条信息 #{first.id}" if first else "",
    )
    places = Counter(_PLACE.findall(text)).most_common(3)
    facts["place"] = (
        Fact("place", "、".join(p for p, _ in places), MACHINE, "信息中提及的地名")
        if places
        else Fact("place", UNKNOWN, PENDING)
    )
    facts["cause"] = Fact(
        "cause",
        f"{UNKNOWN}（初步研判为{label('categories', incident.category)}类舆情）",
        PENDING,
    )
    summary = summarise(mentions, settings, DETAIL_SENTENCES)
    if summary:
        details = "".join(s.cited for s in summary)
        evidence = "摘自信息 " + "、".join(f"#{s.mention_id}" for s in summary)
    else:
        details = f"{incident.title}。{first.text[:160]}……" if first else incident.title
        evidence = f"信息 #{first.id}" if first else ""
    facts["details"] = Fact("details", clip(details, cap), MACHINE, evidence)
    losses = loss_statements(mentions, settings)[:LOSS_STATEMENTS]
    facts["losses"] = (
        Fact(
            "losses",
            clip("；".join(clip(s.rstrip("。！!"), cap // 3) for s, _ in losses), cap)
            + "（据报道，待核实）",
            MACHINE,
            "据信息 " + _ids([m for _, m in losses]) + " 的陈述",
        )
        if losses
        else Fact("losses", UNKNOWN, PENDING)
    )
    tiers = (
        Counter(authority_tier(m, settings.severity) for m in mentions)
        if settings.severity
        else Counter()
    )
    outlets = {m.outlet or m.author for m in mentions if m.outlet or m.author}
    engagement = sum(m.engagement for m in mentions)
    facts["scope"] = Fact(
        "scope",
        f"共{len(mentions)}条信息，涉及{len(outlets)}个信源，转评赞合计{engagement}；"
        + "、".join(f"{label('authority', t)}{n}条" for t, n in tiers.most_common()),
        MACHINE,
        "信息条数、信源与互动量统计",
    )
    recent = [
        m
        for m in mentions
        if (m.published_at or m.fetched_at) >= incident.last_seen - timedelta(hours=6)
    ]
    rising = len(recent) * 2 > len(mentions)
    facts["trend"] = Fact(
        "trend",
        f"近6小时新增{len(recent)}条，" + ("呈上升态势" if rising else "态势趋缓"),
        MACHINE,
        "按信息发布时间统计",
    )
    done = [f"{t.what}（{t.done_by}，{local_time(t.done_at, tz)}完成）" for t in done_tasks]
    measures = (["已完成：" + "；".join(done)] if done else []) + (
        ["已生成应答口径草稿，待宣传组审核"] if has_draft else []
    )
    facts["measures"] = Fact(
        "measures",
        "；".join(measures) + ("" if done else f"；其他措施{UNKNOWN}") if measures else UNKNOWN,
        MACHINE if measures else PENDING,
        "、".join((["已完成的处置任务"] if done else []) + (["应答草稿"] if has_draft else [])),
    )
    return facts


def sheet(
    session: Session,
    settings: Settings,
    incident: Incident,
    mentions: list[Mention],
    has_draft: bool,
) -> list[Fact]:
    """The eight fields in report order: what a person confirmed, else the machine's."""
    done = session.scalars(
        select(IncidentTask)
        .where(IncidentTask.incident_id == incident.id, IncidentTask.done_at.is_not(None))
        .order_by(IncidentTask.done_at, IncidentTask.id)
    ).all()
    machine = machine_facts(settings, incident, mentions, has_draft, done)
    confirmed = {
        f.field: f
        for f in session.scalars(
            select(IncidentFact).where(IncidentFact.incident_id == incident.id)
        )
    }
    out = []
    for key in FIELDS:
        row = confirmed.get(key)
        out.append(
            Fact(key, row.value, CONFIRMED, "", row.author, row.updated_at)
            if row is not None
            else machine[key]
        )
    return out


def set_fact(
    session: Session, incident_id: int, field: str, value: str, actor: str
) -> IncidentFact | None:
    """Record what `actor` confirms of one field; returns the row, or None when the value is
    what the field already says. The change is audited; when the leadership was already told
    of the incident, a 续报 will carry it."""
    actor = actor.strip()
    require_role(session, actor, COMPLETE_FACTS, "核实事件要素", NotPermitted)
    if field not in FIELDS:
        raise UnknownField(f"没有要素“{field}”，可选：{'、'.join(FIELDS.values())}")
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise UnknownIncident(f"没有事件 #{incident_id}")
    value = clip(one_line(value), 2000)
    if not value:
        raise FactError(f"请填写{FIELDS[field]}")
    row = session.scalar(
        select(IncidentFact).where(
            IncidentFact.incident_id == incident_id, IncidentFact.field == field
        )
    )
    if row is not None and row.value == value:
        return None
    before = {"value": row.value, "author": row.author} if row is not None else None
    now = clock.now()
    if row is None:
        row = IncidentFact(incident_id=incident_id, field=field, value=value, author=actor)
        session.add(row)
    row.value, row.author, row.updated_at, row.unreported = value, actor, now, True
    # notices/follow.py decides whether this calls for a 续报 (only once a 初报 went out).
    incident.facts_pending = True
    incident.updated_at = now
    audit.record(
        session,
        actor,
        AuditAction.INCIDENT_FACT,
        "incident",
        incident_id,
        before={FIELDS[field]: before["value"]} if before else None,
        after={FIELDS[field]: value},
        detail=f"核实{FIELDS[field]}",
    )
    session.flush()
    return row


def set_title(session: Session, incident_id: int, title: str, actor: str) -> bool:
    """Give the incident the title `actor` chose; the machine's choice of headline never
    overwrites it again. False when it already has that title."""
    actor = actor.strip()
    require_role(session, actor, COMPLETE_FACTS, "修改事件标题", NotPermitted)
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise UnknownIncident(f"没有事件 #{incident_id}")
    title = clip(one_line(title), 200)
    if not title:
        raise FactError("请填写事件标题")
    if title == incident.title:
        return False
    audit.record(
        session,
        actor,
        AuditAction.INCIDENT_TITLE,
        "incident",
        incident_id,
        before={"title": incident.title, "title_by": incident.title_by},
        after={"title": title, "title_by": actor},
    )
    incident.title, incident.title_by = title, actor
    incident.updated_at = clock.now()
    return True


def take_unreported(session: Session, incident: Incident) -> list[str]:
    """The confirmed fields no report has carried yet ("原因：…（张三核实）"), now marked as
    carried; the notice being opened stores them."""
    rows = session.scalars(
        select(IncidentFact)
        .where(IncidentFact.incident_id == incident.id, IncidentFact.unreported.is_(True))
        .order_by(IncidentFact.id)
    ).all()
    order = list(FIELDS)
    changes = [
        f"{FIELDS[r.field]}：{r.value}（{r.author}核实）"
        for r in sorted(rows, key=lambda r: order.index(r.field))
    ]
    for row in rows:
        row.unreported = False
    incident.facts_pending = False
    return changes
