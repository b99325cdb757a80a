"""SQLAlchemy 2 typed models of the mediation domain (DESIGN.md §2).

Datetimes are aware and stored in UTC; money is ``Decimal`` yuan; enums are stored
by value and constrained in the database. The schema is created only by Alembic.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, UOWTransaction, foreign, mapped_column, relationship
from sqlalchemy.orm.attributes import get_history
from sqlalchemy.sql import ColumnElement, and_, false

from .enums import (
    AgreementKind,
    AgreementStatus,
    Category,
    ClockStatus,
    Gender,
    IntakeSource,
    PartyKind,
    PartyRole,
    Role,
    SessionMode,
    SessionStatus,
    Severity,
)
from .textkeys import name_key, names_pinyin_key, pinyin_key, text_key
from .types import Money, UTCDateTime, value_enum

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with the constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), Decimal: Money(), dict[str, Any]: JSON()}  # noqa: RUF012


class Organisation(Base):
    """A mediating organisation: a police station or committee (调解组织)."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    short_name: Mapped[str] = mapped_column(String(40))
    committee_name: Mapped[str] = mapped_column(String(200))
    case_number_pattern: Mapped[str] = mapped_column(
        String(120), default="（{year}）{short_name}警调字第{seq:04d}号"
    )


class Area(Base):
    """A village, community or patrol area of an organisation (辖区 / 片区)."""

    __tablename__ = "areas"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(200))

    organisation: Mapped[Organisation] = relationship()


class Enterprise(Base):
    """An enterprise served by a police–enterprise station (企业)."""

    __tablename__ = "enterprises"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(200))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))

    organisation: Mapped[Organisation] = relationship()
    area: Mapped[Area | None] = relationship()


#: Enterprises a liaison or community officer is assigned to (联系企业); none: the whole organisation.
officer_enterprises = Table(
    "officer_enterprises",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("enterprise_id", ForeignKey("enterprises.id", ondelete="CASCADE"), primary_key=True),
)
#: Areas a liaison or community officer is assigned to (责任片区); none: the whole organisation.
officer_areas = Table(
    "officer_areas",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True),
)


class User(Base):
    """A person who logs in (用户)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(value_enum(Role, "role"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    email: Mapped[str | None] = mapped_column(String(254))
    #: The user's own area (a volunteer mediator's village); ``None``: not bound to one.
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    #: Part of every log-in session; raising it (deactivation, new password) ends them all.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    organisation: Mapped[Organisation] = relationship()
    enterprise: Mapped[Enterprise | None] = relationship()
    area: Mapped[Area | None] = relationship()
    assigned_enterprises: Mapped[list[Enterprise]] = relationship(
        secondary=officer_enterprises, order_by="Enterprise.name"
    )
    assigned_areas: Mapped[list[Area]] = relationship(secondary=officer_areas, order_by="Area.name")


class WorkflowDefinition(Base):
    """A loaded version of a workflow definition file (流程定义版本)."""

    __tablename__ = "workflow_definitions"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)


class WorkflowState(Base):
    """A state of a workflow version; cases reference it, so states are constrained."""

    __tablename__ = "workflow_states"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workflow", "version"],
            ["workflow_definitions.name", "workflow_definitions.version"],
            name="fk_workflow_states_definition",
        ),
    )

    workflow: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    final: Mapped[bool] = mapped_column(Boolean, default=False)


class CaseNumberCounter(Base):
    """Last case number issued per organisation and year; locked to stay gap-free."""

    __tablename__ = "case_number_counters"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


def case_station_key() -> ForeignKeyConstraint:
    """The foreign key of a row that belongs to a case and carries the case's station:
    ``(case_id, organisation_id)`` → ``cases (id, organisation_id)``.

    Events, agreements and clocks are counted by time within a station (the statistics);
    with the station on the row, one index range holds a station's month, where a join to
    ``cases`` would read every station's (issue 6). The composite key makes the database
    refuse a copy that differs from the case's station; a case never changes station.
    """
    return ForeignKeyConstraint(["case_id", "organisation_id"], ["cases.id", "cases.organisation_id"])


def _by_case(model: type[Event] | type[Agreement] | type[CaseClock]) -> ColumnElement[bool]:
    """How a case's rows of ``model`` are joined to it: by ``case_id`` alone (the primary
    key), so loading them reads as before; the station is checked by ``case_station_key``.

    Joined on both columns, appending to ``case.agreements`` would copy the station too,
    but every load of a case's rows would then match on two columns and eager loads could
    no longer go by the case's primary key alone. So the writers set ``organisation_id``
    themselves (``services.append_event``, ``services`` clocks, ``actions._new_agreement``);
    one that forgets fails on NOT NULL, never silently."""
    return Case.id == foreign(model.case_id)


class Case(Base):
    """A dispute in the ledger (纠纷案件 / 台账记录).

    Its organisation, enterprise, area, filer, mediator, documents, clocks and events are
    read through relationships but written through the ``*_id`` columns (``case_id`` on the
    rows): those relationships are view-only, so the unit of work skips them on the engine's
    hot path, and writing through one raises ``AttributeError`` (``_refuse_writes``).
    """

    __tablename__ = "cases"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workflow", "workflow_version", "state"],
            ["workflow_states.workflow", "workflow_states.version", "workflow_states.name"],
            name="fk_cases_workflow_state",
        ),
        UniqueConstraint("organisation_id", "number_year", "number_seq", name="uq_cases_number_seq"),
        CheckConstraint("tier IS NULL OR tier BETWEEN 1 AND 3", name="tier_range"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index("ix_cases_org_state", "organisation_id", "state"),
        # Also the ledger's count by tier and kind, and the statistics' intake by kind, read from the index alone.
        Index("ix_cases_org_filed", "organisation_id", "filed_at", "id", "category", "tier"),
        Index("ix_cases_org_updated", "organisation_id", "updated_at", "id"),
        Index("ix_cases_org_party_key", "organisation_id", "party_key", "id"),
        # The parent key of the rows that carry their case's station (``case_station_key``).
        Index("ix_cases_id_organisation_id", "id", "organisation_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    workflow: Mapped[str] = mapped_column(String(40))
    workflow_version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(40))
    tier: Mapped[int | None] = mapped_column(Integer)
    severity: Mapped[Severity | None] = mapped_column(value_enum(Severity, "severity"))
    category: Mapped[Category] = mapped_column(value_enum(Category, "category"))
    filed_via: Mapped[IntakeSource] = mapped_column(value_enum(IntakeSource, "intake_source"))
    title: Mapped[str] = mapped_column(String(200))
    facts: Mapped[str] = mapped_column(Text, default="")
    claims: Mapped[str] = mapped_column(Text, default="")
    amount_claimed: Mapped[Decimal | None]
    number: Mapped[str] = mapped_column(String(80), unique=True)
    number_year: Mapped[int] = mapped_column(Integer)
    number_seq: Mapped[int] = mapped_column(Integer)
    tracking_code: Mapped[str] = mapped_column(String(20), unique=True)
    filed_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    risk_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    last_event_hash: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: Number, title, facts and claims folded for search (``textkeys.text_key``); kept by ``_keep_keys``.
    search_key: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: The applicants' names in pinyin order (``textkeys.names_pinyin_key``); kept by ``_keep_keys``.
    party_key: Mapped[str] = mapped_column(String(255), default="", server_default="")

    # Programmatic versioning: every event sets version+1; the UPDATE checks the old value.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}  # noqa: RUF012

    organisation: Mapped[Organisation] = relationship(viewonly=True)
    enterprise: Mapped[Enterprise | None] = relationship(viewonly=True)
    area: Mapped[Area | None] = relationship(viewonly=True)
    filed_by: Mapped[User | None] = relationship(foreign_keys=[filed_by_id], viewonly=True)
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id], viewonly=True)
    parties: Mapped[list[Party]] = relationship(
        back_populates="case", order_by="Party.position", cascade="all, delete-orphan"
    )
    events: Mapped[list[Event]] = relationship(
        back_populates="case", primaryjoin=lambda: _by_case(Event), order_by="Event.seq", viewonly=True
    )
    agreements: Mapped[list[Agreement]] = relationship(
        back_populates="case", primaryjoin=lambda: _by_case(Agreement), order_by="Agreement.version"
    )
    #: The sessions held, with their minutes (a scheduled or cancelled one is not among them).
    sessions: Mapped[list[MediationSession]] = relationship(
        primaryjoin=lambda: and_(
            Case.id == MediationSession.case_id, MediationSession.status == SessionStatus.HELD
        ),
        order_by="MediationSession.held_at",
        overlaps="case",
    )
    documents: Mapped[list[Document]] = relationship(
        back_populates="case", order_by="Document.id", viewonly=True
    )
    clocks: Mapped[list[CaseClock]] = relationship(
        back_populates="case", primaryjoin=lambda: _by_case(CaseClock), order_by="CaseClock.id", viewonly=True
    )

    def party(self, ref: str) -> Party:
        """The party named ``ref`` (``a1``, ``r1`` …); raises ``KeyError`` if none."""
        for p in self.parties:
            if p.ref == ref:
                return p
        raise KeyError(ref)

    @property
    def current_agreement(self) -> Agreement | None:
        """The newest agreement not superseded, or ``None``."""
        live = [a for a in self.agreements if a.status is not AgreementStatus.SUPERSEDED]
        return live[-1] if live else None


class Party(Base):
    """A party to a dispute (当事人); a group acts through its representative (DOMAIN R15)."""

    __tablename__ = "parties"
    __table_args__ = (
        UniqueConstraint("case_id", "ref"),
        CheckConstraint("size >= 1", name="size_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    ref: Mapped[str] = mapped_column(String(20))
    role: Mapped[PartyRole] = mapped_column(value_enum(PartyRole, "party_role"))
    kind: Mapped[PartyKind] = mapped_column(value_enum(PartyKind, "party_kind"))
    name: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer, default=1)
    gender: Mapped[Gender | None] = mapped_column(value_enum(Gender, "gender"))
    ethnicity: Mapped[str | None] = mapped_column(String(40))
    birth_date: Mapped[date | None] = mapped_column(Date)
    occupation: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    id_number: Mapped[str | None] = mapped_column(String(18), index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    representative: Mapped[str | None] = mapped_column(String(120))
    #: The name folded for search (``textkeys.name_key``) and in pinyin order; kept by ``_keep_keys``.
    name_key: Mapped[str] = mapped_column(String(200), default="", server_default="")
    sort_key: Mapped[str] = mapped_column(String(255), default="", server_default="")

    case: Mapped[Case] = relationship(back_populates="parties")
    #: The workers of a group party, in list order (DOMAIN R15).
    members: Mapped[list[GroupMember]] = relationship(
        back_populates="party", order_by="GroupMember.position", cascade="all, delete-orphan"
    )


class GroupMember(Base):
    """One worker of a group party (集体成员): name, ID number, phone, amount claimed (CNY), DOMAIN R15."""

    __tablename__ = "group_members"
    __table_args__ = (
        UniqueConstraint("party_id", "position"),
        UniqueConstraint("party_id", "id_number"),
        CheckConstraint("amount_claimed IS NULL OR amount_claimed >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120))
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    amount_claimed: Mapped[Decimal | None]

    party: Mapped[Party] = relationship(back_populates="members")


class Event(Base):
    """An immutable entry on a case's timeline (办理记录); hash-chained per case."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("case_id", "seq"), case_station_key())

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    #: The case's station (调解组织), copied so a station's events are read by index; see ``case_station_key``.
    organisation_id: Mapped[int]
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(120))
    trigger: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str] = mapped_column(String(40))
    to_state: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    case: Mapped[Case] = relationship(back_populates="events", primaryjoin=lambda: _by_case(Event), viewonly=True)
    actor: Mapped[User | None] = relationship(viewonly=True)


class MediationSession(Base):
    """A mediation session, joint or caucus (调解会 / 背靠背调解): scheduled, then held with its
    minutes (调解记录, DOMAIN R29), or cancelled. Times are UTC; screens show Asia/Shanghai."""

    __tablename__ = "mediation_sessions"
    __table_args__ = (
        CheckConstraint("status <> 'held' OR held_at IS NOT NULL", name="held_has_time"),
        CheckConstraint("status <> 'scheduled' OR scheduled_for IS NOT NULL", name="scheduled_has_time"),
        Index("ix_mediation_sessions_status_scheduled_for", "status", "scheduled_for"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    status: Mapped[SessionStatus] = mapped_column(
        value_enum(SessionStatus, "session_status"), default=SessionStatus.HELD, server_default="held"
    )
    scheduled_for: Mapped[datetime | None]
    held_at: Mapped[datetime | None]
    place: Mapped[str | None] = mapped_column(String(200))
    mode: Mapped[SessionMode] = mapped_column(value_enum(SessionMode, "session_mode"))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    participants: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    minutes: Mapped[str | None] = mapped_column(Text)
    #: R29: the parties were told their rights and duties (告知权利义务).
    rights_explained: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: R29: what the mediator checked (核实情况).
    verification: Mapped[str | None] = mapped_column(Text)
    #: R29: the result, or why it failed and which other channels the parties were told of.
    result: Mapped[str | None] = mapped_column(Text)
    #: Who leads it (the mediator who scheduled it); the calendar is per mediator.
    mediator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    case: Mapped[Case] = relationship(overlaps="sessions")
    mediator: Mapped[User | None] = relationship(foreign_keys=[mediator_id])


class Agreement(Base):
    """A mediation agreement, written or oral (调解协议书 / 口头协议), DOMAIN R9–R10."""

    __tablename__ = "agreements"
    __table_args__ = (UniqueConstraint("case_id", "version"), case_station_key())

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    #: The case's station (调解组织), copied so a station's agreements are read by index; see ``case_station_key``.
    organisation_id: Mapped[int]
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[AgreementKind] = mapped_column(value_enum(AgreementKind, "agreement_kind"))
    status: Mapped[AgreementStatus] = mapped_column(
        value_enum(AgreementStatus, "agreement_status")
    )
    tier: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    drafted_at: Mapped[datetime]
    signed_at: Mapped[datetime | None]
    effective_at: Mapped[datetime | None]
    signed_off_at: Mapped[datetime | None]
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    judicial_confirmation_applied_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship(back_populates="agreements", primaryjoin=lambda: _by_case(Agreement))
    obligations: Mapped[list[Obligation]] = relationship(
        back_populates="agreement", order_by="Obligation.seq", cascade="all, delete-orphan"
    )


class Obligation(Base):
    """One agreed term to perform (协议履行事项): who owes what to whom, by when."""

    __tablename__ = "obligations"
    __table_args__ = (
        UniqueConstraint("agreement_id", "seq"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    obligor_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    obligee_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    #: The worker of a group party this term is owed to or by (one term per worker, DOMAIN R15).
    member_id: Mapped[int | None] = mapped_column(ForeignKey("group_members.id"))
    text: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal | None]
    due_on: Mapped[date | None] = mapped_column(Date)
    performed_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)

    agreement: Mapped[Agreement] = relationship(back_populates="obligations")
    obligor: Mapped[Party | None] = relationship(foreign_keys=[obligor_id])
    obligee: Mapped[Party | None] = relationship(foreign_keys=[obligee_id])
    member: Mapped[GroupMember | None] = relationship()


class Document(Base):
    """An issued legal document (法律文书): its content snapshot and verification digest.

    The PDF is rendered from ``context``; the same context always gives the same text,
    so ``digest`` verifies a printed copy against the record.
    """

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("case_id", "kind", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime]
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64), index=True)
    verification_code: Mapped[str] = mapped_column(String(24))

    case: Mapped[Case] = relationship(back_populates="documents")


class Attachment(Base):
    """A file of evidence on a case (证据材料), kept by its SHA-256 outside the web root.

    ``content_type`` is what the content is (sniffed), not what the name says; ``size`` in bytes.
    """

    __tablename__ = "attachments"
    __table_args__ = (CheckConstraint("size > 0", name="size_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    description: Mapped[str | None] = mapped_column(String(500))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime]

    uploaded_by: Mapped[User | None] = relationship()


class CaseClock(Base):
    """A running period on a case: statutory or service deadline (期限)."""

    __tablename__ = "case_clocks"
    __table_args__ = (
        UniqueConstraint("case_id", "name"),
        Index("ix_case_clocks_due", "status", "due_at"),
        case_station_key(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int]
    #: The case's station (调解组织), copied so a station's clocks are read by index; see ``case_station_key``.
    organisation_id: Mapped[int]
    name: Mapped[str] = mapped_column(String(60))
    status: Mapped[ClockStatus] = mapped_column(value_enum(ClockStatus, "clock_status"))
    started_on: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime | None]
    last_day: Mapped[date | None] = mapped_column(Date)
    paused_at: Mapped[datetime | None]
    paused_days: Mapped[int] = mapped_column(Integer, default=0)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)

    case: Mapped[Case] = relationship(back_populates="clocks", primaryjoin=lambda: _by_case(CaseClock))


class OutboxMessage(Base):
    """A notice to deliver after commit (通知发件箱); delivered at least once."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(60))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class Notification(Base):
    """An in-app notice to one user (站内通知), one per outbox message and recipient."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    created_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    read_at: Mapped[datetime | None]
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)


class Delivery(Base):
    """One completed delivery of an outbox message on one channel to one recipient (送达记录).

    Its unique key makes redelivery after a crash a no-op for that channel and recipient.
    """

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    delivered_at: Mapped[datetime]



class ApiToken(Base):
    """A personal token for the JSON API (接口令牌); only its SHA-256 is stored, ``prefix`` is shown."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


# Indexes of the statistics: each figure reads one range of one index, led by the station
# (events, agreements and clocks carry theirs, ``case_station_key``), and the columns it
# counts by are in the index too, so a station's month of a million-case ledger is read
# without visiting other stations' rows (issue 6). Closings: only closed cases (a state
# change of an open case does not touch the index).
Index("ix_cases_org_accepted", Case.organisation_id, Case.accepted_at)
Index("ix_cases_org_closed", Case.organisation_id, Case.closed_at, Case.workflow, Case.workflow_version, Case.state,
      Case.tier, Case.accepted_at,
      sqlite_where=Case.closed_at.is_not(None), postgresql_where=Case.closed_at.is_not(None))
Index("ix_agreements_org_effective", Agreement.organisation_id, Agreement.effective_at, Agreement.case_id,
      Agreement.kind)
Index("ix_agreements_case_effective", Agreement.case_id, Agreement.effective_at)
Index("ix_events_org_trigger_at", Event.organisation_id, Event.trigger, Event.at)
Index("ix_case_clocks_org_due", CaseClock.organisation_id, CaseClock.due_at, CaseClock.status, CaseClock.name)


# Substring indexes of the ledger's search (``LIKE '%key%'``, issue 6): trigrams of each
# searched column. PostgreSQL: a ``pg_trgm`` GIN index per column, declared here. SQLite:
# an FTS5 table with the trigram tokenizer per table (``SUBSTRING_INDEXES``), kept by
# triggers; FTS5 tables are not SQLAlchemy tables, so they are the migration's alone.
def postgresql_only(index: Index) -> Index:
    """``index`` made and compared on PostgreSQL only (``info["dialect"]``, read by alembic/env.py)."""
    index.info["dialect"] = "postgresql"
    return index.ddl_if(dialect="postgresql")


def _trigram_index(name: str, column: Any) -> Index:
    return postgresql_only(Index(name, column, postgresql_using="gin", postgresql_ops={column.key: "gin_trgm_ops"}))


_trigram_index("ix_cases_number_trgm", Case.number)
_trigram_index("ix_cases_search_key_trgm", Case.search_key)
_trigram_index("ix_parties_name_key_trgm", Party.name_key)
_trigram_index("ix_parties_id_number_trgm", Party.id_number)
_trigram_index("ix_parties_phone_trgm", Party.phone)
_trigram_index("ix_group_members_name_trgm", GroupMember.name)
_trigram_index("ix_group_members_id_number_trgm", GroupMember.id_number)
_trigram_index("ix_group_members_phone_trgm", GroupMember.phone)

#: SQLite's substring index of each searched table: an FTS5 trigram table over the searched
#: columns (``content=`` the table, ``rowid`` = its id). Each has shadow tables ``<name>_*``.
SUBSTRING_INDEXES: dict[str, str] = {
    "cases": "cases_fts",
    "parties": "parties_fts",
    "group_members": "group_members_fts",
}


# --- search and sort keys -------------------------------------------------------------

_CASE_TEXT = ("number", "title", "facts", "claims")


def case_search_key(case: Case) -> str:
    """What the ledger's free-text search looks in: number, title, facts, claims, folded."""
    return text_key(case.number, case.title, case.facts, case.claims)


def case_party_key(case: Case, pending: Iterable[Party] = ()) -> str:
    """The pinyin sort key of the case's applicants (by position), else of all its parties;
    ``pending`` are parties of the case not yet in its loaded collection."""
    parties = sorted({*case.parties, *pending}, key=lambda p: (p.position, p.id or 0))
    applicants = [p.name for p in parties if p.role is PartyRole.APPLICANT] or [p.name for p in parties]
    return names_pinyin_key(applicants)


def _refuse_writes(attribute: Any, column: str) -> None:
    """Make a view-only relationship raise ``AttributeError`` when written to, naming the column to set."""
    message = f"{attribute} is read-only: set {column} instead"

    def refuse(*_args: Any) -> None:
        raise AttributeError(message)

    for kind in ("set", "append", "remove"):
        if kind == "set" or attribute.property.uselist:
            event.listen(attribute, kind, refuse)


for _attribute, _column in (
    (Case.organisation, "organisation_id"), (Case.enterprise, "enterprise_id"), (Case.area, "area_id"),
    (Case.filed_by, "filed_by_id"), (Case.assigned_to, "assigned_to_id"),
    (Case.documents, "Document.case_id"), (Case.clocks, "CaseClock.case_id and organisation_id"),
    (Case.events, "Event.case_id and organisation_id"), (Event.case, "case_id and organisation_id"),
    (Event.actor, "actor_id"),
):
    _refuse_writes(_attribute, _column)


def _changed(obj: Base, names: tuple[str, ...]) -> bool:
    return any(get_history(obj, n).has_changes() for n in names)


@event.listens_for(Session, "before_flush")
def _keep_keys(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    """Fill the search and sort keys of new or renamed parties and of new or re-worded cases,
    whoever writes them (filing, replay, imports), so the stored keys never go stale."""
    touched: dict[Case, set[Party]] = {}
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, Party) and (obj in session.new or _changed(obj, ("name", "kind", "role", "position"))):
            obj.name_key = name_key(obj.name)
            obj.sort_key = pinyin_key(obj.name, person=obj.kind is not PartyKind.ORGANISATION)
            case = obj.case
            if case is None and obj.case_id is not None:
                with session.no_autoflush:
                    case = session.get(Case, obj.case_id)
            if case is not None:
                touched.setdefault(case, set()).add(obj)
        elif isinstance(obj, Case) and (obj in session.new or _changed(obj, _CASE_TEXT)):
            obj.search_key = case_search_key(obj)
            if obj in session.new:
                touched.setdefault(obj, set())
    for case, parties in touched.items():
        case.party_key = case_party_key(case, parties)
