"""Meetings (调解会): the sessions a case has planned, and the calendar of coming sessions.

Scheduling, recording and cancelling are the ``schedule_session``, ``record_session``
and ``cancel_session`` triggers (``mediation.actions``); this module only reads. Times
are UTC in the database; weeks and days are Asia/Shanghai.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, selectinload

from . import policy
from .clocks import SHANGHAI
from .enums import SessionStatus
from .models import Case, MediationSession, User, WorkflowState
from .queries import visible_clause

#: The most sessions one calendar page lists.
CALENDAR_LIMIT = 500


@dataclass(frozen=True)
class PlannedSession:
    """A scheduled session of a case: when, where, how, who; ``due`` once its time has passed unrecorded."""

    id: int
    scheduled_for: datetime
    place: str | None
    mode: str
    public: bool
    participants: list[str]
    mediator: str | None
    due: bool


@dataclass(frozen=True)
class CalendarEntry:
    """One session on the calendar, with its case."""

    id: int
    at: datetime
    day: date
    status: str
    place: str | None
    mode: str
    public: bool
    participants: list[str]
    mediator_id: int | None
    mediator: str | None
    case_id: int
    case_number: str
    case_title: str
    due: bool


@dataclass(frozen=True)
class Calendar:
    """The sessions from ``start`` to ``end`` (Asia/Shanghai days, ``end`` excluded) the user may see."""

    start: date
    end: date
    entries: list[CalendarEntry]
    #: ``(user id, name)`` of every mediator with a session the user may see in the period.
    mediators: list[tuple[int, str]]

    def days(self) -> list[date]:
        """Every day of the period."""
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days)]

    def on(self, day: date) -> list[CalendarEntry]:
        """The entries of ``day``, by time."""
        return [e for e in self.entries if e.day == day]


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def _names(participants: Sequence[Mapping[str, str]], names: Mapping[str, str]) -> list[str]:
    return [names.get(p.get("party", ""), p.get("party", "")) if "party" in p else p.get("name", "")
            for p in participants]


def planned_sessions(session: Session, case: Case, now: datetime) -> list[PlannedSession]:
    """The case's sessions still scheduled, soonest first (the case must be one the caller may see)."""
    names = {p.ref: p.name for p in case.parties}
    rows = session.scalars(
        select(MediationSession)
        .where(MediationSession.case_id == case.id, MediationSession.status == SessionStatus.SCHEDULED)
        .options(selectinload(MediationSession.mediator))
        .order_by(MediationSession.scheduled_for, MediationSession.id)
    )
    return [
        PlannedSession(
            id=row.id, scheduled_for=row.scheduled_for, place=row.place, mode=row.mode.value, public=row.public,
            participants=_names(row.participants, names),
            mediator=row.mediator.display_name if row.mediator else None,
            due=row.scheduled_for <= now,
        )
        for row in rows
        if row.scheduled_for is not None
    ]


def calendar(
    session: Session,
    user: User,
    start: date,
    end: date,
    *,
    mediator_id: int | None = None,
    now: datetime,
) -> Calendar:
    """Scheduled and held sessions from ``start`` to ``end`` (Asia/Shanghai, ``end`` excluded) of
    open cases ``user`` may see (``policy.can_view``), optionally of one mediator only."""
    since = datetime.combine(start, time(0, 0), tzinfo=SHANGHAI)
    until = datetime.combine(end, time(0, 0), tzinfo=SHANGHAI)
    when = MediationSession.scheduled_for
    held = MediationSession.held_at
    open_case = select(WorkflowState.name).where(
        WorkflowState.workflow == Case.workflow, WorkflowState.version == Case.workflow_version,
        WorkflowState.name == Case.state, WorkflowState.final.is_(False),
    ).exists()
    stmt = (
        select(MediationSession, Case)
        .join(Case, Case.id == MediationSession.case_id)
        .where(
            visible_clause(user),
            open_case,
            (and_(MediationSession.status == SessionStatus.SCHEDULED, when >= since, when < until))
            | (and_(MediationSession.status == SessionStatus.HELD, held >= since, held < until)),
        )
        .options(selectinload(MediationSession.mediator), selectinload(Case.parties))
        .order_by(MediationSession.id)
        .limit(CALENDAR_LIMIT)
    )
    entries: list[CalendarEntry] = []
    mediators: dict[int, str] = {}
    for row, case in session.execute(stmt):
        if not policy.can_view(user, case):
            continue
        at = row.held_at if row.status is SessionStatus.HELD else row.scheduled_for
        if at is None:
            continue
        if row.mediator is not None:
            mediators[row.mediator.id] = row.mediator.display_name
        if mediator_id is not None and row.mediator_id != mediator_id:
            continue
        entries.append(CalendarEntry(
            id=row.id, at=at, day=at.astimezone(SHANGHAI).date(), status=row.status.value, place=row.place,
            mode=row.mode.value, public=row.public,
            participants=_names(row.participants, {p.ref: p.name for p in case.parties}),
            mediator_id=row.mediator_id, mediator=row.mediator.display_name if row.mediator else None,
            case_id=case.id, case_number=case.number, case_title=case.title,
            due=row.status is SessionStatus.SCHEDULED and at <= now,
        ))
    entries.sort(key=lambda e: (e.at, e.id))
    return Calendar(start, end, entries, sorted(mediators.items(), key=lambda kv: kv[1]))
