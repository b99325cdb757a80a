"""Driving cases through the services: a station with one user per role, and a known
path from filing to every state of the shipped workflows (DESIGN.md §3).

Used by the engine, concurrency and third-workflow tests. Every step goes through
``services.file_case`` / ``services.fire``: nothing here writes a case's state itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from mediation.engine import Engine
from mediation.enums import Role, SessionStatus
from mediation.models import (
    Agreement,
    Case,
    Document,
    Enterprise,
    Event,
    MediationSession,
    Organisation,
    OutboxMessage,
    User,
)
from mediation.services import Filed, Fired, UnitOfWork, file_case, fire

#: Two instalments, so recording the first leaves the case performing.
TERMS: list[dict[str, Any]] = [
    {"obligor": "r1", "obligee": "a1", "text": "支付拖欠工资5000元", "amount": "5000", "due_on": "2026-03-20"},
    {"obligor": "r1", "obligee": "a1", "text": "支付剩余工资4966元", "amount": "4966.00", "due_on": "2026-04-20"},
]

#: Valid data for each trigger of the shared vocabulary (the case decides whether it applies).
DATA: dict[str, dict[str, Any]] = {
    "accept": {"severity": "general"},
    "decline": {"reason": "双方已申请劳动仲裁", "referral": "arbitration"},
    "escalate": {"reason": "分歧较大，提级调处"},
    "suspend": {"reason": "等待工伤认定结论"},
    "resume": {},
    "draft_agreement": {"terms": TERMS},
    "sign": {},
    "sign_off": {},
    "record_oral_agreement": {"text": "双方当场达成口头协议并履行完毕", "performed": True},
    "record_performance": {"term": 1, "note": "已转账"},
    "report_breach": {"term": 1, "note": "到期未付"},
    "reopen": {},
    "record_follow_up": {"note": "回访：已履行，双方满意"},
    "terminate": {"reason": "一方要求终止调解", "referral": "arbitration"},
    "withdraw": {"reason": "申请人撤回申请"},
    "apply_judicial_confirmation": {},
    "record_visit": {"note": "上门走访申请人"},
    "record_session": {"mode": "joint", "participants": ["a1", "r1", "村调解员王某"]},
    "record_investigation": {"note": "调取考勤记录"},
    "add_note": {"note": "电话联系被申请人"},
    "schedule_session": {"scheduled_for": "2035-12-01 09:30", "mode": "joint", "place": "温溪派出所调解室",
                         "participants": ["a1", "r1"]},
    "cancel_session": {"reason": "被申请人代表出差"},  # and the session_id of the case's scheduled session
    "attach": {"filename": "工资条.pdf", "content_type": "application/pdf", "size": 2048, "sha256": "ab" * 32},
    "record_group_members": {"party": "a2", "members": [
        {"name": "工人甲", "id_number": "11010519491231002X"},
        {"name": "工人乙", "id_number": "510824196903150379", "amount_claimed": "3200"},
    ]},
}

FILINGS: dict[str, dict[str, Any]] = {
    "labour": {
        "workflow": "labour",
        "category": "wages",
        "filed_via": "walk_in",
        "facts": "申请人在被申请人处务工，被拖欠三个月工资",
        "claims": "支付拖欠工资9966元",
        "amount_claimed": "9966",
        "parties": [
            {"role": "applicant", "name": "李某", "phone": "13800000101", "id_number": "510824196903150379"},
            {"role": "respondent", "kind": "organisation", "name": "某阀门有限公司", "representative": "王某"},
            {"role": "applicant", "kind": "group", "name": "装配车间工人", "size": 12, "representative": "李某"},
        ],
    },
    "neighbour": {
        "workflow": "neighbour",
        "category": "neighbour_lift",
        "filed_via": "walk_in",
        "facts": "一楼住户阻挠加装电梯施工",
        "claims": "停止阻挠施工",
        "parties": [
            {"role": "applicant", "name": "张某", "phone": "13900000202"},
            {"role": "respondent", "name": "赵某"},
            {"role": "applicant", "kind": "group", "name": "三单元住户", "size": 6, "representative": "张某"},
        ],
    },
}

#: How to reach each state from filing: (trigger, data overrides) steps, fired by the chief.
#: Every accepted case has a session scheduled, so ``cancel_session`` has one to cancel.
PATHS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "registered": [],
    "declined": [("decline", {})],
    "tier1": [("accept", {"severity": "simple"}), ("schedule_session", {})],
    "tier2": [("accept", {"severity": "general"}), ("schedule_session", {})],
    "tier3": [("accept", {"severity": "major"}), ("schedule_session", {})],
    "suspended": [("accept", {"severity": "general"}), ("schedule_session", {}), ("suspend", {})],
    "agreement_drafted": [("accept", {"severity": "general"}), ("schedule_session", {}), ("draft_agreement", {})],
    "awaiting_signoff": [("accept", {"severity": "major"}), ("schedule_session", {}), ("draft_agreement", {}),
                         ("sign", {})],
    "performing": [("accept", {"severity": "general"}), ("schedule_session", {}), ("draft_agreement", {}),
                   ("sign", {})],
    "breached": [("accept", {"severity": "general"}), ("schedule_session", {}), ("draft_agreement", {}),
                 ("sign", {}), ("report_breach", {})],
    "follow_up": [("accept", {"severity": "simple"}), ("schedule_session", {}), ("record_oral_agreement", {})],
    "resolved": [("accept", {"severity": "simple"}), ("schedule_session", {}), ("record_oral_agreement", {}),
                 ("record_follow_up", {})],
    "terminated": [("accept", {"severity": "general"}), ("schedule_session", {}), ("terminate", {})],
    "withdrawn": [("accept", {"severity": "simple"}), ("schedule_session", {}), ("withdraw", {})],
}


@dataclass(frozen=True)
class Snapshot:
    """What a refused trigger must leave untouched."""

    state: str
    version: int
    tier: int | None
    events: int
    documents: int
    agreements: int
    outbox: int


@dataclass
class Station:
    """A police station with an enterprise and users made on demand, one per role."""

    uow: UnitOfWork
    make_user: Callable[..., User]
    enterprise: Enterprise
    _users: dict[Role, User] = field(default_factory=dict)

    def user(self, role: Role) -> User:
        """The station's user of ``role`` (enterprise-bound roles belong to ``enterprise``)."""
        if role not in self._users:
            bound = self.enterprise if role in (Role.ENTERPRISE_LIAISON, Role.DEPARTMENT_HEAD) else None
            self._users[role] = self.make_user(role, enterprise=bound)
        return self._users[role]

    def file(self, workflow: str = "labour", actor: Role | None = Role.STATION_CHIEF,
             now: datetime | None = None, **overrides: Any) -> Filed:
        """File a case of ``workflow`` (a labour case for the station's enterprise)."""
        filing = dict(FILINGS.get(workflow, FILINGS["labour"]), workflow=workflow)
        if workflow == "labour":  # a labour dispute is one of the station's enterprise's
            filing["enterprise_id"] = self.enterprise.id
        filing.update(overrides)
        actor_id = self.user(actor).id if actor is not None else None
        with self.uow:
            return file_case(self.uow, actor_id, filing, organisation_id=self.enterprise.organisation_id, now=now)

    def fire(self, case_id: int, trigger: str, data: Mapping[str, Any] | None = None,
             actor: Role | None = Role.STATION_CHIEF, *, now: datetime | None = None,
             expected_version: int | None = None) -> Fired:
        """Fire ``trigger`` as the user of ``actor`` (``None``: the system actor)."""
        actor_id = self.user(actor).id if actor is not None else None
        with self.uow:
            return fire(self.uow, case_id, trigger, actor_id, self.data_for(case_id, trigger) if data is None else data,
                        now=now, expected_version=expected_version)

    def data_for(self, case_id: int, trigger: str) -> dict[str, Any]:
        """Valid data for ``trigger`` on this case: ``DATA``, plus the scheduled session to cancel."""
        data = dict(DATA[trigger])
        if trigger == "cancel_session":
            scheduled = self.read(lambda s: s.scalars(
                select(MediationSession.id).where(MediationSession.case_id == case_id,
                                                  MediationSession.status == SessionStatus.SCHEDULED)
                .order_by(MediationSession.id.desc())).first())
            data["session_id"] = scheduled
        return data

    def drive_to(self, workflow: str, state: str, now: datetime | None = None) -> int:
        """A new case of ``workflow`` brought to ``state`` by its path; returns its id."""
        case_id = self.file(workflow, now=now).case_id
        for trigger, overrides in PATHS[state]:
            self.fire(case_id, trigger, dict(DATA[trigger], **overrides), now=now)
        assert self.case(case_id).state == state
        return case_id

    def read(self, query: Callable[[Session], Any]) -> Any:
        """Run ``query`` in a short read-only session.

        On SQLite every transaction begins IMMEDIATE (a write lock), so a test must never
        keep a read transaction open across a service call.
        """
        with self.uow.session_factory() as s:
            return query(s)

    def case(self, case_id: int) -> Case:
        """The case as stored now, with its parties, agreements, clocks and events loaded (detached)."""

        def load(s: Session) -> Case:
            return s.scalars(
                select(Case).where(Case.id == case_id).options(
                    selectinload(Case.parties),
                    selectinload(Case.agreements).selectinload(Agreement.obligations),
                    selectinload(Case.clocks),
                    selectinload(Case.events),
                    selectinload(Case.documents),
                )
            ).one()

        case: Case = self.read(load)
        return case

    def events(self, case_id: int) -> list[Event]:
        """The case's events in order."""
        return list(self.read(lambda s: s.scalars(select(Event).where(Event.case_id == case_id)
                                                   .order_by(Event.seq)).all()))

    def documents(self, case_id: int) -> list[str]:
        """Kinds of the documents issued for the case, in order."""
        return list(self.read(lambda s: s.scalars(select(Document.kind).where(Document.case_id == case_id)
                                                   .order_by(Document.id)).all()))

    def outbox(self, case_id: int) -> list[OutboxMessage]:
        """The case's outbox rows in order."""
        return list(self.read(lambda s: s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case_id)
                                                   .order_by(OutboxMessage.id)).all()))

    def snapshot(self, case_id: int) -> Snapshot:
        """State, version, tier and the number of each record the case has."""

        def take(s: Session) -> Snapshot:
            case = s.get(Case, case_id)
            assert case is not None

            def count(model: Any) -> int:
                return s.scalar(select(func.count()).select_from(model).where(model.case_id == case_id)) or 0

            return Snapshot(case.state, case.version, case.tier, count(Event), count(Document), count(Agreement),
                            count(OutboxMessage))

        snap: Snapshot = self.read(take)
        return snap


def open_station(uow: UnitOfWork, session: Session, make_user: Callable[..., User],
                 organisation: Any) -> Station:
    """A station (the ``organisation`` fixture) with one enterprise."""
    # factories.EnterpriseFactory passes ``organisation=``, which Enterprise has no relationship for.
    enterprise = Enterprise(organisation_id=organisation.id, name="青田县温溪镇某阀门有限公司")
    session.add(enterprise)
    session.commit()
    return Station(uow, make_user, enterprise)


_SHARED: dict[str, Station] = {}


def shared_station(database: Any, engine: Engine) -> Station:
    """A station kept from test to test (no wipe between), made again when a wipe removed it.

    For the many small tests that each file their own case: emptying the database before
    each costs more than the test on PostgreSQL (TRUNCATE of every table).
    """
    station = _SHARED.get(database.url)
    if station is not None:
        with database.session_factory() as s:
            if s.get(Enterprise, station.enterprise.id) is not None:
                station.uow = UnitOfWork(database.session_factory, engine)
                return station
    with database.session_factory() as s:
        tag = uuid4().hex[:8]  # case numbers are unique across organisations: a short name of its own
        organisation = Organisation(name=f"共享测试派出所{tag}", short_name=f"共享{tag}",
                                    committee_name="共享测试派出所人民调解委员会")
        s.add(organisation)
        s.flush()
        enterprise = Enterprise(organisation_id=organisation.id, name="青田县温溪镇某阀门有限公司")
        s.add(enterprise)
        s.commit()

    def make_user(role: Role, enterprise: Enterprise | None = None, **kwargs: Any) -> User:
        with database.session_factory() as s:
            user = User(username=f"{role.value}-{uuid4().hex[:8]}", password_hash="-", display_name=f"{role.value}用户",
                        role=role, organisation_id=organisation.id,
                        enterprise_id=enterprise.id if enterprise else None, active=True, **kwargs)
            s.add(user)
            s.commit()
            return user

    station = Station(UnitOfWork(database.session_factory, engine), make_user, enterprise)
    _SHARED[database.url] = station
    return station
