"""Delivery of outbox notices: in-app, log file, SMTP; retries; at-least-once (issue 3, point 3)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from mediation.delivery import SmtpSettings, backoff, deliver
from mediation.enums import Role
from mediation.models import Delivery, Notification, OutboxMessage
from mediation.services import file_case, fire

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


class Inbox:
    """An SMTP handler keeping what it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[SmtpSettings, Inbox]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield SmtpSettings(host="127.0.0.1", port=port, sender="station@example.test"), inbox
    controller.stop()


@pytest.fixture
def accepted_case(uow, make_user):
    officer = make_user(Role.LIAISON_OFFICER, email="officer@example.test")
    make_user(Role.LIAISON_OFFICER, email=None)
    with uow:
        filed = file_case(uow, officer.id, {
            "workflow": "labour", "category": "wages", "filed_via": "walk_in", "facts": "欠薪", "claims": "付清",
            "parties": [{"role": "applicant", "name": "张某"}, {"role": "respondent", "name": "某公司"}],
        }, now=NOW)
    with uow:
        fire(uow, filed.case_id, "accept", officer.id, {"severity": "general"}, now=NOW)
    return filed.case_id


def test_notice_reaches_app_log_and_mail(uow, session, accepted_case, smtp_server, tmp_path):
    smtp, inbox = smtp_server
    log = tmp_path / "notices.log"
    report = deliver(uow, NOW, log_path=log, smtp=smtp)
    assert not report.failed
    assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.delivered_at.is_(None))) == 0
    notes = session.scalars(select(Notification).where(Notification.kind == "state_changed")).all()
    assert len(notes) == 2  # both liaison officers (tier 2 leads) see the accepted case
    assert "已登记" in notes[0].payload["body"] and "联企民警快处" in notes[0].payload["body"]
    lines = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]
    assert {x["kind"] for x in lines} == {"filed", "state_changed"}
    assert len(inbox.messages) == 1 and inbox.messages[0][0] == ["officer@example.test"]
    assert "X-Mediation-Key" in inbox.messages[0][1]


def test_delivering_again_changes_nothing(uow, session, accepted_case, tmp_path):
    log = tmp_path / "notices.log"
    deliver(uow, NOW, log_path=log)
    before = (log.read_text(encoding="utf-8"), session.scalar(select(func.count()).select_from(Delivery)))
    report = deliver(uow, NOW + timedelta(hours=1), log_path=log)
    assert report.delivered == 0
    assert (log.read_text(encoding="utf-8"), session.scalar(select(func.count()).select_from(Delivery))) == before


def test_failed_mail_is_retried_with_backoff_and_nothing_is_lost(uow, session, accepted_case, tmp_path):
    dead = SmtpSettings(host="127.0.0.1", port=_free_port(), timeout=2)  # nothing listens there
    report = deliver(uow, NOW, log_path=tmp_path / "n.log", smtp=dead)
    assert report.failed
    session.expire_all()
    pending = session.scalars(select(OutboxMessage).where(OutboxMessage.delivered_at.is_(None))).all()
    assert pending and all(m.attempts == 1 and m.next_attempt_at == NOW + backoff(1) for m in pending)
    # The in-app notices and the log line were recorded before the mail failed; a retry skips them.
    apps = session.scalar(select(func.count()).select_from(Notification))
    assert deliver(uow, NOW + timedelta(seconds=30), log_path=tmp_path / "n.log", smtp=dead).delivered == 0
    report = deliver(uow, NOW + timedelta(minutes=2), log_path=tmp_path / "n.log")
    assert not report.failed
    assert session.scalar(select(func.count()).select_from(Notification)) == apps
    assert len((tmp_path / "n.log").read_text(encoding="utf-8").splitlines()) == 2


def test_backoff_doubles_up_to_an_hour():
    assert [backoff(n) for n in (1, 2, 3)] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert backoff(30) == timedelta(hours=1)


def test_a_process_killed_after_sending_redelivers_with_the_same_key(uow, session, accepted_case, smtp_server,
                                                                     tmp_path, monkeypatch):
    """At-least-once: a crash between sending and recording sends again with the same key."""
    smtp, inbox = smtp_server
    from mediation import delivery

    real_record = delivery._record
    calls = {"n": 0}

    def crash_on_email(session, message, channel, user, key, now):
        if channel == "email" and calls["n"] == 0:
            calls["n"] += 1
            raise OSError("killed")
        return real_record(session, message, channel, user, key, now)

    monkeypatch.setattr(delivery, "_record", crash_on_email)
    deliver(uow, NOW, log_path=tmp_path / "n.log", smtp=smtp)
    deliver(uow, NOW + timedelta(minutes=5), log_path=tmp_path / "n.log", smtp=smtp)
    keys = [m[1].split("X-Mediation-Key: ", 1)[1].splitlines()[0] for m in inbox.messages]
    assert len(keys) == 2 and keys[0] == keys[1]  # duplicated, never lost, same idempotency key
    assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.delivered_at.is_(None))) == 0
