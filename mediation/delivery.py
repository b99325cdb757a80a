"""Delivery of outbox notices (通知送达): in-app list, a log file, e-mail over SMTP.

Notices are written to the outbox in the same transaction as the change they report
(``services``); ``deliver`` sends them afterwards, at least once. Each channel and
recipient is recorded in ``deliveries`` under a unique idempotency key in the same
transaction that marks the progress, so a process killed midway redelivers only what it
had not recorded: the in-app notice is written exactly once; a log line or an e-mail sent
just before the kill is sent again with the same key (the e-mail's Message-ID), which the
reader can de-duplicate. A failed delivery is retried with exponential backoff.
"""

from __future__ import annotations

import json
import os
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import policy
from .db import INSTANCE_DIR
from .models import Case, Delivery, Notification, OutboxMessage, User
from .services import UnitOfWork, utcnow

MAX_BACKOFF = timedelta(hours=1)
FIRST_RETRY = timedelta(minutes=1)
DEFAULT_LOG = INSTANCE_DIR / "notices.log"


@dataclass(frozen=True)
class SmtpSettings:
    """Where e-mail goes: host, port, optional login and STARTTLS, and the sender address."""

    host: str
    port: int = 25
    sender: str = "mediation@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_env(cls) -> SmtpSettings | None:
        """Settings from ``MEDIATION_SMTP_HOST``/``_PORT``/``_FROM``/``_USER``/``_PASSWORD``/``_STARTTLS``."""
        host = os.environ.get("MEDIATION_SMTP_HOST")
        if not host:
            return None
        return cls(
            host=host,
            port=int(os.environ.get("MEDIATION_SMTP_PORT", "25")),
            sender=os.environ.get("MEDIATION_SMTP_FROM", "mediation@localhost"),
            username=os.environ.get("MEDIATION_SMTP_USER") or None,
            password=os.environ.get("MEDIATION_SMTP_PASSWORD") or None,
            starttls=os.environ.get("MEDIATION_SMTP_STARTTLS", "") in ("1", "true", "yes"),
        )


@dataclass
class DeliveryReport:
    """What one ``deliver`` run did: messages finished, deliveries made, failures."""

    delivered: int = 0
    deliveries: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    """Wait before retry number ``attempts`` (1 min, 2, 4 … capped at one hour)."""
    return min(FIRST_RETRY * (1 << max(0, attempts - 1)), MAX_BACKOFF)


def notice_text(message: OutboxMessage) -> tuple[str, str]:
    """Subject and body of a notice, in Chinese (the station's working language)."""
    p: dict[str, Any] = message.payload or {}
    number = p.get("number", "")
    if message.kind == "state_changed":
        subject = f"案件{number}状态变更"
        action = p.get("trigger_label") or p.get("trigger")
        before, after = p.get("from_label") or p.get("from"), p.get("to_label") or p.get("to")
        body = f"案件{number}经“{action}”，由{before}转为{after}。"
    elif message.kind == "clock_expired":
        subject = f"案件{number}{p.get('label', '期限')}届满"
        body = f"案件{number}的{p.get('label', '期限')}已于{p.get('last_day', '')}届满，请及时处理。"
        offer = p.get("offer") or {}
        if offer.get("referral") == "arbitration":
            body += "当事人可以依法申请劳动争议仲裁（劳动争议调解仲裁法第十四条）。"
    elif message.kind == "risk_flag":
        subject = f"案件{number}有激化风险"
        body = f"案件{number}可能激化为治安或刑事案件，请派出所及时处置（人民调解法第二十五条）。"
    elif message.kind == "filed":
        subject = f"新登记纠纷{number}"
        body = f"纠纷{number}已登记，等待受理。"
    elif message.kind == "assigned":
        subject = f"案件{number}已分派给您"
        body = f"案件{number}已分派给{p.get('assignee', '您')}承办，请及时处理。"
    else:
        subject, body = f"案件{number}通知", json.dumps(p, ensure_ascii=False)
    return subject, body


def recipients(session: Session, message: OutboxMessage) -> list[User]:
    """Active users of the roles the notice names who may see its case (policy)."""
    p = message.payload or {}
    roles = set(p.get("notify_roles") or [])
    for key in ("notify_role", "role"):
        if p.get(key):
            roles.add(p[key])
    if message.recipient_id is not None:
        user = session.get(User, message.recipient_id)
        return [user] if user is not None and user.active else []
    case = session.get(Case, message.case_id) if message.case_id is not None else None
    if case is None or not roles:
        return []
    users = session.scalars(
        select(User).where(User.organisation_id == case.organisation_id, User.active.is_(True)).order_by(User.id)
    )
    return [u for u in users if u.role.value in roles and policy.can_view(u, case)]


def _done(session: Session, key: str) -> bool:
    return session.scalar(select(Delivery.id).where(Delivery.idempotency_key == key)) is not None


def _record(session: Session, message: OutboxMessage, channel: str, user: User | None, key: str, now: datetime) -> None:
    session.add(
        Delivery(outbox_id=message.id, channel=channel, recipient_id=user.id if user else None,
                 idempotency_key=key, delivered_at=now)
    )
    session.flush()


def _send_email(smtp: SmtpSettings, to: str, subject: str, body: str, key: str) -> None:
    mail = EmailMessage()
    mail["From"] = smtp.sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = make_msgid(idstring=key.replace(":", "."), domain="mediation.local")
    mail["X-Mediation-Key"] = key
    mail.set_content(body)
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
        if smtp.starttls:
            client.starttls()
        if smtp.username:
            client.login(smtp.username, smtp.password or "")
        client.send_message(mail)


def deliver_one(
    session: Session, message: OutboxMessage, now: datetime, log_path: Path | None, smtp: SmtpSettings | None
) -> int:
    """Deliver one message on every channel not yet recorded; returns deliveries made.

    Raises whatever a channel raises (``OSError``, ``smtplib.SMTPException``): the caller
    records the failure and schedules a retry; what was recorded before stays recorded.
    """
    made = 0
    subject, body = notice_text(message)
    users = recipients(session, message)
    units: list[tuple[str, User | None, str]] = [("app", u, f"{message.idempotency_key}:app:{u.id}") for u in users]
    if log_path is not None:
        units.append(("log", None, f"{message.idempotency_key}:log"))
    if smtp is not None:
        units.extend(("email", u, f"{message.idempotency_key}:email:{u.id}") for u in users if u.email)
    for channel, user, key in units:
        if _done(session, key):
            continue
        with session.begin_nested():  # each unit is recorded, or rolled back, on its own
            if channel == "app" and user is not None:
                session.add(Notification(user_id=user.id, case_id=message.case_id, created_at=now,
                                         kind=message.kind, idempotency_key=key,
                                         payload=dict(message.payload or {}, subject=subject, body=body)))
            elif channel == "log" and log_path is not None:
                log_path.parent.mkdir(parents=True, exist_ok=True)
                line = {"key": key, "at": now.isoformat(), "kind": message.kind, "case_id": message.case_id,
                        "recipients": [u.username for u in users], "subject": subject, "body": body}
                with log_path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(line, ensure_ascii=False) + "\n")
            elif channel == "email" and user is not None and user.email and smtp is not None:
                _send_email(smtp, user.email, subject, body, key)
            _record(session, message, channel, user, key, now)
        made += 1
    return made


def _next_pending(session: Session, now: datetime, skip: Iterable[int]) -> OutboxMessage | None:
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
    )
    skip = list(skip)
    if skip:
        query = query.where(OutboxMessage.id.not_in(skip))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.scalars(query).first()


def deliver(
    uow: UnitOfWork,
    now: datetime | None = None,
    *,
    log_path: Path | None = DEFAULT_LOG,
    smtp: SmtpSettings | None = None,
    limit: int = 1000,
) -> DeliveryReport:
    """Deliver pending outbox messages, each in its own transaction (PostgreSQL: SKIP LOCKED).

    Returns a ``DeliveryReport``; never raises for a failing channel (it is retried later).
    """
    now = now or utcnow()
    report = DeliveryReport()
    tried: list[int] = []
    for _ in range(limit):
        with uow:
            message = _next_pending(uow.session, now, tried)
            if message is None:
                break
            tried.append(message.id)
            try:
                made = deliver_one(uow.session, message, now, log_path, smtp)
            except (OSError, smtplib.SMTPException) as exc:
                message.attempts += 1
                message.next_attempt_at = now + backoff(message.attempts)
                message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                report.failed.append((message.id, message.last_error))
            else:
                message.delivered_at = now
                message.attempts += 1
                message.last_error = None
                report.delivered += 1
                report.deliveries += made
            uow.commit()
    return report
