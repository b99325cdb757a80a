"""The tamper-evident trail: hash-chained events, verified per case (issue 3, point 6)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from mediation.audit import verify_all
from mediation.enums import Role
from mediation.services import file_case, fire

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def two_cases(uow, make_user):
    officer = make_user(Role.LIAISON_OFFICER)
    ids = []
    for name in ("甲", "乙"):
        with uow:
            filed = file_case(uow, officer.id, {
                "workflow": "labour", "category": "wages", "filed_via": "walk_in",
                "facts": "欠薪", "claims": "付清",
                "parties": [{"role": "applicant", "name": f"{name}某"}, {"role": "respondent", "name": "某公司"}],
            }, now=NOW)
        for trigger, data in (("accept", {"severity": "general"}), ("add_note", {"note": "电话联系双方"}),
                              ("record_visit", {"note": "上门走访"})):
            with uow:
                fire(uow, filed.case_id, trigger, officer.id, data, now=NOW)
        ids.append(filed.case_id)
    return ids


def tamper(database, sql: str, **params: object) -> None:
    """Change the events table behind the application's back, as a database user could."""
    with database.engine.begin() as conn:
        if database.dialect == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))  # bypass the trigger
        conn.execute(text(sql), params)


def broken(session) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for b in verify_all(session):
        out.setdefault(b.case_id, []).append(b.problem)
    return out


def test_untouched_chains_verify(session, two_cases):
    assert broken(session) == {}


def test_edited_event_is_found(database, session, two_cases):
    tamper(database, "UPDATE events SET reason = 'changed' WHERE case_id = :c AND seq = 3", c=two_cases[0])
    found = broken(session)
    assert list(found) == [two_cases[0]]
    assert any("edited" in p for p in found[two_cases[0]])


def test_deleted_event_is_found(database, session, two_cases):
    tamper(database, "DELETE FROM events WHERE case_id = :c AND seq = 2", c=two_cases[1])
    assert list(broken(session)) == [two_cases[1]]


def test_deleted_last_event_is_found(database, session, two_cases):
    tamper(database, "DELETE FROM events WHERE case_id = :c AND seq = 4", c=two_cases[1])
    assert list(broken(session)) == [two_cases[1]]


def test_inserted_event_is_found(database, session, two_cases):
    tamper(
        database,
        "INSERT INTO events (case_id, organisation_id, seq, at, actor_label, \"trigger\", from_state, to_state, data, "
        "prev_hash, hash) "
        "SELECT case_id, organisation_id, 99, at, actor_label, \"trigger\", from_state, to_state, data, prev_hash, "
        "hash "
        "FROM events WHERE case_id = :c AND seq = 2",
        c=two_cases[0],
    )
    assert list(broken(session)) == [two_cases[0]]
