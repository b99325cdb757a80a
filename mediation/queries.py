"""Read-side queries for the screens (查询): case lists and the case page (the ledger: ``ledger``).

Everything here reads; nothing writes. Lists are narrowed in SQL by
``policy.visible_clause``, which says what ``policy.can_view`` says, and then every row
is passed through ``policy.can_view`` itself, which stays the one authority (a test
checks that the two agree for every role). Results are plain frozen dataclasses, built
while the session is open, so a template never lazy-loads from a closed session. Labels stay two-language mappings
(``{"zh_CN": …, "en": …}``); the caller picks the locale.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true
from sqlalchemy.orm import Session, selectinload

from . import policy, warnings
from .clocks import local_date
from .engine import Engine
from .enums import ClockStatus, PartyRole, Role, SessionStatus
from .errors import NotFound
from .i18n import N_
from .models import Agreement, Area, Case, CaseClock, Document, Enterprise, Event, MediationSession, Obligation, User
from .services import clock_status
from .validation import mask_id_number, mask_phone
from .workflow import ClockSpec, Definition, Label, Registry

#: Rows in a "my cases" section, and in "recently changed".
SECTION_LIMIT = 50
RECENT_LIMIT = 10
#: Clocks looked at for "running out of time" (the soonest first), before one per case is kept.
RUNNING_OUT_SCAN = 400


# --- views --------------------------------------------------------------------

@dataclass(frozen=True)
class ClockView:
    """A clock as a screen shows it: day count, last day (Asia/Shanghai), lapse."""

    name: str
    label: Label
    days: int
    elapsed: int
    last_day: date | None
    remaining: int | None
    status: str
    provisional: bool
    overdue: bool
    statutory: bool
    source: str | None
    #: What the definition says when the period lapses (e.g. that a party may apply for arbitration).
    message: Label | None = None


@dataclass(frozen=True)
class CaseRow:
    """One line of a case list."""

    id: int
    number: str
    title: str
    workflow: str
    workflow_label: Label
    state: str
    state_label: Label
    final: bool
    tier: int | None
    severity: str | None
    category: str
    enterprise: str | None
    risk_flag: bool
    clock: ClockView | None
    filed_at: datetime
    updated_at: datetime
    area: str | None = None
    #: The mediator the case is assigned to (承办人).
    assigned_to: str | None = None
    #: The applicants' and the respondents' names (``、``-joined).
    applicants: str = ""
    respondents: str = ""


@dataclass(frozen=True)
class MyCases:
    """The sections of a user's queue (我的案件); each a list of rows.

    ``assigned_to_me``: open cases assigned to the user; ``unassigned``: open cases at a
    tier the user's role leads with no mediator yet; ``awaiting_signoff``;
    ``running_out``: open cases whose statutory or service period ends soonest (the
    row's ``clock`` is that period); ``awaiting_acceptance``; ``filed_by_me``; ``recent``.
    """

    assigned_to_me: list[CaseRow]
    unassigned: list[CaseRow]
    awaiting_signoff: list[CaseRow]
    running_out: list[CaseRow]
    awaiting_acceptance: list[CaseRow]
    filed_by_me: list[CaseRow]
    recent: list[CaseRow]
    #: Which sections apply to the user's role (a section may apply and be empty).
    shown: frozenset[str]


@dataclass(frozen=True)
class PartyView:
    """A party's particulars; ID number and phone masked unless the viewer may see them."""

    id: int
    ref: str
    role: str
    kind: str
    name: str
    size: int
    representative: str | None
    gender: str | None
    ethnicity: str | None
    occupation: str | None
    phone: str
    id_number: str
    address: str | None


@dataclass(frozen=True)
class TermView:
    """One agreed term and where its performance stands (pending, performed, breached, overdue)."""

    seq: int
    obligor: str | None
    obligee: str | None
    text: str
    amount: Decimal | None
    due_on: date | None
    performed_at: datetime | None
    breached_at: datetime | None
    note: str | None
    status: str


@dataclass(frozen=True)
class AgreementView:
    """The current agreement, written or oral, with its terms."""

    id: int
    version: int
    kind: str
    status: str
    tier: int | None
    text: str | None
    drafted_at: datetime
    signed_at: datetime | None
    effective_at: datetime | None
    signed_off_at: datetime | None
    judicial_confirmation_applied_at: datetime | None
    terms: list[TermView]


@dataclass(frozen=True)
class SessionView:
    """A mediation session held, with its participants by name and its minutes (DOMAIN R29)."""

    held_at: datetime | None
    mode: str
    public: bool
    place: str | None
    participants: list[str]
    minutes: str | None
    recorded_by: str | None
    rights_explained: bool = False
    verification: str | None = None
    result: str | None = None


@dataclass(frozen=True)
class EventView:
    """A timeline entry: who, when, which trigger, from and to which state, and its data."""

    seq: int
    at: datetime
    actor: str
    trigger: str
    trigger_label: Label | None
    from_state: str
    from_label: Label
    to_state: str
    to_label: Label
    moved: bool
    reason: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class DocumentView:
    """An issued document, for the download list."""

    id: int
    kind: str
    version: int
    created_at: datetime
    verification_code: str


@dataclass(frozen=True)
class CaseDetail:
    """Everything the case page shows, and the actions the viewer may take now."""

    id: int
    number: str
    title: str
    workflow: str
    workflow_version: int
    workflow_label: Label
    definition: Definition
    state: str
    state_label: Label
    final: bool
    tier: int | None
    tier_title: Label | None
    severity: str | None
    category: str
    filed_via: str
    enterprise: str | None
    facts: str
    claims: str
    amount_claimed: Decimal | None
    risk_flag: bool
    filed_at: datetime
    accepted_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime
    filed_by: str | None
    assigned_to: str | None
    tracking_code: str
    version: int
    particulars_visible: bool
    parties: list[PartyView]
    agreement: AgreementView | None
    sessions: list[SessionView]
    events: list[EventView]
    documents: list[DocumentView]
    clocks: list[ClockView]
    #: Triggers the viewer may fire now: the policy allows them and the machine does.
    actions: list[str]
    #: Unperformed terms of the current agreement ``(seq, text)``, for the term selects.
    open_terms: list[tuple[int, str]]
    #: Defaults an expired clock offers for a trigger, e.g. ``{"terminate": {"referral": "arbitration"}}``.
    offers: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Msgids to show with the agreement before the parties sign (DOMAIN R24), untranslated.
    agreement_warnings: list[str] = field(default_factory=list)
    area: str | None = None
    assigned_to_id: int | None = None
    #: Mediators the viewer may give the case to ``(user id, name, role)``; empty: may not assign.
    assignees: list[tuple[int, str, str]] = field(default_factory=list)

    def party_choices(self) -> list[tuple[str, str]]:
        """``(ref, name)`` of every party, for the obligor, obligee and participant choices."""
        return [(p.ref, p.name) for p in self.parties]


# --- visibility -----------------------------------------------------------------

def visible_clause(user: User, definitions: Iterable[Definition] | None = None) -> ColumnElement[bool]:
    """SQL narrowing of the cases ``user`` may see (``policy.visible_clause``)."""
    return policy.visible_clause(user, definitions)


def visible_case(session: Session, user: User, case_id: int) -> Case:
    """The case ``case_id`` if ``user`` may see it; raises ``NotFound`` otherwise (never says which)."""
    case = session.get(Case, case_id)
    if case is None or not policy.can_view(user, case):
        raise NotFound(N_("No such case."))
    return case


def row_options() -> list[Any]:
    """Loader options for building ``CaseRow``s without a query per row."""
    return [
        selectinload(Case.clocks), selectinload(Case.enterprise), selectinload(Case.area),
        selectinload(Case.assigned_to), selectinload(Case.parties),
    ]


def party_choices(case: Case) -> list[tuple[str, str]]:
    """``(ref, name)`` of the case's parties, for obligor, obligee and participant choices."""
    return [(p.ref, p.name) for p in case.parties]


def open_terms(case: Case) -> list[tuple[int, str]]:
    """``(seq, text)`` of the current agreement's terms not yet performed."""
    agreement = case.current_agreement
    if agreement is None:
        return []
    return [(o.seq, o.text) for o in agreement.obligations if o.performed_at is None]


def _rows(
    session: Session,
    registry: Registry,
    user: User,
    stmt: Select[Case],
    now: datetime,
    trigger: str | None = None,
) -> list[CaseRow]:
    """Rows of the cases ``stmt`` selects that ``user`` may see (and may fire ``trigger`` on)."""
    cases = session.scalars(stmt.options(*row_options())).all()
    return case_rows(session, registry, user, cases, now, trigger)


def case_rows(
    session: Session,
    registry: Registry,
    user: User,
    cases: Sequence[Case],
    now: datetime,
    trigger: str | None = None,
) -> list[CaseRow]:
    """Rows of ``cases`` (loaded with ``row_options``) that ``user`` may see (and may fire ``trigger`` on)."""
    stops = _stop_times(session, registry, [c.id for c in cases])
    rows = []
    for case in cases:
        definition = registry.get(case.workflow, case.workflow_version)
        if not policy.can_view(user, case, definition):
            continue
        if trigger is not None and not policy.can(user, trigger, case, definition):
            continue
        rows.append(_row(case, definition, now, stops.get(case.id, {})))
    return rows


#: ``{case_id: {trigger: last time it fired}}`` for the triggers that stop clocks.
StopTimes = Mapping[int, Mapping[str, datetime]]


def _stop_times(session: Session, registry: Registry, case_ids: Sequence[int]) -> dict[int, dict[str, datetime]]:
    """When each clock-stopping trigger last fired on each case (one query)."""
    triggers = {t for d in registry for spec in d.clocks.values() for t in spec.stop_on}
    out: dict[int, dict[str, datetime]] = {}
    if not case_ids or not triggers:
        return out
    rows = session.execute(
        select(Event.case_id, Event.trigger, func.max(Event.at))
        .where(Event.case_id.in_(case_ids), Event.trigger.in_(triggers))
        .group_by(Event.case_id, Event.trigger)
    )
    for case_id, trigger, at in rows:
        out.setdefault(case_id, {})[trigger] = at
    return out


def _still_pending(case: Case, clock: CaseClock, spec: ClockSpec, closed: bool, stops: Mapping[str, datetime]) -> bool:
    """False once a lapsed clock no longer matters: the case closed, left the states the
    clock runs in, or a trigger that stops the clock fired after it lapsed (the sweep only
    marks a clock lapsed; the lapse itself stays on the timeline)."""
    if closed:
        return False
    if spec.runs_in and case.state not in (*spec.runs_in, *spec.pause_in):
        return False
    lapsed = clock.due_at
    return not any(t in stops and (lapsed is None or stops[t] >= lapsed) for t in spec.stop_on)


def _clock_views(case: Case, definition: Definition, now: datetime, stops: Mapping[str, datetime]) -> list[ClockView]:
    """The case's clocks; a lapsed one counts as overdue only while it still matters."""
    closed = definition.states[case.state].final
    views = []
    for clock in case.clocks:
        spec = definition.clocks.get(clock.name)
        if spec is None:
            continue
        s = clock_status(clock, spec, now)
        views.append(
            ClockView(
                name=spec.name, label=spec.label, days=spec.days, elapsed=s["elapsed"], last_day=s["last_day"],
                remaining=s["remaining"], status=s["status"], provisional=s["provisional"],
                overdue=s["overdue"] and _still_pending(case, clock, spec, closed, stops),
                statutory=spec.source is not None, source=spec.source, message=spec.on_expiry.get("message"),
            )
        )
    return views


def case_clocks(session: Session, registry: Registry, case: Case, now: datetime) -> list[ClockView]:
    """The clocks of one case as a screen shows them (a lapsed one is overdue only while it matters)."""
    definition = registry.get(case.workflow, case.workflow_version)
    return _clock_views(case, definition, now, _stop_times(session, registry, [case.id]).get(case.id, {}))


def _row_clock(case: Case, definition: Definition, now: datetime, stops: Mapping[str, datetime]) -> ClockView | None:
    """The clock a list shows: the first statutory period (one with a legal source) that is
    running, paused, or lapsed and still pending; none once the case is closed."""
    if definition.states[case.state].final:
        return None
    for view in _clock_views(case, definition, now, stops):
        if view.statutory and (view.status in (ClockStatus.RUNNING.value, ClockStatus.PAUSED.value) or view.overdue):
            return view
    return None


def _row(
    case: Case, definition: Definition, now: datetime, stops: Mapping[str, datetime], clock: ClockView | None = None
) -> CaseRow:
    applicants = [p.name for p in case.parties if p.role is PartyRole.APPLICANT]
    respondents = [p.name for p in case.parties if p.role is PartyRole.RESPONDENT]
    return CaseRow(
        id=case.id,
        number=case.number,
        title=case.title,
        workflow=case.workflow,
        workflow_label=definition.title,
        state=case.state,
        state_label=definition.states[case.state].label,
        final=definition.states[case.state].final,
        tier=case.tier,
        severity=case.severity.value if case.severity else None,
        category=case.category.value,
        enterprise=case.enterprise.name if case.enterprise else None,
        risk_flag=case.risk_flag,
        clock=clock or _row_clock(case, definition, now, stops),
        filed_at=case.filed_at,
        updated_at=case.updated_at,
        area=case.area.name if case.area else None,
        assigned_to=case.assigned_to.display_name if case.assigned_to else None,
        applicants="、".join(applicants),
        respondents="、".join(respondents),
    )


def _any_of(pairs: Iterable[ColumnElement[bool]]) -> ColumnElement[bool]:
    items = list(pairs)
    return or_(*items) if items else false()


def _open_states(definition: Definition) -> list[str]:
    return [s.name for s in definition.states.values() if not s.final]


def _trigger_sources(definition: Definition, trigger: str) -> list[str]:
    spec = definition.triggers.get(trigger)
    if spec is None:
        return []
    return sorted({s for t in spec.transitions for s in t.sources})


def _role_may(definition: Definition, trigger: str, role: Role) -> bool:
    """True when ``role`` is named in the trigger's ``who`` (as a role, not as a tier lead)."""
    spec = definition.triggers.get(trigger)
    return spec is not None and role.value in spec.who


def _in_definition(definition: Definition, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return and_(Case.workflow == definition.name, Case.workflow_version == definition.version, *conditions)


# --- lists ----------------------------------------------------------------------

def my_cases(session: Session, registry: Registry, user: User, now: datetime) -> MyCases:
    """The user's queue (我的案件), each section policy-filtered (see ``MyCases``)."""
    definitions = list(registry)
    visible = select(Case).where(visible_clause(user, definitions))
    shown: set[str] = {"recent"}
    open_clauses = [_in_definition(d, Case.state.in_(_open_states(d))) for d in definitions]
    is_open = _any_of(open_clauses)

    tier_clauses = [
        _in_definition(d, Case.tier == number, Case.state.in_(_open_states(d)))
        for d in definitions
        for number, tier in d.tiers.items()
        if tier.lead == user.role.value
    ]
    if tier_clauses:
        shown.add("unassigned")
    if any(policy.takes_part(user.role, d) for d in definitions) and user.role not in policy.READ_ONLY:
        shown.update({"assigned_to_me", "running_out"})
    signoff_clauses = [
        _in_definition(d, Case.state.in_(_trigger_sources(d, "sign_off")))
        for d in definitions
        if _role_may(d, "sign_off", user.role)
    ]
    if signoff_clauses:
        shown.add("awaiting_signoff")
    accept_clauses = [
        _in_definition(d, Case.state == d.initial) for d in definitions if _role_may(d, "accept", user.role)
    ]
    if accept_clauses:
        shown.add("awaiting_acceptance")
    if policy.can(user, "file"):
        shown.add("filed_by_me")

    newest = (Case.updated_at.desc(), Case.id.desc())
    oldest = (Case.filed_at, Case.id)

    def section(
        clause: ColumnElement[bool],
        order: Sequence[Any] = newest,
        limit: int = SECTION_LIMIT,
        trigger: str | None = None,
    ) -> list[CaseRow]:
        stmt = visible.where(clause).order_by(*order).limit(limit)
        return _rows(session, registry, user, stmt, now, trigger)

    mine = and_(Case.assigned_to_id == user.id, is_open)
    assigned = section(mine) if "assigned_to_me" in shown else []
    unassigned = section(and_(_any_of(tier_clauses), Case.assigned_to_id.is_(None)), oldest) if tier_clauses else []
    awaiting_signoff = section(_any_of(signoff_clauses), oldest, trigger="sign_off") if signoff_clauses else []
    running_out: list[CaseRow] = []
    if "running_out" in shown:
        # The station chief and a township officer watch every case they see; others their tier's and their own.
        watches_all = user.role in (Role.STATION_CHIEF, Role.TOWNSHIP_OFFICER)
        scope = and_(is_open, true() if watches_all else or_(mine, _any_of(tier_clauses)))
        running_out = _running_out(session, registry, user, and_(visible_clause(user, definitions), scope), now)
    awaiting_acceptance = section(_any_of(accept_clauses), oldest, trigger="accept") if accept_clauses else []
    filed_by_me = section(Case.filed_by_id == user.id) if "filed_by_me" in shown else []
    recent = section(true(), limit=RECENT_LIMIT)
    return MyCases(
        assigned, unassigned, awaiting_signoff, running_out, awaiting_acceptance, filed_by_me, recent,
        frozenset(shown),
    )


def _running_out(
    session: Session, registry: Registry, user: User, clause: ColumnElement[bool], now: datetime
) -> list[CaseRow]:
    """Cases matching ``clause`` by the soonest end of a running or lapsed-but-pending period
    (statutory or service), each with that period as its row's clock."""
    found = session.execute(
        select(CaseClock.case_id, CaseClock.name)
        .join(Case, Case.id == CaseClock.case_id)
        .where(clause, CaseClock.status.in_((ClockStatus.RUNNING, ClockStatus.EXPIRED)), CaseClock.due_at.is_not(None))
        .order_by(CaseClock.due_at, CaseClock.id)
        .limit(RUNNING_OUT_SCAN)
    ).all()
    order: dict[int, list[str]] = {}
    for case_id, name in found:
        order.setdefault(case_id, []).append(name)
    if not order:
        return []
    cases = {
        c.id: c for c in session.scalars(select(Case).where(Case.id.in_(order)).options(*row_options()))
    }
    stops = _stop_times(session, registry, list(cases))
    rows: list[CaseRow] = []
    for case_id, names in order.items():
        case = cases.get(case_id)
        if case is None:
            continue
        definition = registry.get(case.workflow, case.workflow_version)
        if not policy.can_view(user, case, definition):
            continue
        views = {v.name: v for v in _clock_views(case, definition, now, stops.get(case.id, {}))}
        pending = [views[n] for n in names if n in views and (views[n].status == "running" or views[n].overdue)]
        if pending:
            rows.append(_row(case, definition, now, stops.get(case.id, {}), clock=pending[0]))
        if len(rows) >= SECTION_LIMIT:
            break
    return rows


def state_choices(registry: Registry) -> list[tuple[str, Label]]:
    """Every state name across the workflows with its label (from the newest definition naming it)."""
    labels: dict[str, Label] = {}
    for d in registry:
        for s in d.states.values():
            labels[s.name] = s.label
    order: list[str] = []
    for d in registry:
        order.extend(s for s in d.states if s not in order)
    return [(s, labels[s]) for s in order]


def enterprises(session: Session, organisation_id: int) -> list[tuple[int, str]]:
    """``(id, name)`` of the organisation's enterprises, by name."""
    rows = session.execute(
        select(Enterprise.id, Enterprise.name)
        .where(Enterprise.organisation_id == organisation_id)
        .order_by(Enterprise.name)
    ).all()
    return [(r[0], r[1]) for r in rows]


def areas(session: Session, organisation_id: int) -> list[tuple[int, str]]:
    """``(id, name)`` of the organisation's areas (辖区/片区), by name."""
    rows = session.execute(
        select(Area.id, Area.name).where(Area.organisation_id == organisation_id).order_by(Area.name)
    )
    return [(r[0], r[1]) for r in rows]


# --- the case page --------------------------------------------------------------

def _term_status(ob: Obligation, today: date) -> str:
    if ob.performed_at is not None:
        return "performed"
    if ob.breached_at is not None:
        return "breached"
    if ob.due_on is not None and ob.due_on < today:
        return "overdue"
    return "pending"


def _agreement_view(agreement: Agreement, today: date) -> AgreementView:
    return AgreementView(
        id=agreement.id,
        version=agreement.version,
        kind=agreement.kind.value,
        status=agreement.status.value,
        tier=agreement.tier,
        text=agreement.text,
        drafted_at=agreement.drafted_at,
        signed_at=agreement.signed_at,
        effective_at=agreement.effective_at,
        signed_off_at=agreement.signed_off_at,
        judicial_confirmation_applied_at=agreement.judicial_confirmation_applied_at,
        terms=[
            TermView(
                seq=o.seq,
                obligor=o.obligor.name if o.obligor else None,
                obligee=o.obligee.name if o.obligee else None,
                text=o.text,
                amount=o.amount,
                due_on=o.due_on,
                performed_at=o.performed_at,
                breached_at=o.breached_at,
                note=o.note,
                status=_term_status(o, today),
            )
            for o in agreement.obligations
        ],
    )


def _participant_names(participants: Iterable[Mapping[str, Any]], names: Mapping[str, str]) -> list[str]:
    out = []
    for p in participants:
        if "party" in p:
            out.append(names.get(str(p["party"]), str(p["party"])))
        elif p.get("name"):
            out.append(str(p["name"]))
    return out


def _event_data(data: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """An event's data with party refs turned into names, for display."""
    out = dict(data)
    if isinstance(out.get("participants"), list):
        out["participants"] = _participant_names(
            (p for p in out["participants"] if isinstance(p, Mapping)), names
        )
    if isinstance(out.get("terms"), list):
        out["terms"] = [
            dict(t, obligor=names.get(str(t.get("obligor")), t.get("obligor")),
                 obligee=names.get(str(t.get("obligee")), t.get("obligee")))
            for t in out["terms"] if isinstance(t, Mapping)
        ]
    return out


def _label_of(definition: Definition, state: str) -> Label:
    spec = definition.states.get(state)
    return spec.label if spec else {"zh_CN": state, "en": state}


def case_detail(
    session: Session, registry: Registry, engine: Engine, user: User, case_id: int, now: datetime
) -> CaseDetail:
    """The case page of ``case_id`` as ``user`` may see it; raises ``NotFound``.

    ID numbers and phones are masked unless ``policy.can(user, "view_particulars", case)``
    (PIPL arts. 28–30, DOMAIN R36).
    """
    case = visible_case(session, user, case_id)
    definition = registry.get(case.workflow, case.workflow_version)
    whole = policy.can(user, "view_particulars", case, definition)
    names = {p.ref: p.name for p in case.parties}
    parties = [
        PartyView(
            id=p.id, ref=p.ref, role=p.role.value, kind=p.kind.value, name=p.name, size=p.size,
            representative=p.representative, gender=p.gender.value if p.gender else None,
            ethnicity=p.ethnicity, occupation=p.occupation,
            phone=(p.phone or "") if whole else mask_phone(p.phone),
            id_number=(p.id_number or "") if whole else mask_id_number(p.id_number),
            address=p.address,
        )
        for p in case.parties
    ]
    today = local_date(now)
    current = case.current_agreement
    agreement = _agreement_view(current, today) if current is not None else None
    recorders = _user_names(session, [s.recorded_by_id for s in case.sessions])
    sessions = [
        SessionView(
            held_at=s.held_at, mode=s.mode.value, public=s.public, place=s.place,
            participants=_participant_names(s.participants, names), minutes=s.minutes,
            recorded_by=recorders.get(s.recorded_by_id) if s.recorded_by_id else None,
            rights_explained=s.rights_explained, verification=s.verification, result=s.result,
        )
        for s in _sessions(session, case)
    ]
    events = [
        EventView(
            seq=e.seq, at=e.at, actor=e.actor_label, trigger=e.trigger,
            trigger_label=definition.triggers[e.trigger].label if e.trigger in definition.triggers else None,
            from_state=e.from_state, from_label=_label_of(definition, e.from_state),
            to_state=e.to_state, to_label=_label_of(definition, e.to_state),
            moved=e.from_state != e.to_state, reason=e.reason, data=_event_data(e.data or {}, names),
        )
        for e in session.scalars(select(Event).where(Event.case_id == case.id).order_by(Event.seq))
    ]
    documents = [
        DocumentView(id=d.id, kind=d.kind, version=d.version, created_at=d.created_at,
                     verification_code=d.verification_code)
        for d in session.scalars(select(Document).where(Document.case_id == case.id).order_by(Document.id))
    ]
    clocks = _clock_views(case, definition, now, _stop_times(session, registry, [case.id]).get(case.id, {}))
    offers: dict[str, dict[str, Any]] = {}
    for view in clocks:
        offer = definition.clocks[view.name].on_expiry.get("offer")
        if offer and view.overdue:
            offers[str(offer["trigger"])] = {k: v for k, v in offer.items() if k != "trigger"}
    allowed = [t for t in engine.available(definition, case) if policy.can(user, t, case, definition)]
    cautions = warnings.agreement_warnings(case, current.obligations, current.text) if current is not None else []
    tier_spec = definition.tiers.get(case.tier) if case.tier is not None else None
    return CaseDetail(
        id=case.id, number=case.number, title=case.title, workflow=case.workflow,
        workflow_version=case.workflow_version, workflow_label=definition.title, definition=definition,
        state=case.state, state_label=definition.states[case.state].label,
        final=definition.states[case.state].final, tier=case.tier,
        tier_title=tier_spec.title if tier_spec else None,
        severity=case.severity.value if case.severity else None, category=case.category.value,
        filed_via=case.filed_via.value, enterprise=case.enterprise.name if case.enterprise else None,
        facts=case.facts, claims=case.claims, amount_claimed=case.amount_claimed, risk_flag=case.risk_flag,
        filed_at=case.filed_at, accepted_at=case.accepted_at, closed_at=case.closed_at,
        updated_at=case.updated_at, filed_by=case.filed_by.display_name if case.filed_by else None,
        assigned_to=case.assigned_to.display_name if case.assigned_to else None,
        tracking_code=case.tracking_code, version=case.version, particulars_visible=whole,
        parties=parties, agreement=agreement, sessions=sessions, events=events, documents=documents,
        clocks=clocks, actions=allowed, open_terms=open_terms(case), offers=offers,
        agreement_warnings=cautions, area=case.area.name if case.area else None,
        assigned_to_id=case.assigned_to_id, assignees=assignees(session, user, case, definition),
    )


def assignees(session: Session, user: User, case: Case, definition: Definition) -> list[tuple[int, str, str]]:
    """``(id, name, role)`` of the active users ``user`` may give ``case`` to (policy ``assign``
    for the user, ``be_assigned`` for each candidate), by name; empty when ``user`` may not assign."""
    if not policy.can(user, "assign", case, definition):
        return []
    candidates = session.scalars(
        select(User)
        .where(User.organisation_id == case.organisation_id, User.active.is_(True))
        .options(selectinload(User.assigned_enterprises), selectinload(User.assigned_areas))
        .order_by(User.display_name, User.id)
    )
    return [(u.id, u.display_name, u.role.value) for u in candidates if policy.can(u, "be_assigned", case, definition)]


def _sessions(session: Session, case: Case) -> Sequence[MediationSession]:
    """The sessions held (a scheduled or cancelled one shows in the meetings panel instead)."""
    return session.scalars(
        select(MediationSession).where(
            MediationSession.case_id == case.id, MediationSession.status == SessionStatus.HELD
        )
        .order_by(MediationSession.held_at, MediationSession.id)
    ).all()


def _user_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {row[0]: row[1] for row in session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))}


def visible_document(session: Session, user: User, case_id: int, document_id: int) -> tuple[Document, Case]:
    """A document of a case ``user`` may download (policy ``download``); raises ``NotFound``."""
    case = visible_case(session, user, case_id)
    document = session.get(Document, document_id)
    if document is None or document.case_id != case.id or not policy.can(user, "download", case):
        raise NotFound(N_("No such document."))
    return document, case

