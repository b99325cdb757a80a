"""A third kind of dispute added as data only (DESIGN.md §2): 治安调解, minor assault.

``tests/fixtures/workflows/minor_assault.yaml`` is loaded beside the shipped definitions;
a case runs through it from filing to a final state through the same services, with
no change to the engine.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest

from mediation.clocks import SHANGHAI
from mediation.db import sync_workflows
from mediation.engine import Engine
from mediation.enums import Category, Role
from mediation.errors import InvalidTransition, PermissionDenied, ValidationError
from mediation.services import UnitOfWork, sweep
from mediation.workflow import WORKFLOWS_DIR, Registry

from .journeys import Station, open_station

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "workflows"
FILING = {
    "category": "minor_assault",
    "filed_via": "police_referral",
    "facts": "双方因停车发生口角，互相推搡，申请人面部轻微伤",
    "claims": "赔偿医药费800元并赔礼道歉",
    "parties": [
        {"role": "applicant", "name": "陈某", "phone": "13700000303"},
        {"role": "respondent", "name": "吴某"},
    ],
}
TERMS = [{"obligor": "r1", "obligee": "a1", "text": "赔偿医药费800元", "amount": "800", "due_on": "2026-03-05"},
         {"obligor": "r1", "obligee": "a1", "text": "当面赔礼道歉"}]


def at(day: str, hour: int = 9) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour), tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def registry3() -> Registry:
    """The shipped definitions and the test-only third one."""
    return Registry.from_directory(WORKFLOWS_DIR, FIXTURES)


@pytest.fixture
def station(database, session, make_user, organisation, registry3) -> Station:
    """A station whose unit of work runs an engine on the three-workflow registry."""
    with database.session_factory() as s:
        sync_workflows(s, registry3)  # cases reference the new workflow's states
    uow = UnitOfWork(database.session_factory, Engine(registry3))
    return open_station(uow, session, make_user, organisation)


def file(station: Station, actor: Role = Role.COMMUNITY_OFFICER) -> int:
    return station.file("minor_assault", actor=actor, **FILING).case_id


def test_the_third_definition_loads_beside_the_shipped_ones(registry3):
    assert registry3.names() == ["labour", "minor_assault", "neighbour"]
    minor = registry3.get("minor_assault")
    assert minor.categories == (Category.MINOR_ASSAULT.value,)
    assert sorted(minor.tiers) == [1, 2]


def test_a_minor_assault_case_runs_from_report_to_settlement_by_written_agreement(station):
    """Filing, acceptance, a phone call, the agreement, the chief's approval, performance: settled."""
    case_id = file(station)
    case = station.case(case_id)
    assert (case.workflow, case.state, case.category.value) == ("minor_assault", "reported", "minor_assault")
    officer, chief = Role.COMMUNITY_OFFICER, Role.STATION_CHIEF
    assert station.fire(case_id, "accept", {"severity": "general"}, actor=officer).to_state == "officer_mediation"
    assert station.case(case_id).tier == 1
    call = station.fire(case_id, "record_call", {"note": "电话通知双方到所调解"}, actor=officer)
    assert call.to_state == "officer_mediation"
    assert station.events(case_id)[-1].data == {"note": "电话通知双方到所调解"}
    drafted = station.fire(case_id, "draft_agreement", {"terms": TERMS}, actor=officer)
    assert (drafted.to_state, drafted.documents) == ("agreement_drafted", ("agreement",))
    assert station.fire(case_id, "sign", {}, actor=officer).to_state == "chief_review"
    assert station.case(case_id).current_agreement.status.value == "awaiting_signoff"
    with pytest.raises(PermissionDenied):
        station.fire(case_id, "sign_off", {}, actor=officer)
    assert station.fire(case_id, "sign_off", {}, actor=chief).to_state == "performing"
    agreement = station.case(case_id).current_agreement
    assert agreement.status.value == "effective" and agreement.signed_off_at is not None
    assert station.fire(case_id, "record_performance", {"term": 2}, actor=officer).to_state == "performing"
    settled = station.fire(case_id, "record_performance", {"term": 1}, actor=officer)
    assert (settled.to_state, settled.documents) == ("settled", ("dossier",))
    case = station.case(case_id)
    assert case.closed_at is not None
    assert [e.trigger for e in case.events] == ["file", "accept", "record_call", "draft_agreement", "sign",
                                                "sign_off", "record_performance", "record_performance"]


def test_a_major_minor_assault_goes_to_the_chief_and_settles_on_the_spot(station):
    case_id = file(station)
    assert station.fire(case_id, "accept", {"severity": "major"}).to_state == "chief_mediation"
    settled = station.fire(case_id, "record_oral_agreement", {"text": "当场赔偿800元并道歉", "performed": True})
    assert (settled.to_state, settled.documents) == ("settled", ("oral_agreement", "dossier"))


def test_failed_mediation_is_referred_for_a_penalty_decision(station):
    case_id = file(station)
    station.fire(case_id, "accept", {"severity": "simple"}, actor=Role.COMMUNITY_OFFICER)
    with pytest.raises(ValidationError) as info:
        station.fire(case_id, "terminate", {"reason": "被申请人拒绝赔偿"}, actor=Role.COMMUNITY_OFFICER)
    assert set(info.value.errors) == {"referral"}
    done = station.fire(case_id, "terminate", {"reason": "被申请人拒绝赔偿", "referral": "administrative"},
                        actor=Role.COMMUNITY_OFFICER)
    assert done.to_state == "penalty_referred"


def test_the_new_activity_needs_its_note(station):
    case_id = file(station)
    station.fire(case_id, "accept", {"severity": "simple"}, actor=Role.COMMUNITY_OFFICER)
    with pytest.raises(ValidationError) as info:
        station.fire(case_id, "record_call", {"note": "  "}, actor=Role.COMMUNITY_OFFICER)
    assert set(info.value.errors) == {"note"}


@pytest.mark.parametrize("trigger", ["suspend", "reopen", "record_follow_up"])
def test_a_trigger_this_kind_does_not_use_is_an_invalid_transition(station, trigger):
    case_id = file(station)
    station.fire(case_id, "accept", {"severity": "simple"}, actor=Role.COMMUNITY_OFFICER)
    before = station.snapshot(case_id)
    with pytest.raises(InvalidTransition):
        station.fire(case_id, trigger, {"reason": "x", "note": "x"})
    assert station.snapshot(case_id) == before


def test_the_new_activity_is_refused_on_the_shipped_workflows(station):
    labour = station.drive_to("labour", "tier2")
    with pytest.raises(InvalidTransition):
        station.fire(labour, "record_call", {"note": "电话"})


def test_a_category_of_another_workflow_is_refused(station):
    with pytest.raises(ValidationError) as info:
        station.file("minor_assault", **dict(FILING, category="wages"))
    assert set(info.value.errors) == {"category"}


def test_an_overrun_officer_deadline_escalates_to_the_chief_as_the_system(station):
    """DESIGN.md §3: a definition may say the deadline escalates; the sweep fires it as the system actor."""
    case_id = station.file("minor_assault", actor=Role.COMMUNITY_OFFICER, now=at("2026-03-02", 8),
                           **FILING).case_id
    station.fire(case_id, "accept", {"severity": "simple"}, actor=Role.COMMUNITY_OFFICER, now=at("2026-03-02"))
    with station.uow:
        assert sweep(station.uow, now=at("2026-03-05", 23)) == []  # the 3rd day, 5 March, is not over
    with station.uow:
        assert sweep(station.uow, now=at("2026-03-06", 1)) == [(case_id, "officer_deadline")]
    case = station.case(case_id)
    assert (case.state, case.tier) == ("chief_mediation", 2)
    escalated = case.events[-1]
    assert (escalated.trigger, escalated.actor_id, escalated.actor_label) == ("escalate", None, "系统")
    assert (escalated.from_state, escalated.to_state) == ("officer_mediation", "chief_mediation")
    assert escalated.reason
    assert next(c for c in case.clocks if c.name == "officer_deadline").status.value == "expired"
    notice = station.outbox(case_id)[-1]
    assert notice.kind == "clock_expired"
    assert notice.payload["notify_roles"] == ["station_chief"]  # the lead of the tier it went to
    before = station.snapshot(case_id)
    with station.uow:
        assert sweep(station.uow, now=at("2026-03-20")) == []
    assert station.snapshot(case_id) == before
