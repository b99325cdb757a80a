"""Use cases (业务操作): file a case, fire a trigger, sweep the clocks.

Each service takes plain values and a ``UnitOfWork``, does one use case in one
transaction and returns plain values. The web UI, the CLI and the replay all call
these functions; none of them writes the state column itself (STYLE.md rules 2–3).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any

from sqlalchemy import bindparam, event, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from . import actions, policy
from .actions import parse_amount
from .clocks import local_date, period_end
from .db import WRITE_OPTION
from .engine import Engine
from .enums import Category, ClockStatus, Gender, IntakeSource, PartyKind, PartyRole, Role
from .errors import ConflictError, InvalidTransition, NotFound, PermissionDenied, ValidationError
from .i18n import N_
from .models import (
    Area,
    Case,
    CaseClock,
    CaseNumberCounter,
    Document,
    Enterprise,
    Event,
    Organisation,
    OutboxMessage,
    Party,
    User,
)
from .snapshots import CATEGORY_LABELS, document_context, to_stored
from .validation import clean_id_number, clean_mobile
from .workflow import ClockSpec, Definition, canonical_json, pick_label

GENESIS_HASH = "0" * 64
SYSTEM_LABEL = "系统"
TRACKING_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
log = logging.getLogger(__name__)


#: The largest id a row can have (the id columns are 32-bit INTEGER on PostgreSQL).
MAX_ROW_ID = 2**31 - 1


def as_row_id(raw: Any) -> int | None:
    """``raw`` as a row id (1 … 2**31 − 1), or ``None`` when it cannot be one (bad text, huge, negative)."""
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None
    return value if 1 <= value <= MAX_ROW_ID else None


def utcnow() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


class UnitOfWork:
    """One use case's database transaction and the workflow engine it uses (工作单元).

    ``with uow:`` opens a session and a transaction; leaving the block without
    ``commit()`` rolls everything back, so nothing is ever half-saved.
    """

    def __init__(self, session_factory: sessionmaker[Session], engine: Engine, *, write: bool = True) -> None:
        self.session_factory = session_factory
        self.engine = engine
        self.write = write  # False for a read-only page: on SQLite it then does not queue for the write lock
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        """The open session; raises ``RuntimeError`` outside ``with``."""
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside 'with'")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self.session_factory()
        self._session.begin()
        if self.write:
            self._session.connection(execution_options={WRITE_OPTION: True})  # SQLite: BEGIN IMMEDIATE
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        session = self.session
        try:
            if session.in_transaction():
                session.rollback()
        finally:
            session.close()
            self._session = None

    @contextmanager
    def conflicts(self) -> Iterator[None]:
        """Turn a stale version or a lost race met while flushing in the block into ``ConflictError``.

        On PostgreSQL a concurrent writer's ``UPDATE … WHERE version = :seen`` waits for the
        first to commit and then matches no row; that surfaces at whichever flush comes first.
        """
        try:
            yield
        except (StaleDataError, IntegrityError) as exc:
            self.session.rollback()
            raise ConflictError(N_("Someone else changed this case first; reload it and try again.")) from exc

    def commit(self) -> None:
        """Flush and commit; a stale version or a lost race raises ``ConflictError``."""
        with self.conflicts():
            self.session.commit()


# --- results -------------------------------------------------------------------

@dataclass(frozen=True)
class Filed:
    """What filing returns: the new case's id, number and public tracking code."""

    case_id: int
    number: str
    tracking_code: str


@dataclass(frozen=True)
class Fired:
    """What firing returns: the move made, the event written, documents issued."""

    case_id: int
    trigger: str
    from_state: str
    to_state: str
    event_id: int
    version: int
    documents: tuple[str, ...] = field(default_factory=tuple)


# --- helpers -------------------------------------------------------------------

# The hot path's reads, built once: building a statement with loader options costs more
# than running it (bench/engine.py), so each call only binds its parameters.
# The policy reads only the ids of an officer's assigned enterprises and areas (``policy._ids``).
_USER_SCOPES = (
    joinedload(User.assigned_enterprises).load_only(Enterprise.id),
    joinedload(User.assigned_areas).load_only(Area.id),
)
_ACTOR = select(User).where(User.id == bindparam("actor_id")).options(*_USER_SCOPES)
_ACTOR_AND_CASE = (
    select(User, Case)
    .join(Case, Case.organisation_id == User.organisation_id)  # other organisations: fall back below
    .where(User.id == bindparam("actor_id"), Case.id == bindparam("case_id"))
    .options(*_USER_SCOPES)
)


def _actor_and_case(session: Session, actor_id: int | None, case_id: int) -> tuple[User | None, Case]:
    """The acting user (with its scopes) and the case in one round trip; errors as ``_actor``/``_get_case``."""
    if actor_id is not None:
        row = session.execute(_ACTOR_AND_CASE, {"actor_id": actor_id, "case_id": case_id}).unique().first()
        if row is not None and row[0].active:
            return row[0], row[1]
    return _actor(session, actor_id), _get_case(session, case_id)


def _actor(session: Session, actor_id: int | None) -> User | None:
    """The acting user with the scopes the policy reads, in one query (``None``: the system)."""
    if actor_id is None:
        return None
    user = session.execute(_ACTOR, {"actor_id": actor_id}).unique().scalar_one_or_none()
    if user is None or not user.active:
        raise PermissionDenied(N_("Your account is not active."))
    return user


def _get_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(N_("No such case."))
    return case


def event_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 hex of an event's fields in canonical JSON (see ``event_hash_fields``)."""
    return hashlib.sha256(canonical_json(fields).encode("utf-8")).hexdigest()


def event_hash_fields(event: Event) -> dict[str, Any]:
    """The fields an event's hash covers, in stored form."""
    return {
        "case_id": event.case_id,
        "seq": event.seq,
        "at": event.at.astimezone(UTC).isoformat(),
        "actor_id": event.actor_id,
        "trigger": event.trigger,
        "from": event.from_state,
        "to": event.to_state,
        "data": event.data,
        "reason": event.reason,
        "prev_hash": event.prev_hash,
    }


def append_event(
    session: Session,
    case: Case,
    *,
    trigger: str,
    from_state: str,
    to_state: str,
    actor: User | None,
    at: datetime,
    data: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> Event:
    """Append one immutable, hash-chained event to ``case`` and bump the case's version.

    The case holds its chain's head (``last_event_hash``) and, as its version counts its
    events, the next sequence number: appending reads nothing.
    """
    seq, prev = case.version, case.last_event_hash or GENESIS_HASH
    event = Event(
        case_id=case.id,
        organisation_id=case.organisation_id,
        seq=seq,
        at=at,
        actor_id=actor.id if actor else None,
        actor_label=actor.display_name if actor else SYSTEM_LABEL,
        trigger=trigger,
        from_state=from_state,
        to_state=to_state,
        data=to_stored(dict(data or {})),
        reason=reason,
        prev_hash=prev,
        hash="",
    )
    event.hash = event_hash(event_hash_fields(event))
    session.add(event)
    case.last_event_hash = event.hash
    case.updated_at = at
    case.version = case.version + 1  # every event bumps it, so concurrent writers conflict
    return event


def _outbox(session: Session, case: Case, kind: str, key: str, at: datetime, payload: dict[str, Any]) -> None:
    session.add(
        OutboxMessage(
            created_at=at,
            kind=kind,
            case_id=case.id,
            payload=to_stored(payload),
            idempotency_key=key,
            next_attempt_at=at,
        )
    )


def _next_number(session: Session, organisation: Organisation, year: int) -> tuple[int, str]:
    """The next gap-free case number of ``organisation`` in ``year`` (案件编号), row-locked."""
    dialect = session.get_bind().dialect.name
    values = {"organisation_id": organisation.id, "year": year, "last_seq": 0}
    if dialect == "postgresql":
        session.execute(postgresql.insert(CaseNumberCounter).values(**values).on_conflict_do_nothing())
    else:
        session.execute(sqlite.insert(CaseNumberCounter).values(**values).on_conflict_do_nothing())
    counter = session.execute(
        select(CaseNumberCounter)
        .where(CaseNumberCounter.organisation_id == organisation.id, CaseNumberCounter.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    counter.last_seq += 1
    seq = counter.last_seq
    return seq, organisation.case_number_pattern.format(year=year, short_name=organisation.short_name, seq=seq)


def _tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(10))


# --- filing --------------------------------------------------------------------

def _clean_parties(raw_parties: Any, errors: dict[str, str]) -> list[Party]:
    if not isinstance(raw_parties, list) or not raw_parties:
        errors["parties"] = N_("Add at least one applicant and one respondent.")
        return []
    parties: list[Party] = []
    counters = {PartyRole.APPLICANT: 0, PartyRole.RESPONDENT: 0, PartyRole.THIRD_PARTY: 0}
    prefix = {PartyRole.APPLICANT: "a", PartyRole.RESPONDENT: "r", PartyRole.THIRD_PARTY: "t"}
    seen_refs: set[str] = set()
    for i, raw in enumerate(raw_parties, start=1):
        where = f"parties.{i}"
        if not isinstance(raw, Mapping):
            errors[where] = N_("Must be a party.")
            continue
        sub: dict[str, str] = {}
        role = actions._choice(raw, "role", PartyRole, sub)
        kind = actions._choice(raw, "kind", PartyKind, sub) if raw.get("kind") else PartyKind.PERSON
        name = actions._text(raw, "name", sub)
        if name and len(name) > 200:
            sub["name"] = N_("Too long (at most 200 characters).")
        gender = actions._choice(raw, "gender", Gender, sub, required=False)
        size_raw = raw.get("size") or 1
        try:
            size = int(size_raw)
            if size < 1 or size > 100000:
                raise ValueError
        except (TypeError, ValueError):
            sub["size"] = N_("A number of people from 1 to 100,000.")
            size = 1
        if kind is PartyKind.GROUP and size < 2 and "size" not in sub:
            sub["size"] = N_("A group has at least two people.")
        phone = raw.get("phone") or None
        if phone:
            try:
                phone = clean_mobile(str(phone))
            except ValueError as exc:
                sub["phone"] = str(exc)
        id_number = raw.get("id_number") or None
        if id_number:
            if kind is not PartyKind.PERSON:
                sub["id_number"] = N_("Only a person has a resident ID number.")
            else:
                try:
                    id_number = clean_id_number(str(id_number))
                except ValueError as exc:
                    sub["id_number"] = str(exc)
        short: dict[str, str | None] = {}
        for key, limit in (("address", 300), ("representative", 120), ("ethnicity", 40), ("occupation", 120)):
            value = raw.get(key) or None
            if value is not None and (not isinstance(value, str) or len(value) > limit):
                sub[key] = N_("Too long.")
                value = None
            short[key] = value.strip() if isinstance(value, str) else None
        ref = raw.get("ref")
        if role is not None and not ref:
            counters[role] += 1
            ref = f"{prefix[role]}{counters[role]}"
        if ref in seen_refs:
            sub["ref"] = N_("Two parties have the same reference.")
        seen_refs.add(str(ref))
        for key, message in sub.items():
            errors[f"{where}.{key}"] = message
        if sub or role is None or name is None:
            continue
        gender_value = gender if isinstance(gender, Gender) else None
        if gender_value is None and id_number and len(id_number) == 18 and "id_number" not in sub:
            gender_value = Gender.MALE if int(id_number[16]) % 2 else Gender.FEMALE
        parties.append(
            Party(
                position=i,
                ref=str(ref),
                role=role,
                kind=kind,
                name=name,
                size=size,
                gender=gender_value,
                phone=phone,
                id_number=id_number,
                address=short["address"],
                representative=short["representative"],
                ethnicity=short["ethnicity"],
                occupation=short["occupation"],
            )
        )
    if not errors:
        roles = {p.role for p in parties}
        if PartyRole.APPLICANT not in roles or PartyRole.RESPONDENT not in roles:
            errors["parties"] = N_("Add at least one applicant and one respondent.")
    return parties


def _filing_area(
    session: Session,
    filing: Mapping[str, Any],
    organisation: Organisation | None,
    enterprise_id: Any,
    actor: User | None,
    errors: dict[str, str],
) -> int | None:
    """The new case's area (辖区): as given, else its enterprise's, else the filing user's own."""
    raw = filing.get("area_id") or None
    if raw is not None:
        row_id = as_row_id(raw)
        area = session.get(Area, row_id) if row_id is not None else None
        if area is None or organisation is None or area.organisation_id != organisation.id:
            errors["area_id"] = N_("Not one of the allowed values.")
            return None
        return area.id
    if enterprise_id is not None and "enterprise_id" not in errors:
        row_id = as_row_id(enterprise_id)
        enterprise = session.get(Enterprise, row_id) if row_id is not None else None
        if enterprise is not None and enterprise.area_id is not None:
            return enterprise.area_id
    return actor.area_id if actor is not None else None


def file_case(
    uow: UnitOfWork,
    actor_id: int | None,
    filing: Mapping[str, Any],
    *,
    organisation_id: int | None = None,
    now: datetime | None = None,
) -> Filed:
    """Record a new dispute in the ledger (登记), numbered gap-free per organisation and year.

    ``filing`` holds ``workflow``, ``category``, ``filed_via``, ``title``, ``facts``,
    ``claims``, ``amount_claimed`` (CNY), ``enterprise_id``, ``area_id`` (default: the
    enterprise's area, else the filing user's own) and ``parties`` (each ``role``,
    ``kind``, ``name``, ``size``, ``phone``, ``id_number`` …); an optional ``consent``
    mapping (what the public agreed to, PIPL art. 14) goes onto the filing event.
    ``actor_id`` ``None`` is a member of the public filing online (``organisation_id``
    then says where). Raises ``ValidationError`` (field → message), ``PermissionDenied``.
    """
    now = now or utcnow()
    session = uow.session
    actor = _actor(session, actor_id)
    if actor is not None and not policy.can(actor, "file"):
        raise PermissionDenied(N_("Your role may not file cases."))
    errors: dict[str, str] = {}
    workflow_name = filing.get("workflow") or "labour"
    try:
        definition = uow.engine.registry.get(str(workflow_name))
    except KeyError:
        errors["workflow"] = N_("Not one of the allowed values.")
        definition = None
    category = actions._choice(filing, "category", Category, errors)
    if definition is not None and category is not None and category.value not in definition.categories:
        errors["category"] = N_("This kind of dispute does not belong to this workflow.")
    filed_via = actions._choice(filing, "filed_via", IntakeSource, errors)
    if actor is None:
        filed_via = IntakeSource.ONLINE
    elif actor.role is Role.ENTERPRISE_LIAISON:
        filed_via = IntakeSource.ENTERPRISE_LIAISON
    facts = actions._text(filing, "facts", errors)
    claims = actions._text(filing, "claims", errors)
    title = actions._text(filing, "title", errors, required=False)
    if title and len(title) > 200:
        errors["title"] = N_("Too long (at most 200 characters).")
    try:
        amount = parse_amount(filing.get("amount_claimed"))
    except ValueError as exc:
        errors["amount_claimed"] = str(exc)
        amount = None
    org_id = actor.organisation_id if actor else organisation_id
    organisation = session.get(Organisation, org_id) if org_id is not None else None
    if organisation is None:
        errors["organisation"] = N_("Choose the station to file with.")
    enterprise_id = filing.get("enterprise_id") or None
    if actor is not None and actor.role in policy.ENTERPRISE_BOUND and actor.enterprise_id is not None:
        enterprise_id = actor.enterprise_id
    if enterprise_id is not None:
        row_id = as_row_id(enterprise_id)
        enterprise = session.get(Enterprise, row_id) if row_id is not None else None
        if enterprise is None or organisation is None or enterprise.organisation_id != organisation.id:
            errors["enterprise_id"] = N_("Not one of the allowed values.")
    area_id = _filing_area(session, filing, organisation, enterprise_id, actor, errors)
    parties = _clean_parties(filing.get("parties"), errors)
    if errors or definition is None or organisation is None or category is None or filed_via is None:
        raise ValidationError(errors)
    if not title:
        applicants = "、".join(p.name for p in parties if p.role is PartyRole.APPLICANT)
        respondents = "、".join(p.name for p in parties if p.role is PartyRole.RESPONDENT)
        title = f"{applicants}与{respondents}{CATEGORY_LABELS[category.value]}"[:200]
    year = local_date(now).year
    seq, number = _next_number(session, organisation, year)
    case = Case(
        organisation_id=organisation.id,
        enterprise_id=int(enterprise_id) if enterprise_id is not None else None,
        area_id=area_id,
        workflow=definition.name,
        workflow_version=definition.version,
        state=definition.initial,
        category=category,
        filed_via=filed_via,
        title=title,
        facts=facts or "",
        claims=claims or "",
        amount_claimed=amount,
        number=number,
        number_year=year,
        number_seq=seq,
        tracking_code=_tracking_code(),
        filed_at=now,
        updated_at=now,
        filed_by_id=actor.id if actor else None,
        risk_flag=bool(filing.get("risk_flag", False)),
        parties=parties,
    )
    session.add(case)
    session.flush()
    append_event(
        session, case, trigger="file", from_state=definition.initial, to_state=definition.initial,
        actor=actor, at=now, data={"filed_via": filed_via.value, **_consent(filing)},
    )
    if case.risk_flag:  # People's Mediation Law Art. 25: report promptly to the police
        payload = {"number": number, "role": Role.STATION_CHIEF.value}
        _outbox(session, case, "risk_flag", f"risk:{case.id}", now, payload)
    _outbox(session, case, "filed", f"filed:{case.id}", now, {"number": number})
    result = Filed(case.id, number, case.tracking_code)
    uow.commit()
    return result


def _consent(filing: Mapping[str, Any]) -> dict[str, Any]:
    consent = filing.get("consent")
    return {"consent": dict(consent)} if isinstance(consent, Mapping) else {}


# --- assigning -----------------------------------------------------------------

@dataclass(frozen=True)
class Assigned:
    """What assigning returns: the case, its new mediator (``None``: unassigned), the event written."""

    case_id: int
    assignee_id: int | None
    event_id: int
    version: int


def assign_case(
    uow: UnitOfWork,
    case_id: int,
    assignee_id: int | None,
    actor_id: int | None,
    expected_version: int | None = None,
    *,
    now: datetime | None = None,
) -> Assigned:
    """Give a case to a mediator (分派 / 改派), or take it back (``assignee_id`` ``None``).

    The actor needs policy ``assign`` (the tier's lead, the station chief), the assignee
    ``be_assigned``. One event ``assign`` on the timeline (previous and new mediator), a
    notice to the new mediator. Raises ``NotFound``, ``PermissionDenied``,
    ``ValidationError`` (``assignee_id``), ``ConflictError``; nothing is saved on any.
    """
    now = now or utcnow()
    session = uow.session
    actor, case = _actor_and_case(session, actor_id, case_id)
    if expected_version is not None and case.version != expected_version:
        raise ConflictError(N_("Someone else changed this case first; reload it and try again."))
    definition = uow.engine.registry.get(case.workflow, case.workflow_version)
    if not policy.can(actor, "assign", case, definition):
        if not policy.can_view(actor, case, definition):
            raise NotFound(N_("No such case."))
        raise PermissionDenied(N_("You may not assign this case."))
    assignee = None
    if assignee_id is not None:
        assignee = session.get(User, assignee_id)
        if assignee is None or not assignee.active or not policy.can(assignee, "be_assigned", case, definition):
            raise ValidationError({"assignee_id": N_("This person cannot take this case.")})
    if case.assigned_to_id == assignee_id:
        raise ValidationError({"assignee_id": N_("The case is already assigned so.")})
    previous = case.assigned_to
    case.assigned_to_id = assignee_id
    data = {
        "assignee_id": assignee_id,
        "assignee": assignee.display_name if assignee else None,
        "previous": previous.display_name if previous else None,
    }
    with uow.conflicts():
        event = append_event(
            session, case, trigger="assign", from_state=case.state, to_state=case.state, actor=actor, at=now,
            data=data,
        )
        if assignee is not None:
            session.add(
                OutboxMessage(
                    created_at=now, kind="assigned", case_id=case.id, recipient_id=assignee.id,
                    payload=to_stored({"number": case.number, "assignee": assignee.display_name}),
                    idempotency_key=f"assign:{case.id}:{event.seq}", next_attempt_at=now,
                )
            )
        session.flush()
    result = Assigned(case.id, assignee_id, event.id, case.version)
    uow.commit()
    return result


# --- firing --------------------------------------------------------------------

def fire(
    uow: UnitOfWork,
    case_id: int,
    trigger: str,
    actor_id: int | None,
    data: Mapping[str, Any] | None = None,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Fired:
    """Fire ``trigger`` on a case as one transaction (DESIGN.md §2).

    Checks permission, data and guards; moves the state with an optimistic version
    check; appends one event; updates the clocks; issues the documents the definition
    names; writes outbox notices. Raises ``NotFound``, ``PermissionDenied``,
    ``ValidationError``, ``InvalidTransition`` or ``ConflictError``; on any of them
    nothing is saved.
    """
    now = now or utcnow()
    session = uow.session
    actor, case = _actor_and_case(session, actor_id, case_id)
    if expected_version is not None and case.version != expected_version:
        raise ConflictError(N_("Someone else changed this case first; reload it and try again."))
    definition = uow.engine.registry.get(case.workflow, case.workflow_version)
    spec = definition.triggers.get(trigger)
    if spec is None or not policy.can(actor, trigger, case, definition):
        if not policy.can_view(actor, case):
            raise NotFound(N_("No such case."))
        if spec is None:
            raise InvalidTransition(N_("This kind of case has no such action."))
        raise PermissionDenied(N_("You may not do this to this case."))
    cleaned = actions.clean(trigger, spec.requires, case, data)
    dest = uow.engine.next_state(definition, case, trigger, cleaned)
    from_state = case.state
    with uow.conflicts():
        actions.apply(trigger, actions.Context(case=case, actor=actor, now=now, data=cleaned, dest=dest,
                                               definition=definition))
        fired = _record_move(uow, case, definition, trigger, from_state, dest, actor, now, cleaned)
    uow.commit()
    return fired


def _record_move(
    uow: UnitOfWork,
    case: Case,
    definition: Definition,
    trigger: str,
    from_state: str,
    dest: str,
    actor: User | None,
    now: datetime,
    data: dict[str, Any],
) -> Fired:
    session = uow.session
    case.state = dest
    dest_spec = definition.states[dest]
    if dest_spec.tier is not None:
        case.tier = dest_spec.tier
    if dest_spec.final and case.closed_at is None:
        case.closed_at = now
    reason = data.get("reason")
    event = append_event(
        session, case, trigger=trigger, from_state=from_state, to_state=dest, actor=actor,
        at=now, data={k: v for k, v in data.items() if k != "reason"}, reason=reason,
    )
    _update_clocks(session, case, definition, trigger, from_state, dest, now)
    issued = _issue_documents(session, case, definition, trigger, from_state, dest, actor, now, data)
    if from_state != dest:
        _outbox(
            session, case, "state_changed", f"event:{case.id}:{event.seq}", now,
            {"number": case.number, "from": from_state, "to": dest, "trigger": trigger,
             "from_label": definition.label(from_state), "to_label": definition.label(dest),
             "trigger_label": pick_label(definition.triggers[trigger].label),
             "notify_role": definition.lead_role(case.tier)},
        )
    session.flush()
    return Fired(case.id, trigger, from_state, dest, event.id, case.version, issued)


def _issue_documents(
    session: Session,
    case: Case,
    definition: Definition,
    trigger: str,
    from_state: str,
    dest: str,
    actor: User | None,
    now: datetime,
    data: dict[str, Any],
) -> tuple[str, ...]:
    # A definition may issue a document only for some cases (e.g. the payment-order note
    # for labour categories, DOMAIN R20): documents_for applies its ``case:`` match.
    kinds = list(definition.triggers[trigger].documents_for(case))
    if from_state != dest and case.accepted_at is not None:
        kinds.extend(definition.states[dest].documents_for(case))
    if not kinds:
        return ()
    from .documents import AGREEMENT_KINDS, content_digest, document_title, verification_code

    session.expire(case, ["events", "documents"])
    issued = []
    for kind in kinds:
        extra = dict(data, actor_label=actor.display_name if actor else SYSTEM_LABEL, trigger=trigger)
        context = to_stored(document_context(kind, case, definition, now, extra))
        digest = content_digest(context)
        code = verification_code(digest)
        if kind in AGREEMENT_KINDS and context.get("agreement"):
            context["agreement"]["verification_code"] = code
        version = 1 + (session.scalar(
            select(func.count()).select_from(Document).where(Document.case_id == case.id, Document.kind == kind)
        ) or 0)
        document = Document(
            case_id=case.id, kind=kind, version=version, title=document_title(kind),
            created_at=now, context=context, digest=digest, verification_code=code,
        )
        session.add(document)
        session.flush()
        session.info.setdefault(_ISSUED_PENDING, []).append(IssuedDocument(document.id, case.id, kind, digest))
        session.expire(case, ["documents"])
        issued.append(kind)
    return tuple(issued)


# --- after the commit ------------------------------------------------------------

#: ``Session.info`` key of a callable told after each commit which documents the transaction
#: issued: ``hook(tuple[IssuedDocument, ...])``. Set it on the session factory
#: (``sessionmaker.configure(info={ISSUED_HOOK: hook})``); ``mediation.tasks`` uses it to render
#: long documents in the background. Whatever the hook raises is logged, never raised.
ISSUED_HOOK = "mediation.documents_issued_hook"
_ISSUED_PENDING = "mediation.documents_issued"


@dataclass(frozen=True)
class IssuedDocument:
    """A document a committed transaction issued (已出具文书): its id, case, kind and content digest."""

    id: int
    case_id: int
    kind: str
    digest: str


@event.listens_for(Session, "after_commit")
def _announce_issued(session: Session) -> None:
    """Hand the documents the transaction issued to the session's ``ISSUED_HOOK`` (after the commit)."""
    pending: list[IssuedDocument] = session.info.pop(_ISSUED_PENDING, None) or []
    hook = session.info.get(ISSUED_HOOK)
    if pending and callable(hook):
        try:
            hook(tuple(pending))
        except Exception:  # the transaction is committed: a failing hook must not undo the user's action
            log.exception("the documents-issued hook failed for documents %s", [d.id for d in pending])


@event.listens_for(Session, "after_rollback")
def _forget_issued(session: Session) -> None:
    """Nothing of a rolled-back transaction was issued."""
    session.info.pop(_ISSUED_PENDING, None)


# --- clocks --------------------------------------------------------------------

def _clock_applies(spec: ClockSpec, case: Case) -> bool:
    from .guards import GUARDS

    return all(GUARDS[g](case, None) for g in spec.conditions)


def _update_clocks(
    session: Session, case: Case, definition: Definition, trigger: str, from_state: str, dest: str, now: datetime
) -> None:
    """Start, pause, resume and stop the case's clocks after a move (DOMAIN R25)."""
    if from_state == dest and not any(
        trigger in spec.start_on or trigger in spec.stop_on for spec in definition.clocks.values()
    ):
        return  # an activity no clock listens to cannot change a clock
    clocks = {c.name: c for c in session.scalars(select(CaseClock).where(CaseClock.case_id == case.id))}
    today = local_date(now)
    final = definition.states[dest].final
    for spec in definition.clocks.values():
        clock = clocks.get(spec.name)
        live = clock is not None and clock.status in (ClockStatus.RUNNING, ClockStatus.PAUSED)
        if live and clock is not None:
            leaves = bool(spec.runs_in) and dest not in spec.runs_in and dest not in spec.pause_in
            if final or trigger in spec.stop_on or leaves:
                clock.status = ClockStatus.STOPPED
                continue
            if clock.status is ClockStatus.RUNNING and dest in spec.pause_in:
                clock.status = ClockStatus.PAUSED
                clock.paused_at = now
            elif clock.status is ClockStatus.PAUSED and dest not in spec.pause_in:
                paused_from = local_date(clock.paused_at) if clock.paused_at else today
                clock.paused_days += (today - paused_from).days
                clock.status = ClockStatus.RUNNING
                clock.paused_at = None
                _set_due(clock, spec)
            continue
        starts = trigger in spec.start_on or (dest in spec.runs_in and from_state not in spec.runs_in)
        if final or not starts or not _clock_applies(spec, case):
            continue
        if clock is None:
            clock = CaseClock(case_id=case.id, organisation_id=case.organisation_id, name=spec.name,
                              status=ClockStatus.RUNNING, started_on=today)
            session.add(clock)
        clock.status = ClockStatus.RUNNING
        clock.started_on = today
        clock.paused_days = 0
        clock.paused_at = None
        _set_due(clock, spec)


def _set_due(clock: CaseClock, spec: ClockSpec) -> None:
    end = period_end(clock.started_on, spec.days + clock.paused_days)
    clock.last_day = end.last_day
    clock.due_at = end.lapses_at
    clock.provisional = end.provisional


def sweep(uow: UnitOfWork, now: datetime | None = None, limit: int = 500) -> list[tuple[int, str]]:
    """Act on every clock that has run out by ``now`` (期限届满处理), one transaction.

    Each lapse is recorded as an event and a reminder in the outbox, or fires
    ``escalate`` as the system actor when the definition says so. A clock acts once:
    running the sweep again changes nothing. Rows are locked with SKIP LOCKED on
    PostgreSQL, so concurrent sweeps never act twice on one clock. Returns
    ``[(case_id, clock name)]`` acted on.
    """
    now = now or utcnow()
    session = uow.session
    query = (
        select(CaseClock)
        .where(CaseClock.status == ClockStatus.RUNNING, CaseClock.due_at <= now)
        .order_by(CaseClock.due_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    acted: list[tuple[int, str]] = []
    with uow.conflicts():  # a user's fire on the same case may win the race
        for clock in session.scalars(query).all():
            case = session.get(Case, clock.case_id)
            if case is None:
                continue
            definition = uow.engine.registry.get(case.workflow, case.workflow_version)
            spec = definition.clocks.get(clock.name)
            clock.status = ClockStatus.EXPIRED
            if spec is None:
                continue
            expiry = spec.on_expiry
            data = {
                "clock": spec.name,
                "label": pick_label(spec.label),
                "last_day": clock.last_day.isoformat() if clock.last_day else None,
                "offer": dict(expiry.get("offer") or {}),
            }
            tier = case.tier  # whom to notify is decided by the tier the case was in when the clock lapsed
            if expiry["action"] == "escalate" and "escalate" in uow.engine.available(definition, case):
                cleaned = {"reason": f"{pick_label(spec.label)}届满，系统自动提级"}
                dest = uow.engine.next_state(definition, case, "escalate", cleaned)
                _record_move(uow, case, definition, "escalate", case.state, dest, None, now, cleaned)
            else:
                append_event(
                    session, case, trigger="clock_expired", from_state=case.state, to_state=case.state,
                    actor=None, at=now, data=data,
                )
            notify = [
                definition.lead_role(tier) if w == "tier_lead"
                else definition.lead_role((tier or 0) + 1) if w == "next_tier_lead" else w
                for w in expiry.get("notify", ())
            ]
            _outbox(
                session, case, "clock_expired", f"clock:{clock.id}:{clock.due_at.isoformat() if clock.due_at else ''}",
                now, dict(data, number=case.number, notify_roles=[r for r in notify if r]),
            )
            acted.append((case.id, clock.name))
    uow.commit()
    return acted


def clock_status(clock: CaseClock, spec: ClockSpec, now: datetime) -> dict[str, Any]:
    """What the case page shows of a clock: day count, last day, whether it has lapsed."""
    today = local_date(now)
    paused_extra = 0
    if clock.status is ClockStatus.PAUSED and clock.paused_at is not None:
        paused_extra = (today - local_date(clock.paused_at)).days
    elapsed = max(0, (today - clock.started_on).days - clock.paused_days - paused_extra)
    last_day: date | None = clock.last_day
    if clock.status is ClockStatus.PAUSED and last_day is not None:
        last_day = None  # not known until the case resumes
    return {
        "name": spec.name,
        "label": spec.label,
        "days": spec.days,
        "elapsed": elapsed,
        "last_day": last_day,
        "status": clock.status.value,
        "provisional": clock.provisional,
        "overdue": clock.status is ClockStatus.EXPIRED
        or (clock.status is ClockStatus.RUNNING and clock.due_at is not None and clock.due_at <= now),
        "source": spec.source,
        "remaining": (last_day - today).days if last_day else None,
    }


