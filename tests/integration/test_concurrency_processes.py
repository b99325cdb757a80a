"""Concurrency across processes (several gunicorn workers or hosts on one database), issue 3 point 7."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from mediation.audit import verify_all
from mediation.enums import Role
from mediation.models import Case, Event
from mediation.services import file_case, fire

from . import _workers

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _pool(processes: int):
    return multiprocessing.get_context("spawn").Pool(processes)


def test_many_processes_firing_on_the_same_cases_lose_no_update(database, uow, make_user, session):
    """8 processes x 200 fires on 20 cases (PostgreSQL; 4 x 50 on SQLite, whose writers queue):
    every case's state is its last event's destination and every successful fire left one event."""
    officer = make_user(Role.STATION_CHIEF)
    ids = []
    for _ in range(20):
        with uow:
            case_id = file_case(uow, officer.id, {
                "workflow": "labour", "category": "wages", "filed_via": "walk_in", "facts": "欠薪", "claims": "付清",
                "parties": [{"role": "applicant", "name": "张某"}, {"role": "respondent", "name": "某公司"}],
            }, now=NOW).case_id
        with uow:
            fire(uow, case_id, "accept", officer.id, {"severity": "major"}, now=NOW)
        ids.append(case_id)
    processes, fires = (8, 200) if database.dialect == "postgresql" else (4, 50)
    with _pool(processes) as pool:
        results = pool.starmap(
            _workers.fire_many, [(database.url, officer.id, ids, fires, seed) for seed in range(processes)]
        )
    succeeded = sum(r["ok"] for r in results)
    assert sum(sum(r.values()) for r in results) == processes * fires
    if database.dialect == "sqlite":
        assert all(r["conflict"] == 0 for r in results)  # writers wait for each other instead of failing
    session.expire_all()
    events = session.scalars(select(Event).where(Event.case_id.in_(ids)).order_by(Event.case_id, Event.seq)).all()
    assert len(events) == 2 * len(ids) + succeeded  # file + accept per case, then one per successful fire
    last = {e.case_id: e for e in events}
    for case in session.scalars(select(Case).where(Case.id.in_(ids))):
        assert case.state == last[case.id].to_state
    assert list(verify_all(session)) == []


def test_concurrent_filings_from_processes_get_consecutive_numbers(database, make_user):
    """50 filings at once from 5 processes: numbers 1–50, no gap, no duplicate."""
    officer = make_user(Role.LIAISON_OFFICER)
    with _pool(5) as pool:
        numbers = [n for batch in pool.starmap(_workers.file_many, [(database.url, officer.id, 10)] * 5) for n in batch]
    expected = {f"（2026）温溪警调字第{i:04d}号" for i in range(1, 51)}
    assert len(numbers) == 50 and set(numbers) == expected


@pytest.fixture(autouse=True)
def _spawned_children_find_the_tests_package(monkeypatch):
    """Spawned workers import ``tests.integration._workers`` from the repository root."""
    import os
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if root not in sys.path:
        monkeypatch.syspath_prepend(root)
