"""Concurrent writers: optimistic version checks and gap-free case numbers (DESIGN.md §2, §4).

Each writer runs in its own thread with its own connection. On SQLite every write
transaction begins IMMEDIATE, so writers queue; on PostgreSQL two fires on one case
really overlap and the version check in ``UPDATE cases … WHERE version = :seen``
decides the winner.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from mediation import actions
from mediation.clocks import SHANGHAI
from mediation.enums import Role
from mediation.errors import ConflictError
from mediation.models import Case, Event
from mediation.services import Fired, UnitOfWork, file_case, fire, sweep

from .journeys import DATA, FILINGS, Station, open_station


@pytest.fixture
def station(uow, session, make_user, organisation) -> Station:
    return open_station(uow, session, make_user, organisation)


def run_together(jobs: list[Callable[[], Any]], timeout: float = 60) -> list[Any]:
    """Run each job in its own thread at once; returns each result or the exception it raised."""
    results: list[Any] = [None] * len(jobs)
    start = threading.Barrier(len(jobs))

    def run(i: int) -> None:
        start.wait(timeout)
        try:
            results[i] = jobs[i]()
        except Exception as exc:  # the test inspects what each writer got
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a writer hung"
    return results


def fire_in_own_uow(station: Station, case_id: int, trigger: str, role: Role, **kwargs: Any) -> Callable[[], Fired]:
    def job() -> Fired:
        uow = UnitOfWork(station.uow.session_factory, station.uow.engine)
        with uow:
            return fire(uow, case_id, trigger, station.user(role).id, DATA[trigger], **kwargs)

    return job


def event_count(station: Station, case_id: int) -> int:
    return station.read(lambda s: s.scalar(select(func.count()).select_from(Event).where(Event.case_id == case_id)))


@pytest.mark.parametrize("trigger", ["add_note", "record_session"])
def test_two_users_firing_on_the_version_they_saw_one_wins_one_conflicts(station, trigger):
    """Two people submit on the page they loaded (same version): one event, one ConflictError."""
    case_id = station.drive_to("labour", "tier2")
    seen = station.case(case_id).version
    events = event_count(station, case_id)
    station.user(Role.LIAISON_OFFICER)
    results = run_together([
        fire_in_own_uow(station, case_id, trigger, Role.STATION_CHIEF, expected_version=seen),
        fire_in_own_uow(station, case_id, trigger, Role.LIAISON_OFFICER, expected_version=seen),
    ])
    assert sorted(type(r).__name__ for r in results) == ["ConflictError", "Fired"]
    assert event_count(station, case_id) == events + 1
    assert station.case(case_id).version == seen + 1


def test_overlapping_fires_that_both_loaded_the_case_one_wins_one_conflicts(station, database, monkeypatch):
    """Both transactions read version v before either writes; the database's version check picks one.

    Only PostgreSQL lets two writers overlap: SQLite's BEGIN IMMEDIATE queues the second
    before it can read, so there the second simply sees the first's result.
    """
    if database.dialect != "postgresql":
        pytest.skip("SQLite serialises writers at BEGIN IMMEDIATE; no two can hold the same version")
    case_id = station.drive_to("labour", "tier2")
    seen = station.case(case_id).version
    events = event_count(station, case_id)
    station.user(Role.LIAISON_OFFICER)
    both_loaded = threading.Barrier(2)
    real_apply = actions.apply

    def apply_after_both_loaded(trigger: str, ctx: actions.Context) -> None:
        both_loaded.wait(30)  # each has loaded the case at version ``seen`` by now
        real_apply(trigger, ctx)

    monkeypatch.setattr(actions, "apply", apply_after_both_loaded)
    results = run_together([
        fire_in_own_uow(station, case_id, "add_note", Role.STATION_CHIEF),
        fire_in_own_uow(station, case_id, "add_note", Role.LIAISON_OFFICER),
    ])
    assert sorted(type(r).__name__ for r in results) == ["ConflictError", "Fired"], results
    assert event_count(station, case_id) == events + 1
    assert station.case(case_id).version == seen + 1
    loser = next(r for r in results if isinstance(r, ConflictError))
    assert "reload" in str(loser)


def test_overlapping_moves_on_one_case_leave_it_in_one_consistent_state(station, database, monkeypatch):
    """Escalate and suspend race on a tier-1 case: exactly one move happens."""
    if database.dialect != "postgresql":
        pytest.skip("SQLite serialises writers at BEGIN IMMEDIATE")
    case_id = station.drive_to("labour", "tier1")
    events = event_count(station, case_id)
    station.user(Role.DEPARTMENT_HEAD)
    both_loaded = threading.Barrier(2)
    real_apply = actions.apply

    def apply_after_both_loaded(trigger: str, ctx: actions.Context) -> None:
        both_loaded.wait(30)
        real_apply(trigger, ctx)

    monkeypatch.setattr(actions, "apply", apply_after_both_loaded)
    results = run_together([
        fire_in_own_uow(station, case_id, "escalate", Role.STATION_CHIEF),
        fire_in_own_uow(station, case_id, "suspend", Role.DEPARTMENT_HEAD),
    ])
    winner = next(r for r in results if isinstance(r, Fired))
    assert any(isinstance(r, ConflictError) for r in results), results
    assert station.case(case_id).state == winner.to_state
    assert event_count(station, case_id) == events + 1


def test_concurrent_filings_get_consecutive_numbers(station, database):
    """Case numbers run per organisation and year without a gap or a repeat (R26–R27, DESIGN.md §4)."""
    n = 20 if database.dialect == "postgresql" else 10
    officer = station.user(Role.LIAISON_OFFICER)
    org_id = station.enterprise.organisation_id

    def file_one() -> Any:
        uow = UnitOfWork(station.uow.session_factory, station.uow.engine)
        with uow:
            return file_case(uow, officer.id, FILINGS["labour"], organisation_id=org_id)

    results = run_together([file_one] * n)
    assert not [r for r in results if isinstance(r, Exception)], results
    seqs = sorted(station.read(lambda s: list(s.scalars(select(Case.number_seq)))))
    assert seqs == list(range(1, n + 1))
    assert len({r.number for r in results}) == n


def test_many_writers_on_one_case_leave_an_unbroken_chain(station):
    """Whatever wins, every saved event follows the one before it: no gap, no fork (R8)."""
    case_id = station.drive_to("labour", "tier2")
    before = event_count(station, case_id)
    results = run_together([fire_in_own_uow(station, case_id, "add_note", Role.STATION_CHIEF)] * 8)
    assert all(isinstance(r, Fired | ConflictError) for r in results), results
    saved = sum(isinstance(r, Fired) for r in results)
    assert saved >= 1
    events = station.events(case_id)
    assert len(events) == before + saved
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(events))
    assert station.case(case_id).version == len(events) + 1


def test_two_sweeps_at_once_act_on_each_lapsed_clock_once(station):
    """DESIGN.md §2: concurrent sweeps (several hosts) never act twice on one clock."""
    day = datetime(2026, 3, 2, 9, tzinfo=SHANGHAI)
    ids = []
    for _ in range(5):
        case_id = station.file(now=day).case_id
        station.fire(case_id, "accept", {"severity": "simple"}, now=day)
        ids.append(case_id)
    later = day + timedelta(days=30)

    def sweep_once() -> list[tuple[int, str]]:
        uow = UnitOfWork(station.uow.session_factory, station.uow.engine)
        with uow:
            return sweep(uow, now=later)

    results = run_together([sweep_once, sweep_once])
    assert not [r for r in results if isinstance(r, Exception)], results
    acted = [item for r in results for item in r]
    assert len(acted) == len(set(acted))
    assert sorted(acted) == sorted((i, name) for i in ids for name in ("statutory_period", "tier1_service"))
    lapses = station.read(lambda s: s.scalar(select(func.count()).select_from(Event)
                                             .where(Event.trigger == "clock_expired")))
    assert lapses == len(acted)
