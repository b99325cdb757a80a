"""The engine on persisted cases: every state × every trigger of both shipped workflows.

Cases are brought to each state through the services (``journeys.PATHS``); each
trigger is then fired by the station chief with valid data. DESIGN.md §3 is the table
of what must happen.
"""

from __future__ import annotations

import gc
import itertools
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from mediation import policy
from mediation.clocks import SHANGHAI
from mediation.engine import Engine as WorkflowEngine
from mediation.engine import _Token
from mediation.enums import Role
from mediation.errors import ConflictError, InvalidTransition, NotFound, PermissionDenied, ValidationError
from mediation.models import Case, CaseClock, Enterprise
from mediation.services import GENESIS_HASH, UnitOfWork, event_hash, event_hash_fields, fire, sweep

from .journeys import DATA, PATHS, TERMS, Station, open_station, shared_station

STAY = "(stays)"
#: What the record allows at any time, open or closed: a note, a piece of evidence.
ON_FILE = {"add_note": STAY, "attach": STAY}
#: What every mediating stage allows: terminate, withdraw and the timeline activities.
ANY_OPEN_STAGE = {"terminate": "terminated", "withdraw": "withdrawn", "record_visit": STAY,
                  "record_investigation": STAY, "cancel_session": STAY, "record_group_members": STAY, **ON_FILE}
#: Sessions are held and planned while mediating, and around an agreement not yet in force.
MEETINGS = {"record_session": STAY, "schedule_session": STAY}
TIER_WORK = {
    "suspend": "suspended",
    "draft_agreement": "agreement_drafted",
    "record_oral_agreement": "follow_up",  # performed on the spot
    **MEETINGS,
    **ANY_OPEN_STAGE,
}
#: What each trigger does from each state (DESIGN.md §3); a trigger not listed is refused.
EXPECTED: dict[str, dict[str, str]] = {
    "registered": {"accept": "tier2", "decline": "declined", "withdraw": "withdrawn", "record_group_members": STAY,
                   **ON_FILE},
    "tier1": {"escalate": "tier2", **TIER_WORK},
    "tier2": {"escalate": "tier3", **TIER_WORK},
    "tier3": dict(TIER_WORK),
    "suspended": {"resume": "tier2", **ANY_OPEN_STAGE},
    "agreement_drafted": {"draft_agreement": "agreement_drafted", "sign": "performing", **MEETINGS,
                          **ANY_OPEN_STAGE},
    "awaiting_signoff": {"sign_off": "performing", **MEETINGS, **ANY_OPEN_STAGE},
    "performing": {"record_performance": STAY, "report_breach": "breached", "record_follow_up": STAY,
                   "apply_judicial_confirmation": STAY, **ANY_OPEN_STAGE},
    "breached": {"record_performance": STAY, "report_breach": "breached", "reopen": "tier2",
                 "apply_judicial_confirmation": STAY, **MEETINGS, **ANY_OPEN_STAGE},
    # reached by an oral agreement, so no judicial confirmation (People's Mediation Law Art. 33)
    "follow_up": {"record_follow_up": "resolved", **ANY_OPEN_STAGE},
    "resolved": dict(ON_FILE),
    "terminated": dict(ON_FILE),
    "withdrawn": dict(ON_FILE),
    "declined": dict(ON_FILE),
}
#: Offered by the machine but impossible for want of data: a registered case has no tier,
#: so no session can have been scheduled for ``cancel_session`` (its source is ``@open``).
OFFERED_WITHOUT_DATA: dict[str, set[str]] = {"registered": {"cancel_session"}}
WORKFLOWS = ("labour", "neighbour")
TRIGGERS = tuple(DATA)


@pytest.fixture
def station(uow, session, make_user, organisation) -> Station:
    """A station in a database emptied for this test."""
    return open_station(uow, session, make_user, organisation)


@pytest.fixture
def busy_station(database_session, workflow_engine) -> Station:
    """A station shared by the state × trigger tests; each files its own case."""
    return shared_station(database_session, workflow_engine)


def test_the_table_covers_every_state_and_trigger_of_both_workflows(registry):
    for name in WORKFLOWS:
        definition = registry.get(name)
        assert set(EXPECTED) == set(definition.states) == set(PATHS)
        assert set(TRIGGERS) == set(definition.triggers)


@pytest.mark.db
@pytest.mark.parametrize("trigger", TRIGGERS)
@pytest.mark.parametrize("state", list(EXPECTED))
@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_trigger_from_state_moves_as_designed_or_changes_nothing(busy_station, workflow, state, trigger):
    """Allowed: one move to the designed state and one event. Refused: nothing saved."""
    station = busy_station
    case_id = station.drive_to(workflow, state)
    before = station.snapshot(case_id)
    expected = EXPECTED[state].get(trigger)
    if expected is None:
        with pytest.raises((InvalidTransition, ValidationError)):
            station.fire(case_id, trigger)
        assert station.snapshot(case_id) == before
        return
    fired = station.fire(case_id, trigger)
    after = station.snapshot(case_id)
    dest = state if expected == STAY else expected
    assert (fired.from_state, fired.to_state) == (state, dest)
    assert after.state == dest
    assert after.version == before.version + 1 == fired.version
    assert after.events == before.events + 1
    last = station.events(case_id)[-1]
    assert (last.trigger, last.from_state, last.to_state, last.id) == (trigger, state, dest, fired.event_id)


@pytest.mark.db
@pytest.mark.parametrize("state", list(EXPECTED))
@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_actions_offered_in_a_state_are_exactly_those_designed(busy_station, workflow_engine, registry, workflow,
                                                              state):
    """The UI's buttons (``Engine.available``) match the table (STYLE.md rule 4)."""
    case = busy_station.case(busy_station.drive_to(workflow, state))
    offered = workflow_engine.available(registry.get(workflow), case)
    assert sorted(offered) == sorted(set(EXPECTED[state]) | OFFERED_WITHOUT_DATA.get(state, set()))


# --- specific behaviours ----------------------------------------------------------

@pytest.mark.parametrize(("severity", "tier"), [("simple", 1), ("general", 2), ("major", 3)])
@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_accept_sends_the_case_to_the_tier_of_its_severity(station, workflow, severity, tier):
    """Severity found at triage picks the tier (DESIGN.md §1, 分级调处)."""
    case_id = station.file(workflow).case_id
    fired = station.fire(case_id, "accept", {"severity": severity})
    case = station.case(case_id)
    assert (fired.to_state, case.tier, case.severity.value) == (f"tier{tier}", tier, severity)
    assert case.accepted_at is not None


@pytest.mark.parametrize("tier", [1, 2, 3])
def test_resume_returns_to_the_tier_the_case_left(station, tier):
    """Suspended (中止) waits on an outside procedure, then mediation goes on where it was."""
    case_id = station.file().case_id
    station.fire(case_id, "accept", {"severity": "simple"})
    for _ in range(tier - 1):
        station.fire(case_id, "escalate")
    station.fire(case_id, "suspend")
    assert station.case(case_id).state == "suspended"
    assert station.fire(case_id, "resume").to_state == f"tier{tier}"


@pytest.mark.parametrize("tier", [1, 2, 3])
def test_reopen_after_breach_returns_to_the_tier_that_reached_the_agreement(station, tier):
    """R19 (劳动争议调解仲裁法 第15条): non-performance; the case may be mediated again."""
    case_id = station.file().case_id
    station.fire(case_id, "accept", {"severity": ("simple", "general", "major")[tier - 1]})
    station.fire(case_id, "draft_agreement")
    station.fire(case_id, "sign")
    if tier == 3:
        station.fire(case_id, "sign_off")
    station.fire(case_id, "report_breach")
    assert station.case(case_id).current_agreement.tier == tier
    assert station.fire(case_id, "reopen").to_state == f"tier{tier}"


def test_tier3_agreement_waits_for_the_chief_and_only_the_chief_signs_off(station):
    """A tier-3 agreement is signed by the parties, then signed off by the station chief (所长审签)."""
    case_id = station.file().case_id
    station.fire(case_id, "accept", {"severity": "major"})
    station.fire(case_id, "draft_agreement")
    assert station.fire(case_id, "sign").to_state == "awaiting_signoff"
    assert station.case(case_id).current_agreement.status.value == "awaiting_signoff"
    before = station.snapshot(case_id)
    with pytest.raises(PermissionDenied):
        station.fire(case_id, "sign_off", actor=Role.LIAISON_OFFICER)
    assert station.snapshot(case_id) == before
    assert station.fire(case_id, "sign_off").to_state == "performing"
    agreement = station.case(case_id).current_agreement
    assert agreement.status.value == "effective"
    assert agreement.signed_off_by_id == station.user(Role.STATION_CHIEF).id


@pytest.mark.parametrize("role", list(Role))
def test_only_the_station_chief_may_sign_off(station, role):
    """``sign_off`` names the station chief alone (派出所所长负责制, DESIGN.md §1)."""
    case_id = station.drive_to("labour", "awaiting_signoff")
    before = station.snapshot(case_id)
    if role is Role.STATION_CHIEF:
        assert station.fire(case_id, "sign_off", actor=role).to_state == "performing"
        return
    # who cannot see the case is told it does not exist; who can is told no
    refused = PermissionDenied if policy.can_view(station.user(role), station.case(case_id)) else NotFound
    with pytest.raises(refused):
        station.fire(case_id, "sign_off", actor=role)
    assert station.snapshot(case_id) == before


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_sign_below_tier3_puts_the_agreement_in_force(station, workflow):
    """R10 (人民调解法 第29条): signed by every party and the mediator, the agreement takes effect."""
    case_id = station.drive_to(workflow, "agreement_drafted")
    assert station.fire(case_id, "sign").to_state == "performing"
    agreement = station.case(case_id).current_agreement
    assert agreement.status.value == "effective" and agreement.effective_at is not None


def test_oral_agreement_performed_on_the_spot_goes_to_follow_up(station):
    """R9 (人民调解法 第28、30条): an oral agreement takes effect when reached."""
    case_id = station.drive_to("labour", "tier1")
    fired = station.fire(case_id, "record_oral_agreement", {"text": "当场支付工资3000元", "performed": True})
    assert fired.to_state == "follow_up"
    agreement = station.case(case_id).current_agreement
    assert agreement.kind.value == "oral" and agreement.status.value == "effective"
    assert "oral_agreement" in fired.documents


@pytest.mark.parametrize("performed", [False, "false", "0"])
def test_oral_agreement_with_terms_to_perform_later_goes_to_performing(station, performed):
    """R9 (人民调解法 第28条): an oral agreement's terms are performed later; a form's "false" is false."""
    case_id = station.drive_to("labour", "tier2")
    fired = station.fire(case_id, "record_oral_agreement",
                         {"text": "分两期支付", "terms": TERMS, "performed": performed})
    assert fired.to_state == "performing"
    agreement = station.case(case_id).current_agreement
    assert [o.seq for o in agreement.obligations] == [1, 2]
    assert all(o.performed_at is None for o in agreement.obligations)


def test_oral_agreement_to_perform_later_needs_its_terms(station):
    """R31 (口头协议登记表): what is to be performed later must be written down as terms."""
    case_id = station.drive_to("labour", "tier2")
    before = station.snapshot(case_id)
    with pytest.raises(ValidationError) as info:
        station.fire(case_id, "record_oral_agreement", {"text": "以后再付", "performed": False})
    assert "terms" in info.value.errors
    assert station.snapshot(case_id) == before


@pytest.mark.parametrize("order", [(1, 2), (2, 1)])
def test_performance_reaches_follow_up_only_when_every_term_is_performed(station, order):
    """R11 (人民调解法 第31条): the committee supervises performance, term by term, in any order."""
    case_id = station.drive_to("labour", "performing")
    first, second = order
    assert station.fire(case_id, "record_performance", {"term": first}).to_state == "performing"
    with pytest.raises(ValidationError) as info:  # the same term twice
        station.fire(case_id, "record_performance", {"term": first})
    assert "term" in info.value.errors
    assert station.fire(case_id, "record_performance", {"term": second}).to_state == "follow_up"


def test_performance_of_the_breached_term_after_the_rest_reaches_follow_up(station):
    """R19 (劳动争议调解仲裁法 第15条): a late payment still completes the agreement."""
    case_id = station.drive_to("labour", "breached")  # term 1 breached
    assert station.fire(case_id, "record_performance", {"term": 2}).to_state == "breached"
    assert station.fire(case_id, "record_performance", {"term": 1}).to_state == "follow_up"
    assert all(o.breached_at is None for o in station.case(case_id).current_agreement.obligations)


def test_follow_up_visit_while_performing_is_a_supervision_visit(station):
    """R11 (人民调解法 第31条): a visit while performing records supervision; the state stays."""
    case_id = station.drive_to("labour", "performing")
    fired = station.fire(case_id, "record_follow_up")
    assert fired.to_state == "performing"
    assert "follow_up" in fired.documents and "dossier" not in fired.documents


def test_follow_up_visit_after_performance_resolves_the_case(station):
    """R32 (回访记录): the follow-up visit closes a performed case."""
    case_id = station.drive_to("labour", "follow_up")
    fired = station.fire(case_id, "record_follow_up")
    assert fired.to_state == "resolved"
    assert {"follow_up", "dossier"} <= set(fired.documents)
    assert station.case(case_id).closed_at is not None


MEDIATING = ["tier1", "tier2", "tier3", "suspended", "agreement_drafted", "awaiting_signoff", "performing",
             "breached", "follow_up"]


@pytest.mark.parametrize("missing", ["reason", "referral"])
@pytest.mark.parametrize("state", MEDIATING)
def test_terminate_from_every_open_mediating_state_needs_reason_and_referral(station, state, missing):
    """R7 (人民调解法 第26条): failed mediation ends, and the parties are told the other channels."""
    case_id = station.drive_to("labour", state)
    before = station.snapshot(case_id)
    data = {k: v for k, v in DATA["terminate"].items() if k != missing}
    with pytest.raises(ValidationError) as info:
        station.fire(case_id, "terminate", data)
    assert set(info.value.errors) == {missing}
    assert station.snapshot(case_id) == before
    fired = station.fire(case_id, "terminate", dict(DATA["terminate"], referral="payment_order"))
    assert fired.to_state == "terminated"
    assert station.events(case_id)[-1].data["referral"] == "payment_order"


def test_terminate_refuses_an_unknown_referral(station):
    """R7 (人民调解法 第26条): the referral is one of the channels the law names."""
    case_id = station.drive_to("labour", "tier2")
    with pytest.raises(ValidationError) as info:
        station.fire(case_id, "terminate", {"reason": "调解不成", "referral": "somewhere"})
    assert set(info.value.errors) == {"referral"}


@pytest.mark.parametrize("missing", ["reason", "referral"])
def test_decline_needs_reason_and_referral(station, missing):
    """R2 (人民调解法 第17条): a refusal is recorded with its reason and the advice given."""
    case_id = station.file().case_id
    with pytest.raises(ValidationError) as info:
        station.fire(case_id, "decline", {k: v for k, v in DATA["decline"].items() if k != missing})
    assert missing in info.value.errors
    assert station.case(case_id).state == "registered"


def test_agreement_with_open_amount_and_due_date_is_drafted(station):
    """R10 (人民调解法 第29条): a term need not carry an amount or a due date (e.g. an apology)."""
    case_id = station.drive_to("labour", "tier2")
    terms = [{"obligor": "r1", "obligee": "a1", "text": "向申请人赔礼道歉"},
             {"obligor": "r1", "obligee": "a1", "text": "支付工资", "amount": "9,966", "due_on": "2026-04-01"}]
    assert station.fire(case_id, "draft_agreement", {"terms": terms}).to_state == "agreement_drafted"
    first, second = station.case(case_id).current_agreement.obligations
    assert (first.amount, first.due_on) == (None, None)
    assert (second.amount, second.due_on) == (Decimal("9966.00"), date(2026, 4, 1))


@pytest.mark.parametrize(
    ("term", "field"),
    [
        ({"amount": "-1"}, "terms.1.amount"),
        ({"amount": "12.345"}, "terms.1.amount"),
        ({"amount": "一千"}, "terms.1.amount"),
        ({"obligor": "x9"}, "terms.1.obligor"),
        ({"obligee": "nobody"}, "terms.1.obligee"),
        ({"obligee": "r1"}, "terms.1.obligee"),  # a party cannot owe itself
        ({"due_on": "2026-02-30"}, "terms.1.due_on"),
        ({"text": ""}, "terms.1.text"),
    ],
)
def test_bad_agreement_term_names_the_field_and_saves_nothing(station, term, field):
    """Bad input gets a clear message naming the field; nothing is half-saved (DESIGN.md §5)."""
    case_id = station.drive_to("labour", "tier2")
    before = station.snapshot(case_id)
    with pytest.raises(ValidationError) as info:
        station.fire(case_id, "draft_agreement", {"terms": [dict(TERMS[0], **term), TERMS[1]]})
    assert set(info.value.errors) == {field}
    assert station.snapshot(case_id) == before


def test_redrafting_supersedes_the_earlier_agreement(station):
    """A changed draft is a new agreement version; the old one stays on file, superseded."""
    case_id = station.drive_to("labour", "agreement_drafted")
    station.fire(case_id, "draft_agreement", {"terms": TERMS[:1]})
    agreements = station.case(case_id).agreements
    assert [(a.version, a.status.value) for a in agreements] == [(1, "superseded"), (2, "drafted")]
    assert station.documents(case_id).count("agreement") == 2


def test_events_are_hash_chained_and_their_hashes_recompute_from_the_stored_rows(station):
    """R8 (人民调解法 第27条): the record of a case is kept whole; each event seals the one before."""
    case_id = station.drive_to("labour", "resolved")
    events = station.events(case_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == GENESIS_HASH
    for earlier, later in itertools.pairwise(events):
        assert later.prev_hash == earlier.hash
    for e in events:
        assert event_hash(event_hash_fields(e)) == e.hash


def test_documents_are_issued_as_the_case_moves(station):
    """R30–R33 (司法部《人民调解文书格式》2010): agreement, oral register, follow-up record, dossier last."""
    written = station.drive_to("labour", "performing")
    for term in (1, 2):
        station.fire(written, "record_performance", {"term": term})
    station.fire(written, "record_follow_up")
    assert outcome_documents(station, written) == ["agreement", "follow_up", "dossier"]
    oral = station.drive_to("labour", "resolved")
    assert outcome_documents(station, oral) == ["oral_agreement", "follow_up", "dossier"]
    assert station.documents(oral)[-1] == "dossier"  # the file is made up last, holding the others


OUTCOME_DOCUMENTS = ("agreement", "oral_agreement", "follow_up", "dossier")


def outcome_documents(station: Station, case_id: int) -> list[str]:
    """The case's agreement, follow-up and dossier documents in the order issued (others left out)."""
    return [kind for kind in station.documents(case_id) if kind in OUTCOME_DOCUMENTS]


@pytest.mark.parametrize(
    ("state", "dossier"),
    [("declined", False), ("terminated", True), ("withdrawn", True), ("resolved", True)],
)
def test_dossier_is_made_for_a_case_closed_after_acceptance(station, state, dossier):
    """R8, R33 (人民调解法 第27条; 人民调解文书格式 卷宗): an accepted case gets a dossier; a declined one none."""
    case_id = station.drive_to("labour", state)
    assert ("dossier" in station.documents(case_id)) is dossier


def test_withdrawal_before_acceptance_makes_no_dossier(station):
    """R8, R33 (人民调解法 第27条; 人民调解文书格式 卷宗): nothing was accepted, so no dossier is made up."""
    case_id = station.file().case_id
    assert station.fire(case_id, "withdraw").to_state == "withdrawn"
    assert "dossier" not in station.documents(case_id)


# --- who may see and do what ------------------------------------------------------

def test_a_case_of_one_enterprise_is_invisible_to_another_enterprises_liaison(station, session, make_user):
    """DESIGN.md §1: an enterprise liaison sees nothing of other enterprises."""
    other = Enterprise(organisation_id=station.enterprise.organisation_id, name="另一家企业")
    session.add(other)
    session.commit()
    other_liaison = make_user(Role.ENTERPRISE_LIAISON, enterprise=other)
    other_head = make_user(Role.DEPARTMENT_HEAD, enterprise=other)
    case_id = station.drive_to("labour", "tier1")
    case = station.case(case_id)
    assert policy.can_view(station.user(Role.ENTERPRISE_LIAISON), case)
    for stranger in (other_liaison, other_head):
        assert not policy.can_view(stranger, case)
        before = station.snapshot(case_id)
        with pytest.raises(NotFound), station.uow:
            fire(station.uow, case_id, "add_note", stranger.id, {"note": "看看"})
        assert station.snapshot(case_id) == before
    assert station.fire(case_id, "add_note", actor=Role.ENTERPRISE_LIAISON).to_state == "tier1"


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_auditor_may_view_but_fires_nothing(station, trigger):
    """An auditor (审计) reads the ledger and changes nothing."""
    case_id = station.drive_to("labour", "tier1")
    auditor = station.user(Role.AUDITOR)
    assert policy.can_view(auditor, station.case(case_id))
    before = station.snapshot(case_id)
    with pytest.raises(PermissionDenied):
        station.fire(case_id, trigger, actor=Role.AUDITOR)
    assert station.snapshot(case_id) == before


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_system_actor_fires_only_triggers_that_name_the_system(station, registry, trigger):
    """The clock sweep acts as the system actor (None) only where a definition says ``system``."""
    state = "performing" if trigger == "report_breach" else "tier1"
    case_id = station.drive_to("labour", state)
    before = station.snapshot(case_id)
    if "system" in registry.get("labour").triggers[trigger].who:
        fired = station.fire(case_id, trigger, actor=None)
        assert station.events(case_id)[-1].actor_id is None
        assert fired.version == before.version + 1
        return
    with pytest.raises(PermissionDenied):
        station.fire(case_id, trigger, actor=None)
    assert station.snapshot(case_id) == before


def test_the_system_triggers_of_the_shipped_workflows_are_escalate_and_report_breach(registry):
    for name in WORKFLOWS:
        triggers = registry.get(name).triggers.values()
        assert sorted(t.name for t in triggers if "system" in t.who) == ["escalate", "report_breach"]


@pytest.mark.parametrize("role", list(Role))
def test_tier1_work_is_done_by_its_lead_the_chief_and_no_one_else(station, registry, role):
    """Tier 1 of labour is led by the enterprise department head (包案调处, DESIGN.md §1)."""
    case_id = station.drive_to("labour", "tier1")
    allowed = role in (Role.DEPARTMENT_HEAD, Role.STATION_CHIEF)
    if allowed:
        assert station.fire(case_id, "escalate", actor=role).to_state == "tier2"
        return
    with pytest.raises((PermissionDenied, NotFound)):
        station.fire(case_id, "escalate", actor=role)
    assert station.case(case_id).state == "tier1"


def test_a_stale_version_is_refused_before_anything_changes(station):
    """Optimistic concurrency: the page was loaded at an older version."""
    case_id = station.drive_to("labour", "tier2")
    seen = station.case(case_id).version
    station.fire(case_id, "add_note")
    before = station.snapshot(case_id)
    with pytest.raises(ConflictError):
        station.fire(case_id, "record_visit", expected_version=seen)
    assert station.snapshot(case_id) == before
    assert station.fire(case_id, "record_visit", expected_version=seen + 1).version == seen + 2


def test_a_trigger_the_workflow_does_not_have_is_an_invalid_transition(station):
    case_id = station.drive_to("labour", "tier2")
    with pytest.raises(InvalidTransition):
        station.fire(case_id, "record_call", {"note": "电话"})


# --- memory -------------------------------------------------------------------------

def test_the_engine_keeps_no_case_after_firing_on_many(database, station, registry):
    """DESIGN.md §2: one machine per (workflow, version); memory does not grow with cases."""
    engine = WorkflowEngine(registry)
    station.uow = UnitOfWork(database.session_factory, engine)
    ids = [station.file("labour" if i % 2 else "neighbour").case_id for i in range(300)]
    for case_id in ids:
        station.fire(case_id, "accept", {"severity": "simple"})
    assert len(engine._machines) == 2
    for attached in engine._machines.values():
        assert attached.machine.models == [attached.token]  # its one stand-in, no case's
        assert attached.token.case is None and attached.token.data is None
    gc.collect()
    tokens = [o for o in gc.get_objects() if isinstance(o, _Token)]  # this engine's and other tests' engines'
    assert all(t.case is None and t.data is None for t in tokens)
    assert not [o for o in gc.get_objects() if isinstance(o, Case) and o.id in set(ids)]
    for name in WORKFLOWS:
        assert engine.available(registry.get(name), station.case(ids[0])) is not None
    assert len(engine._machines) == 2


# --- clocks (DOMAIN R18, R25) -------------------------------------------------------

def at(day: str, hour: int = 9, minute: int = 0) -> datetime:
    """An instant in Asia/Shanghai on ``day`` (YYYY-MM-DD)."""
    return datetime.combine(date.fromisoformat(day), time(hour, minute), tzinfo=SHANGHAI)


def clock(station: Station, case_id: int, name: str) -> CaseClock:
    return next(c for c in station.case(case_id).clocks if c.name == name)


def accepted(station: Station, severity: str, day: str = "2026-03-02") -> int:
    case_id = station.file(now=at(day, 8)).case_id
    station.fire(case_id, "accept", {"severity": severity}, now=at(day))
    return case_id


def test_the_15_day_period_starts_at_acceptance(station):
    """R18 (劳动争议调解仲裁法 第14条) with R25: accepted 2 March, the 15th day is 17 March."""
    case_id = accepted(station, "general")
    period = clock(station, case_id, "statutory_period")
    assert (period.status.value, period.started_on, period.last_day) == ("running", date(2026, 3, 2),
                                                                         date(2026, 3, 17))
    assert period.due_at == at("2026-03-18", 0)


def test_the_15_day_period_ending_in_the_national_day_holiday_ends_after_it(station):
    """R25 (民事诉讼法 第85条): accepted 16 Sep 2026, day 15 is 1 Oct, a holiday to 7 Oct."""
    case_id = accepted(station, "general", "2026-09-16")
    assert clock(station, case_id, "statutory_period").last_day == date(2026, 10, 8)


def test_days_suspended_do_not_count_towards_the_15_days(station):
    """R18 (劳动争议调解仲裁法 第14条): waiting on a work-injury determination stops the count."""
    case_id = accepted(station, "general")
    station.fire(case_id, "suspend", now=at("2026-03-05", 10))
    paused = clock(station, case_id, "statutory_period")
    assert paused.status.value == "paused"
    station.fire(case_id, "resume", now=at("2026-03-11", 10))
    resumed = clock(station, case_id, "statutory_period")
    assert (resumed.status.value, resumed.paused_days) == ("running", 6)
    assert resumed.last_day == date(2026, 3, 17) + timedelta(days=6)
    tier_clock = clock(station, case_id, "tier2_service")
    # 9 March + 6 days is Sunday 15 March: the period ends on Monday 16 March (R25)
    assert (tier_clock.paused_days, tier_clock.last_day) == (6, date(2026, 3, 16))


def test_a_paused_period_is_not_swept(station):
    """R18 (劳动争议调解仲裁法 第14条): while suspended the 15 days do not run, so nothing lapses."""
    case_id = accepted(station, "general")
    station.fire(case_id, "suspend", now=at("2026-03-05"))
    with station.uow:
        assert sweep(station.uow, now=at("2026-04-30")) == []


def test_drafting_the_agreement_stops_the_15_day_period(station):
    """R18 (劳动争议调解仲裁法 第14条): the period runs until an agreement is reached."""
    case_id = accepted(station, "general")
    station.fire(case_id, "draft_agreement", now=at("2026-03-06"))
    assert clock(station, case_id, "statutory_period").status.value == "stopped"
    with station.uow:
        acted = sweep(station.uow, now=at("2026-04-30"))
    assert (case_id, "statutory_period") not in acted


def test_sweep_after_the_15th_day_records_the_lapse_and_offers_arbitration(station):
    """R18 (劳动争议调解仲裁法 第14条): no agreement in 15 days → a party may apply for arbitration."""
    case_id = accepted(station, "general")
    with station.uow:
        assert (case_id, "statutory_period") not in sweep(station.uow, now=at("2026-03-17", 23, 59))
    with station.uow:
        acted = sweep(station.uow, now=at("2026-03-18", 0, 1))
    assert (case_id, "statutory_period") in acted
    lapse = [e for e in station.events(case_id) if e.trigger == "clock_expired"
             and e.data["clock"] == "statutory_period"]
    assert len(lapse) == 1
    assert lapse[0].actor_id is None and lapse[0].to_state == "tier2"
    assert lapse[0].data["offer"] == {"trigger": "terminate", "referral": "arbitration"}
    notice = [m for m in station.outbox(case_id) if m.kind == "clock_expired"
              and m.payload["clock"] == "statutory_period"]
    assert len(notice) == 1
    assert notice[0].payload["offer"] == {"trigger": "terminate", "referral": "arbitration"}
    assert notice[0].payload["notify_roles"] == ["liaison_officer"]
    assert clock(station, case_id, "statutory_period").status.value == "expired"
    before = station.snapshot(case_id)
    with station.uow:
        assert sweep(station.uow, now=at("2026-03-25")) == []
    assert station.snapshot(case_id) == before
    assert station.fire(case_id, "terminate", {"reason": "十五日内未达成协议", "referral": "arbitration"}).to_state \
        == "terminated"


def test_tier1_service_deadline_reminds_the_next_tier_and_does_not_escalate(station):
    """DESIGN.md §3: the shipped tier deadlines remind (3 days at tier 1); real cases stay longer."""
    case_id = accepted(station, "simple")  # 2 March; 3 days → 5 March
    assert clock(station, case_id, "tier1_service").last_day == date(2026, 3, 5)
    with station.uow:
        acted = sweep(station.uow, now=at("2026-03-06", 8))
    assert acted == [(case_id, "tier1_service")]
    case = station.case(case_id)
    assert (case.state, case.tier) == ("tier1", 1)
    reminder = station.events(case_id)[-1]
    assert (reminder.trigger, reminder.data["clock"]) == ("clock_expired", "tier1_service")
    notice = station.outbox(case_id)[-1]
    assert notice.payload["notify_roles"] == ["liaison_officer"]


def test_judicial_confirmation_window_opens_when_the_written_agreement_takes_effect(station):
    """R12 (人民调解法 第33条): 30 days from the agreement taking effect; at tier 3 that is the sign-off."""
    lower = accepted(station, "general")
    station.fire(lower, "draft_agreement", now=at("2026-03-03"))
    station.fire(lower, "sign", now=at("2026-03-04"))
    window = clock(station, lower, "judicial_confirmation")
    assert (window.started_on, window.last_day) == (date(2026, 3, 4), date(2026, 4, 3))
    major = accepted(station, "major")
    station.fire(major, "draft_agreement", now=at("2026-03-03"))
    station.fire(major, "sign", now=at("2026-03-04"))
    assert [c.name for c in station.case(major).clocks if c.name == "judicial_confirmation"] == []
    station.fire(major, "sign_off", now=at("2026-03-06"))
    assert clock(station, major, "judicial_confirmation").started_on == date(2026, 3, 6)
    station.fire(major, "apply_judicial_confirmation", now=at("2026-03-09"))
    assert clock(station, major, "judicial_confirmation").status.value == "stopped"


#: Who sees a case of each workflow at tier 1 (a labour case belongs to the station's enterprise).
CAN_VIEW_TIER1 = {
    Role.ADMIN: (False, False),  # administers users and workflows, not cases
    Role.ENTERPRISE_LIAISON: (True, False),  # only the liaison's own enterprise's cases
    Role.DEPARTMENT_HEAD: (True, False),
    Role.LIAISON_OFFICER: (True, True),  # no enterprises or areas assigned: the whole station
    Role.COMMUNITY_OFFICER: (True, True),
    Role.VOLUNTEER_MEDIATOR: (False, True),  # village disputes only
    Role.STATION_CHIEF: (True, True),
    Role.TOWNSHIP_OFFICER: (False, False),  # takes part from tier 3
    Role.AUDITOR: (True, True),
}


@pytest.mark.parametrize("role", list(Role))
def test_who_sees_a_tier1_case_of_each_workflow(station, role):
    """DESIGN.md §1: an enterprise liaison sees only their enterprise; village mediators village disputes."""
    labour = station.case(station.drive_to("labour", "tier1"))
    neighbour = station.case(station.drive_to("neighbour", "tier1"))
    user = station.user(role)
    assert (policy.can_view(user, labour), policy.can_view(user, neighbour)) == CAN_VIEW_TIER1[role]


@pytest.mark.parametrize("role", list(Role))
def test_township_officers_join_at_tier3(station, role):
    """DESIGN.md §1: tier 3 is the chief with the township offices (综治办、司法所)."""
    tier3 = station.case(station.drive_to("labour", "tier3"))
    seen = policy.can_view(station.user(role), tier3)
    assert seen is (CAN_VIEW_TIER1[role][0] or role is Role.TOWNSHIP_OFFICER)
