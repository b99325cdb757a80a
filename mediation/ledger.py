"""The ledger (台账): every case a user may see, filtered, searched, sorted and paged in SQL.

``ledger_query(session, user, filters)`` is the one query behind the ledger page, its
CSV and XLSX exports and the JSON API. The policy is part of its WHERE clause
(``policy.visible_clause``), so nothing the user may not see is ever loaded; each row
built for a screen still passes ``policy.can_view`` (``queries.case_rows``).

Search looks in stored keys (``mediation.textkeys``): full-width and half-width
characters match each other, and so do the middle-dot variants in names (``·・•‧．``).
Searching by ID number or phone is for roles that see them whole (policy
``search_particulars``); for others those parts of a search match nothing. Pages are
keyset-paged: a cursor holds the sort values and the id of the row it follows.

At scale (issue 6, point 5: a million cases): a search whose keys have three characters
or more is read through trigram indexes (``Search.matches``) and a whole ID number
through its B-tree, so it costs what it finds, not what the ledger holds; a shorter key
(``张``, ``李四``) is checked row by row along the ledger's order, which fills a page
soon when it is common and reads the station's cases when it is rare. The ledger counts
its cases no further than ``COUNT_LIMIT`` ("more than 1,000 cases"): past that the exact
number does not change what a mediator does next (narrow the filters), and counting it
would read every match.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    column,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    tuple_,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased, selectinload

from . import policy, queries
from .clocks import SHANGHAI
from .enums import Category, PartyRole, Role
from .models import SUBSTRING_INDEXES, Area, Case, Enterprise, GroupMember, Party, User
from .planning import without_parallel_workers
from .queries import CaseRow
from .textkeys import digits, id_number_key, name_key, text_key
from .validation import mask_id_number, mask_phone
from .workflow import Definition, Registry

#: Rows on one page of the ledger, and the most one page may ask for.
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
#: The most rows one export holds (a larger ledger is narrowed by its filters first).
EXPORT_LIMIT = 20_000
#: How the ledger may be sorted: the columns of each order (the case id breaks ties).
SORTS: dict[str, tuple[InstrumentedAttribute[Any], ...]] = {
    "filed": (Case.filed_at,),
    "updated": (Case.updated_at,),
    "number": (Case.number_year, Case.number_seq),
    "party": (Case.party_key,),
}
#: Where a search looks: everywhere, or only in one kind of field.
SEARCH_IN = ("all", "party", "id_number", "phone", "number", "text")
#: Fewest digits of a phone or ID-number search (fewer would match nearly everything).
MIN_DIGITS = 4
#: Fewest characters of a key the substring indexes serve: they index trigrams (``pg_trgm``
#: on PostgreSQL, FTS5's trigram tokenizer on SQLite); a shorter key is checked row by row.
INDEXED_LENGTH = 3
#: Most cases the ledger counts, and a search lists by id; past it the ledger says "more than".
COUNT_LIMIT = 1000
_ID_PART = re.compile(r"^[0-9X]+$")
#: Characters of a stored ID number (``validation.clean_id_number`` keeps only 18-character ones).
ID_NUMBER_LENGTH = 18
#: What a typed phone number may hold besides digits.
_PHONE = re.compile(r"^[0-9\s()+\-]+$")


@dataclass(frozen=True)
class LedgerFilters:
    """What the ledger is narrowed to and how it is ordered; ``None`` means "any".

    ``filed_from`` and ``filed_to`` are days in Asia/Shanghai, both included. ``mediator_id``
    is the user the case is assigned to; ``unassigned`` asks for cases with no mediator.
    ``q`` is searched in ``search_in`` (one of ``SEARCH_IN``); ``sort`` is a key of ``SORTS``.
    """

    state: str | None = None
    tier: int | None = None
    workflow: str | None = None
    category: str | None = None
    enterprise_id: int | None = None
    area_id: int | None = None
    mediator_id: int | None = None
    unassigned: bool = False
    filed_from: date | None = None
    filed_to: date | None = None
    q: str | None = None
    search_in: str = "all"
    sort: str = "filed"
    descending: bool = True


def start_of_day(day: date) -> datetime:
    """The instant (UTC) a day in Asia/Shanghai begins."""
    return datetime.combine(day, time(), SHANGHAI).astimezone(UTC)


# --- search -----------------------------------------------------------------------

@dataclass(frozen=True)
class Needle:
    """One column searched for one key: the rows whose value contains ``key`` (LIKE wildcards
    in it are searched for, not obeyed)."""

    column: InstrumentedAttribute[Any]
    key: str
    #: The key is a whole value of the column (an 18-character ID number in a column of
    #: 18): containing it is being it, so the column's B-tree index finds it by equality.
    whole: bool = False

    @property
    def indexed(self) -> bool:
        """True when an index serves this key: a whole value, or one long enough for the substring index."""
        return self.whole or len(self.key) >= INDEXED_LENGTH

    def condition(self, column: ColumnElement[Any] | None = None) -> ColumnElement[bool]:
        """``column`` (default: the needle's own) LIKE ``%key%``, or ``= key`` for a whole value."""
        target = self.column if column is None else column
        return target == self.key if self.whole else target.contains(self.key, autoescape=True)


@dataclass(frozen=True)
class Search:
    """What one search looks for: needles in the case's own columns, in its parties' and in
    the members of its group parties'. No needle at all: the search can match nothing."""

    cases: tuple[Needle, ...] = ()
    parties: tuple[Needle, ...] = ()
    members: tuple[Needle, ...] = ()

    @property
    def needles(self) -> tuple[Needle, ...]:
        """Every needle, the case's own first."""
        return (*self.cases, *self.parties, *self.members)

    def clause(self) -> ColumnElement[bool]:
        """The search as a condition on one case row: what walking the ledger's order checks."""
        clauses = [n.condition() for n in self.cases]
        if self.parties:
            clauses.append(exists().where(Party.case_id == Case.id, or_(*(n.condition() for n in self.parties))))
        if self.members:
            clauses.append(exists().where(Party.case_id == Case.id, GroupMember.party_id == Party.id,
                                          or_(*(n.condition() for n in self.members))))
        return or_(*clauses) if clauses else false()

    def matches(self, dialect: str) -> Select[int] | None:
        """SELECT of the ids of the cases the search matches (a case may come more than once),
        read through the substring indexes; ``None`` when a key is too short for them.

        PostgreSQL's ``pg_trgm`` GIN indexes serve ``LIKE '%key%'`` on the column itself;
        on SQLite the column's FTS5 trigram table (``models.SUBSTRING_INDEXES``) finds the
        candidates and the same LIKE decides, so both databases give the same rows.
        """
        if not self.needles or not all(n.indexed for n in self.needles):
            return None
        case, party, member = aliased(Case), aliased(Party), aliased(GroupMember)
        selects: list[Select[int]] = []
        for n in self.cases:
            stmt = select(case.id.label("case_id")).where(n.condition(getattr(case, n.column.key)))
            selects.append(_through_index(stmt, dialect, case, n))
        for n in self.parties:
            stmt = select(party.case_id.label("case_id")).where(n.condition(getattr(party, n.column.key)))
            selects.append(_through_index(stmt, dialect, party, n))
        for n in self.members:
            stmt = (select(party.case_id.label("case_id")).join(member, member.party_id == party.id)
                    .where(n.condition(getattr(member, n.column.key))))
            selects.append(_through_index(stmt, dialect, member, n))
        return select(union_all(*selects).subquery().c.case_id)


def _through_index(stmt: Select[int], dialect: str, owner: Any, needle: Needle) -> Select[int]:
    """``stmt`` driven by the needle's substring index on SQLite (a join to its FTS5 table);
    as it is elsewhere (PostgreSQL's trigram index serves the LIKE itself)."""
    if dialect != "sqlite" or needle.whole:
        return stmt
    name = SUBSTRING_INDEXES[needle.column.class_.__tablename__]
    fts = table(name, column("rowid"))
    quoted = needle.key.replace('"', '""')
    phrase = f'{needle.column.key} : "{quoted}"'
    return stmt.join(fts, fts.c.rowid == owner.id).where(literal_column(name).op("MATCH")(literal(phrase)))


def _number_variants(needle: str) -> set[str]:
    """A case number as typed and with brackets in both widths (case numbers use ``（）``)."""
    plain = unicodedata.normalize("NFKC", needle)
    return {needle, plain, plain.replace("(", "（").replace(")", "）")}


def search_for(user: User, q: str | None, search_in: str = "all") -> Search | None:
    """What a search for ``q`` in ``search_in`` looks for (``None``: there is nothing to search for)."""
    needle = (q or "").strip()
    if not needle:
        return None
    where = search_in if search_in in SEARCH_IN else "all"
    particulars = policy.can(user, "search_particulars")
    cases: list[Needle] = []
    parties: list[Needle] = []
    members: list[Needle] = []
    if where in ("all", "party"):
        key = name_key(needle)
        if key:
            parties.append(Needle(Party.name_key, key))
            members.extend(Needle(GroupMember.name, r) for r in sorted({needle, unicodedata.normalize("NFKC", needle)}))
    if where in ("all", "number"):
        cases.extend(Needle(Case.number, v) for v in sorted(_number_variants(needle)))
    if where in ("all", "text"):
        key = text_key(needle)
        if key:
            cases.append(Needle(Case.search_key, key))
    if where in ("all", "id_number") and particulars:
        key = id_number_key(needle)
        if len(key) >= MIN_DIGITS and _ID_PART.match(key):
            whole = len(key) == ID_NUMBER_LENGTH
            parties.append(Needle(Party.id_number, key, whole))
            members.append(Needle(GroupMember.id_number, key, whole))
    if where in ("all", "phone") and particulars:
        number = digits(needle)
        if len(number) >= MIN_DIGITS and _PHONE.match(unicodedata.normalize("NFKC", needle)):
            parties.append(Needle(Party.phone, number))
            members.append(Needle(GroupMember.phone, number))
    return Search(tuple(cases), tuple(parties), tuple(members))


def search_clause(user: User, q: str | None, search_in: str = "all") -> ColumnElement[bool] | None:
    """The WHERE clause of a search for ``q``, row by row (``None`` when there is nothing to search for)."""
    search = search_for(user, q, search_in)
    return search.clause() if search is not None else None


def filter_clause(user: User, filters: LedgerFilters) -> list[ColumnElement[bool]]:
    """The WHERE conditions of ``filters`` but their search (``search_for``), and not the policy's."""
    f = filters
    out: list[ColumnElement[bool]] = []
    if f.state:
        out.append(Case.state == f.state)
    if f.tier is not None:
        out.append(Case.tier == f.tier)
    if f.workflow:
        out.append(Case.workflow == f.workflow)
    if f.category:
        try:
            out.append(Case.category == Category(f.category))
        except ValueError:
            out.append(false())
    if f.enterprise_id is not None:
        out.append(Case.enterprise_id == f.enterprise_id)
    if f.area_id is not None:
        out.append(Case.area_id == f.area_id)
    if f.unassigned:
        out.append(Case.assigned_to_id.is_(None))
    elif f.mediator_id is not None:
        out.append(Case.assigned_to_id == f.mediator_id)
    if f.filed_from is not None:
        out.append(Case.filed_at >= start_of_day(f.filed_from))
    if f.filed_to is not None:
        out.append(Case.filed_at < start_of_day(f.filed_to + timedelta(days=1)))
    return out


def sort_columns(filters: LedgerFilters) -> tuple[InstrumentedAttribute[Any], ...]:
    """The columns the ledger is ordered by, the case id last."""
    return (*SORTS.get(filters.sort, SORTS["filed"]), Case.id)


def _searched(session: Session, search: Search) -> ColumnElement[bool]:
    """The search's condition in the ledger.

    When indexes serve every key, the matching cases are read through them first, up to
    ``COUNT_LIMIT`` + 1 matching rows, whoever may see them: as many as that or fewer, the
    ledger is those ids (the policy and the filters then keep the user's), looked up by
    primary key however large the ledger. More, and the search is common enough that
    walking the ledger's order row by row fills a page soon. (The probe is not joined to
    the cases: SQLite's planner would then drive it from the station's cases, row by row.)
    """
    matches = search.matches(session.get_bind().dialect.name)
    if matches is None:
        return search.clause()
    with without_parallel_workers(session):
        found = list(session.scalars(matches.limit(COUNT_LIMIT + 1)))
    if len(found) > COUNT_LIMIT:
        return search.clause()
    return Case.id.in_(sorted(set(found))) if found else false()


def ledger_query(
    session: Session, user: User, filters: LedgerFilters, definitions: Iterable[Definition] | None = None
) -> Select[Case]:
    """SELECT of the cases ``user`` may see that match ``filters``, in the filters' order.

    ``session`` is the one the statement will run in: a search whose keys the substring
    indexes serve is looked up in it first (``_searched``). ``definitions`` are the
    workflow definitions (default: the shipped ones), which say which workflows a
    volunteer mediator takes part in.
    """
    columns = sort_columns(filters)
    order = [c.desc() for c in columns] if filters.descending else [c.asc() for c in columns]
    where = [policy.visible_clause(user, definitions), *filter_clause(user, filters)]
    search = search_for(user, filters.q, filters.search_in)
    if search is not None:
        where.append(_searched(session, search))
    return select(Case).where(*where).order_by(*order)


# --- pages ----------------------------------------------------------------------

@dataclass(frozen=True)
class LedgerPage:
    """One page of the ledger: its rows, how many cases match (at most ``COUNT_LIMIT``;
    ``total_capped`` says more do), where the page starts (from 1), and the cursors of the
    next and the previous page (``None``: there is none)."""

    rows: list[CaseRow]
    total: int
    start: int
    next_cursor: str | None
    prev_cursor: str | None
    per_page: int
    total_capped: bool = False


def _sort_values(case: Case, filters: LedgerFilters) -> list[Any]:
    return [getattr(case, c.key) for c in sort_columns(filters)]


def encode_cursor(case: Case, filters: LedgerFilters, position: int | None = None) -> str:
    """An opaque cursor pointing at ``case`` in the order of ``filters``; ``position`` (from 1)
    is where the case stands in the ledger, for the next page to say where it starts."""
    values = [v.isoformat() if isinstance(v, datetime) else v for v in _sort_values(case, filters)]
    parts: list[Any] = [filters.sort, values] + ([position] if position is not None else [])
    raw = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def _cursor_parts(cursor: str) -> list[Any] | None:
    """``[sort, values]`` or ``[sort, values, position]`` of a cursor, or ``None``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
        parts = json.loads(raw)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return None
    return parts if isinstance(parts, list) and len(parts) in (2, 3) else None


def decode_cursor(cursor: str, filters: LedgerFilters) -> list[Any] | None:
    """The sort values a cursor holds, or ``None`` when it is not a cursor of this order."""
    parts = _cursor_parts(cursor)
    if parts is None:
        return None
    sort, values = parts[0], parts[1]
    columns = sort_columns(filters)
    if sort != filters.sort or not isinstance(values, list) or len(values) != len(columns):
        return None
    # A TypeDecorator (UTCDateTime) says ``object``; the type it decorates says ``datetime``.
    out = [_cursor_value(getattr(c.type, "impl", c.type).python_type, v) for c, v in zip(columns, values, strict=True)]
    if any(v is None for v in out):
        return None
    return out


def cursor_position(cursor: str) -> int | None:
    """Where the case a cursor points at stands in the ledger (from 1), if the cursor says."""
    parts = _cursor_parts(cursor)
    position = parts[2] if parts is not None and len(parts) == 3 else None
    return position if isinstance(position, int) and not isinstance(position, bool) and position >= 1 else None


def _cursor_value(python_type: type, value: Any) -> Any:
    """A cursor's JSON value as the column's Python value, or ``None`` when it is not one."""
    if python_type is datetime:
        try:
            parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            return None
        return parsed if parsed is not None and parsed.tzinfo is not None else None
    return value if isinstance(value, python_type) and not isinstance(value, bool) else None


def _beyond(filters: LedgerFilters, values: Sequence[Any], forward: bool) -> ColumnElement[bool]:
    """Rows after (``forward``) or before the row with these sort values, in the filters' order."""
    columns = sort_columns(filters)
    left = tuple_(*columns)
    right = tuple_(*(literal(v, c.type) for c, v in zip(columns, values, strict=True)))
    later = left < right if filters.descending else left > right
    earlier = left > right if filters.descending else left < right
    return later if forward else earlier


def count_capped(session: Session, stmt: Select[Any], limit: int | None = None) -> tuple[int, bool]:
    """How many rows ``stmt`` selects, counting no further than ``limit`` (default ``COUNT_LIMIT``):
    ``(count, capped)``, ``capped`` when more match (the count is then ``limit``)."""
    limit = COUNT_LIMIT if limit is None else limit
    counted = stmt.order_by(None).with_only_columns(literal(1), maintain_column_froms=True).limit(limit + 1).subquery()
    n = int(session.scalar(select(func.count()).select_from(counted)) or 0)
    return min(n, limit), n > limit


def ledger_page(
    session: Session,
    registry: Registry,
    user: User,
    filters: LedgerFilters,
    now: datetime,
    *,
    after: str | None = None,
    before: str | None = None,
    per_page: int = PAGE_SIZE,
) -> LedgerPage:
    """The page of the ledger after the cursor ``after`` (or before ``before``; else the first).

    Counting stops at ``COUNT_LIMIT`` (``LedgerPage.total_capped``), so a page costs the
    same in a ledger of ten thousand cases or of a million.
    """
    per_page = min(max(1, per_page), MAX_PAGE_SIZE)
    definitions = list(registry)
    base = ledger_query(session, user, filters, definitions)
    total, capped = count_capped(session, base)
    cursor_after = decode_cursor(after, filters) if after else None
    cursor_before = decode_cursor(before, filters) if before and cursor_after is None else None
    stmt = base
    if cursor_after is not None:
        stmt = base.where(_beyond(filters, cursor_after, forward=True))
    elif cursor_before is not None:
        columns = sort_columns(filters)
        reverse = [c.asc() for c in columns] if filters.descending else [c.desc() for c in columns]
        stmt = base.where(_beyond(filters, cursor_before, forward=False)).order_by(None).order_by(*reverse)
    cases = list(session.scalars(stmt.options(*queries.row_options()).limit(per_page + 1)))
    more = len(cases) > per_page
    cases = cases[:per_page]
    if cursor_before is not None:
        cases.reverse()
        has_prev, has_next = more, True
    else:
        has_prev, has_next = cursor_after is not None, more
    start = 1
    if cases and (cursor_after is not None or cursor_before is not None):
        # The rows ahead are counted (cases filed since the last page move this one down);
        # past COUNT_LIMIT of them, where the cursor said its row stood is taken instead.
        ahead, deep = count_capped(session, base.where(_beyond(filters, _sort_values(cases[0], filters), False)))
        known = cursor_position((after if cursor_after is not None else before) or "") if deep else None
        if known is not None:
            start = known + 1 if cursor_after is not None else max(1, known - len(cases))
        else:
            start = 1 + ahead
    rows = queries.case_rows(session, registry, user, cases, now)
    return LedgerPage(
        rows=rows,
        total=total,
        start=start,
        next_cursor=encode_cursor(cases[-1], filters, start + len(cases) - 1) if cases and has_next else None,
        prev_cursor=encode_cursor(cases[0], filters, start) if cases and has_prev else None,
        per_page=per_page,
        total_capped=capped,
    )


# --- choices of the filters --------------------------------------------------------

@dataclass(frozen=True)
class FilterChoices:
    """What the ledger's filters offer the user: ``(id, name)`` pairs by name."""

    enterprises: list[tuple[int, str]]
    areas: list[tuple[int, str]]
    mediators: list[tuple[int, str]]


def mediating_roles(registry: Registry) -> frozenset[Role]:
    """Roles a case may be assigned to: the tiers' leads, the station chief, township officers."""
    leads = {Role(t.lead) for d in registry for t in d.tiers.values()}
    return frozenset(leads | {Role.STATION_CHIEF, Role.TOWNSHIP_OFFICER})


def filter_choices(session: Session, registry: Registry, user: User) -> FilterChoices:
    """The enterprises, areas and mediators of the user's organisation (an enterprise-bound
    user is offered only their own enterprise, and of the enterprises' department heads only
    their own enterprise's)."""
    org = user.organisation_id
    enterprise_stmt = select(Enterprise.id, Enterprise.name).where(Enterprise.organisation_id == org)
    if user.role in policy.ENTERPRISE_BOUND:
        enterprise_stmt = enterprise_stmt.where(Enterprise.id == user.enterprise_id)
    enterprises = [(r[0], r[1]) for r in session.execute(enterprise_stmt.order_by(Enterprise.name))]
    areas = [
        (r[0], r[1])
        for r in session.execute(select(Area.id, Area.name).where(Area.organisation_id == org).order_by(Area.name))
    ]
    roles = sorted(mediating_roles(registry))
    mediator_stmt = select(User.id, User.display_name).where(User.organisation_id == org, User.role.in_(roles))
    if user.role in policy.ENTERPRISE_BOUND:  # the station's mediators and their own enterprise's heads only
        mediator_stmt = mediator_stmt.where(
            or_(User.role.not_in(policy.ENTERPRISE_BOUND), User.enterprise_id == user.enterprise_id))
    mediators = [(r[0], r[1]) for r in session.execute(mediator_stmt.order_by(User.display_name, User.id))]
    return FilterChoices(enterprises, areas, mediators)


# --- export -------------------------------------------------------------------------

@dataclass(frozen=True)
class ExportParty:
    """A party in an export; ID number and phone masked unless the user may see them whole."""

    role: str
    name: str
    id_number: str
    phone: str


@dataclass(frozen=True)
class ExportRow:
    """One case of an export: its list row and what the ledger list does not show."""

    row: CaseRow
    severity: str | None
    filed_via: str
    accepted_at: datetime | None
    closed_at: datetime | None
    amount_claimed: Decimal | None
    particulars_whole: bool
    parties: list[ExportParty] = field(default_factory=list)

    def names(self, role: str) -> str:
        """The names of the parties of one standing, ``、``-joined."""
        return "、".join(p.name for p in self.parties if p.role == role)

    def particulars(self, role: str, attribute: str) -> str:
        """The ID numbers or phones of the parties of one standing (masked as the row says)."""
        return "、".join(v for p in self.parties if p.role == role and (v := getattr(p, attribute)))


def export_rows(
    session: Session,
    registry: Registry,
    user: User,
    filters: LedgerFilters,
    now: datetime,
    *,
    limit: int = EXPORT_LIMIT,
    batch: int = MAX_PAGE_SIZE,
) -> Iterator[ExportRow]:
    """The filtered ledger as export rows, in its order, read a page at a time (at most ``limit``).

    ID numbers and phones are whole only where ``policy.can(user, "view_particulars", case)``
    (PIPL arts. 28–30, DOMAIN R36).
    """
    definitions = list(registry)
    base = ledger_query(session, user, filters, definitions).options(
        *queries.row_options(), selectinload(Case.parties)
    )
    cursor: list[Any] | None = None
    done = 0
    while done < limit:
        stmt = base if cursor is None else base.where(_beyond(filters, cursor, forward=True))
        cases = list(session.scalars(stmt.limit(min(batch, limit - done))))
        if not cases:
            return
        rows = {r.id: r for r in queries.case_rows(session, registry, user, cases, now)}
        for case in cases:
            row = rows.get(case.id)
            if row is None:
                continue
            definition = registry.get(case.workflow, case.workflow_version)
            whole = policy.can(user, "view_particulars", case, definition)
            yield ExportRow(
                row=row,
                severity=case.severity.value if case.severity else None,
                filed_via=case.filed_via.value,
                accepted_at=case.accepted_at,
                closed_at=case.closed_at,
                amount_claimed=case.amount_claimed,
                particulars_whole=whole,
                parties=[
                    ExportParty(
                        role=p.role.value,
                        name=p.name,
                        id_number=(p.id_number or "") if whole else mask_id_number(p.id_number),
                        phone=(p.phone or "") if whole else mask_phone(p.phone),
                    )
                    for p in case.parties
                ],
            )
        done += len(cases)
        cursor = _sort_values(cases[-1], filters)
        for case in cases:  # keep memory flat over a long export (the parties go with their case)
            for clock in case.clocks:
                session.expunge(clock)
            session.expunge(case)


#: The standings of parties an export lists, in order.
EXPORT_STANDINGS = (PartyRole.APPLICANT.value, PartyRole.RESPONDENT.value, PartyRole.THIRD_PARTY.value)
