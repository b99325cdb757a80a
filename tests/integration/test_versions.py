"""Workflow versions: new cases take the newest, running cases keep theirs, chosen cases move (issue 3, point 4)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from mediation import db as dbmod
from mediation.engine import Engine
from mediation.enums import Role
from mediation.errors import InvalidTransition, ValidationError
from mediation.models import Case, Event, WorkflowDefinition
from mediation.services import UnitOfWork, file_case, fire
from mediation.versions import check_versions, migrate_cases, parse_mapping
from mediation.workflow import WORKFLOWS_DIR, Registry

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "versions"
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
FILING = {
    "workflow": "labour", "category": "wages", "filed_via": "walk_in", "facts": "欠薪", "claims": "付清",
    "parties": [{"role": "applicant", "name": "张某"}, {"role": "respondent", "name": "某公司"}],
}


@pytest.fixture
def two_versions(database, session) -> Registry:
    registry = Registry.from_directory(WORKFLOWS_DIR, FIXTURES)
    dbmod.sync_workflows(session, registry)
    return registry


def test_new_cases_take_the_newest_and_running_cases_keep_theirs(database, uow, make_user, two_versions):
    officer = make_user(Role.LIAISON_OFFICER)
    with uow:  # filed while only version 1 was deployed
        old = file_case(uow, officer.id, FILING, now=NOW)
    both = UnitOfWork(database.session_factory, Engine(two_versions))
    with both:
        new = file_case(both, officer.id, FILING, now=NOW)
    with both:
        fire(both, new.case_id, "screen", officer.id, now=NOW)
    with both:
        moved = fire(both, old.case_id, "accept", officer.id, {"severity": "general"}, now=NOW)
    assert moved.to_state == "tier2"
    with pytest.raises(InvalidTransition), both:
        fire(both, old.case_id, "screen", officer.id, now=NOW)  # version 1 has no screening step
    with database.session_factory() as s:
        versions = {c.id: c.workflow_version for c in s.scalars(select(Case))}
    assert versions == {old.case_id: 1, new.case_id: 2}


def test_chosen_cases_move_with_one_event_each(database, uow, make_user, two_versions):
    officer = make_user(Role.LIAISON_OFFICER)
    ids = []
    for _ in range(3):
        with uow:
            ids.append(file_case(uow, officer.id, FILING, now=NOW).case_id)
    both = UnitOfWork(database.session_factory, Engine(two_versions))
    with both:
        moved = migrate_cases(both, ("labour", 1), ("labour", 2), {"registered": "screening"}, case_ids=ids[:2])
    assert moved == ids[:2]
    with database.session_factory() as s:
        cases = {c.id: (c.workflow_version, c.state) for c in s.scalars(select(Case))}
        events = s.scalars(select(Event).where(Event.trigger == "migrate_workflow")).all()
    assert cases == {ids[0]: (2, "screening"), ids[1]: (2, "screening"), ids[2]: (1, "registered")}
    assert sorted(e.case_id for e in events) == ids[:2]
    with both:  # the moved case now runs on version 2
        assert fire(both, ids[0], "accept", officer.id, {"severity": "simple"}, now=NOW).to_state == "tier1"


def test_a_case_whose_state_has_no_mapping_is_refused_and_nothing_moves(database, uow, make_user, two_versions):
    officer = make_user(Role.LIAISON_OFFICER)
    both = UnitOfWork(database.session_factory, Engine(two_versions))
    with both:
        screened = file_case(both, officer.id, FILING, now=NOW).case_id
    with both:
        fire(both, screened, "screen", officer.id, now=NOW)
    with both:
        plain = file_case(both, officer.id, FILING, now=NOW).case_id
    with pytest.raises(ValidationError) as info, both:
        migrate_cases(both, ("labour", 2), ("labour", 1), {})
    assert "screening" in info.value.errors["states"]
    with database.session_factory() as s:
        assert {c.id: c.workflow_version for c in s.scalars(select(Case))} == {screened: 2, plain: 2}


def test_mapping_to_an_unknown_state_is_refused(database, two_versions):
    both = UnitOfWork(database.session_factory, Engine(two_versions))
    with pytest.raises(ValidationError), both:
        migrate_cases(both, ("labour", 1), ("labour", 2), {"tier2": "nowhere"})
    with pytest.raises(ValidationError):
        parse_mapping(["tier2"])


def test_check_finds_a_changed_recorded_version(session, registry):
    assert check_versions(session, registry) == []
    stored = session.get(WorkflowDefinition, ("labour", 1))
    stored.digest = "0" * 64
    session.commit()
    problems = check_versions(session, registry)
    assert [(p.workflow, p.version) for p in problems] == [("labour", 1)]
