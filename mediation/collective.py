"""Collective disputes (集体劳动争议, DOMAIN R15): a group party's workers and their terms.

Ten or more workers with a common claim may elect representatives (Labour Dispute
Mediation and Arbitration Law, Art. 7): the case has one group party whose
representative signs for it, and each worker is a ``GroupMember`` with name, ID number
(GB 11643-1999, DOMAIN R34), mobile and amount claimed (CNY). The list is entered on a
form or imported from an XLSX sheet; nothing is saved when any row is wrong. The
agreement may give each worker a term of their own (``draft_agreement`` terms with a
``member``), whose performance is recorded per worker (``record_performance``).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import object_session

from .enums import PartyKind
from .errors import ValidationError
from .i18n import N_
from .models import Case, GroupMember, Obligation, Party
from .validation import clean_id_number, clean_mobile, mask_id_number, mask_phone

if TYPE_CHECKING:
    from .actions import Context

#: The content type of an XLSX sheet.
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: The most workers one group party may list.
MAX_MEMBERS = 2000
#: The fields of a worker, in the order a sheet or a form gives them.
MEMBER_FIELDS = ("name", "id_number", "phone", "amount_claimed")
#: Column headings an imported sheet may use for each field (compared folded: no spaces,
#: lower case, without a unit in brackets such as （元）).
HEADINGS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "工人姓名", "职工姓名", "名字", "name"),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "身份证", "idnumber", "id_number", "idno"),
    "phone": ("手机", "手机号", "手机号码", "电话", "联系电话", "phone", "mobile", "mobilephone"),
    "amount_claimed": (
        "金额", "请求金额", "欠薪金额", "拖欠工资", "工资", "应付金额", "amount", "amountclaimed", "amount_claimed",
    ),
}
#: The headings of the template sheet (``template_xlsx``), in field order.
TEMPLATE_HEADINGS = ("姓名", "身份证号码", "手机号码", "请求金额（元）")


@dataclass(frozen=True)
class Problem:
    """One wrong cell or row of an import: sheet row (from 1), field (``None``: the whole row or sheet), msgid."""

    row: int
    field: str | None
    message: str


class ImportProblems(Exception):
    """An imported sheet has wrong rows; nothing was saved. ``problems`` lists them in sheet order."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the sheet")
        self.problems = list(problems)


# --- checking one worker --------------------------------------------------------------

def clean_member(raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """One worker's cleaned fields and the errors by field (msgids); amount in CNY as text.

    The name and a valid ID number are required (R22 needs them for arbitration); the
    mobile and the amount are optional.
    """
    from .actions import parse_amount  # actions imports this module

    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    name = raw.get("name")
    name = name.strip() if isinstance(name, str) else (str(name).strip() if name is not None else "")
    if not name:
        errors["name"] = N_("This field is required.")
    elif len(name) > 120:
        errors["name"] = N_("Too long.")
    out["name"] = name
    id_raw = raw.get("id_number")
    id_text = _cell_text(id_raw)
    if isinstance(id_raw, float):
        errors["id_number"] = N_("The ID number was stored as a number and lost digits: format the column as text.")
    elif not id_text:
        errors["id_number"] = N_("This field is required.")
    else:
        try:
            out["id_number"] = clean_id_number(id_text)
        except ValueError as exc:
            errors["id_number"] = str(exc)
    phone = _cell_text(raw.get("phone"))
    out["phone"] = None
    if phone:
        try:
            out["phone"] = clean_mobile(phone)
        except ValueError as exc:
            errors["phone"] = str(exc)
    try:
        amount = parse_amount(raw.get("amount_claimed"))
        out["amount_claimed"] = str(amount) if amount is not None else None
    except ValueError as exc:
        errors["amount_claimed"] = str(exc)
    return out, errors


def _cell_text(value: Any) -> str:
    """A cell or form value as text; a whole number stays without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def clean_members(rows: Iterable[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], dict[int, dict[str, str]]]:
    """Cleaned workers and the errors per row (1-based index among ``rows``); the same ID twice is an error."""
    cleaned: list[dict[str, Any]] = []
    errors: dict[int, dict[str, str]] = {}
    seen: dict[str, int] = {}
    for i, raw in enumerate(rows, start=1):
        member, sub = clean_member(raw)
        number = member.get("id_number")
        if number and "id_number" not in sub:
            if number in seen:
                sub["id_number"] = N_("The same ID number is already on the list.")
            seen.setdefault(number, i)
        if sub:
            errors[i] = sub
        cleaned.append(member)
    return cleaned, errors


# --- the record_group_members trigger -------------------------------------------------

def _group_party(case: Case, ref: Any) -> Party | None:
    return next((p for p in case.parties if p.ref == ref and p.kind is PartyKind.GROUP), None)


def validate_members(case: Case, data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """``record_group_members``: ``party`` (a group party's ref), ``members`` (rows of name,
    id_number, phone, amount_claimed), optional ``representative`` and ``source``; errors
    keyed ``members.<row>.<field>``."""
    ref = data.get("party")
    if _group_party(case, ref) is None:
        errors["party"] = N_("Choose a group party of this case.")
    raw = data.get("members")
    if not isinstance(raw, list) or not all(isinstance(r, Mapping) for r in raw):
        errors["members"] = N_("List the workers of the group.")
        raw = []
    if len(raw) > MAX_MEMBERS:
        errors["members"] = N_("A group lists at most 2,000 workers.")
        raw = raw[:MAX_MEMBERS]
    members, row_errors = clean_members(raw)
    for row, sub in row_errors.items():
        for key, message in sub.items():
            errors[f"members.{row}.{key}"] = message
    if "members" not in errors and len(members) < 2:
        errors["members"] = N_("A group has at least two people.")
    out: dict[str, Any] = {"party": ref, "members": members}
    representative = data.get("representative")
    if isinstance(representative, str) and representative.strip():
        if len(representative.strip()) > 120:
            errors["representative"] = N_("Too long.")
        out["representative"] = representative.strip()
    source = data.get("source")
    if isinstance(source, str) and source.strip():
        out["source"] = source.strip()[:255]
    return out


def apply_members(ctx: Context) -> None:
    """Make the group's list the one given: workers matched by ID number are updated, new
    ones added, missing ones removed (refused for a worker an agreed term names). The
    event keeps the count and the total claimed, not the workers' particulars (PIPL,
    DOMAIN R36)."""
    case = ctx.case
    party = _group_party(case, ctx.data["party"])
    db = object_session(case)
    if party is None or db is None:  # the validator checked the party
        raise ValidationError({"party": N_("Choose a group party of this case.")})
    wanted: list[dict[str, Any]] = ctx.data.pop("members")
    existing = {m.id_number: m for m in party.members}
    keep = {m["id_number"] for m in wanted}
    removed = [m for number, m in existing.items() if number not in keep]
    if removed:
        named = set(db.scalars(select(Obligation.member_id).where(Obligation.member_id.in_([m.id for m in removed]))))
        if named:
            raise ValidationError({"members": N_("A worker named in an agreed term cannot be taken off the list.")})
    for member in party.members:  # free the positions first: the list may be reordered
        member.position = -member.id
    db.flush()
    for member in removed:
        party.members.remove(member)
    db.flush()
    total = Decimal("0.00")
    any_amount = False
    for position, row in enumerate(wanted, start=1):
        found = existing.get(row["id_number"])
        if found is None:
            member = GroupMember(id_number=row["id_number"], position=position, name=row["name"])
            party.members.append(member)
        else:
            member = found
        member.position = position
        member.name = row["name"]
        member.phone = row["phone"]
        member.amount_claimed = Decimal(row["amount_claimed"]) if row["amount_claimed"] is not None else None
        if member.amount_claimed is not None:
            total += member.amount_claimed
            any_amount = True
    party.size = len(wanted)
    ctx.data["group"] = party.name
    if ctx.data.get("representative"):
        party.representative = ctx.data["representative"]
    ctx.data["count"] = len(wanted)
    if any_amount:
        ctx.data["total_claimed"] = str(total)


# --- importing a sheet ----------------------------------------------------------------

def _fold(heading: Any) -> str:
    text = _cell_text(heading).lower()
    for bracket in ("（", "("):
        if bracket in text:
            text = text.split(bracket, 1)[0]
    return "".join(text.split()).replace("_", "").replace("-", "")


_FOLDED = {field_: {_fold(h) for h in headings} for field_, headings in HEADINGS.items()}


def read_members_xlsx(data: bytes) -> list[dict[str, Any]]:
    """The workers of the first sheet of an XLSX file, checked; raises ``ImportProblems``.

    The first non-empty row holds the headings (姓名, 身份证号码, 手机号码, 请求金额 … or
    their English names); empty rows are skipped. Every problem of the sheet is reported,
    by sheet row and column, and nothing is returned unless there is none.
    """
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportProblems([Problem(0, None, N_("This is not an Excel (XLSX) file."))]) from exc
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise ImportProblems([Problem(0, None, N_("The file has no sheet."))])
        columns: dict[str, int] | None = None
        heading_row = 0
        rows: list[tuple[int, dict[str, Any]]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            if columns is None:
                columns = {}
                for index, heading in enumerate(values):
                    folded = _fold(heading)
                    for field_, names in _FOLDED.items():
                        if folded in names and field_ not in columns:
                            columns[field_] = index
                heading_row = number
                continue
            rows.append((number, {f: values[i] if i < len(values) else None for f, i in columns.items()}))
            if len(rows) > MAX_MEMBERS:
                raise ImportProblems([Problem(number, None, N_("A group lists at most 2,000 workers."))])
    finally:
        book.close()
    if columns is None:
        raise ImportProblems([Problem(0, None, N_("The sheet is empty."))])
    missing = [f for f in ("name", "id_number") if f not in columns]
    if missing:
        raise ImportProblems(
            [Problem(heading_row, f, N_("The sheet has no column with this heading.")) for f in missing]
        )
    if not rows:
        raise ImportProblems([Problem(heading_row, None, N_("The sheet lists no worker."))])
    members, errors = clean_members(r for _n, r in rows)
    problems = [
        Problem(rows[i - 1][0], key, message)
        for i, sub in sorted(errors.items())
        for key, message in sub.items()
    ]
    if problems:
        raise ImportProblems(problems)
    return members


def template_xlsx() -> bytes:
    """An XLSX sheet to fill in: the headings and the ID column formatted as text."""
    import openpyxl
    from openpyxl.styles import Font

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "集体成员"
    sheet.append(list(TEMPLATE_HEADINGS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCD", (14, 24, 16, 16), strict=True):
        sheet.column_dimensions[column].width = width
        for row in range(2, 202):
            if column in "BC":
                sheet[f"{column}{row}"].number_format = "@"  # text: an 18-digit number would lose digits
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- the per-worker schedule ----------------------------------------------------------

def payment_terms(
    case: Case,
    party_ref: str,
    obligor_ref: str,
    what: str,
    default_due: date | None,
    rows: Mapping[int, tuple[Decimal | None, date | None]],
) -> list[dict[str, Any]]:
    """``draft_agreement`` terms, one per worker of group ``party_ref``: ``obligor_ref`` pays
    the worker ``what`` (e.g. 2025年10月至12月工资), the amount (CNY) and due date of ``rows``
    by worker position (missing: the amount claimed and ``default_due``). Terms of the
    current agreement that name no worker follow, unchanged."""
    party = _group_party(case, party_ref)
    if party is None:
        raise ValidationError({"party": N_("Choose a group party of this case.")})
    terms: list[dict[str, Any]] = []
    for member in party.members:
        amount, due = rows.get(member.position, (None, None))
        amount = amount if amount is not None else member.amount_claimed
        due = due or default_due
        terms.append({
            "obligor": obligor_ref,
            "obligee": party.ref,
            "member": member.position,
            "text": f"向{member.name}支付{what}".strip(),
            "amount": str(amount) if amount is not None else None,
            "due_on": due.isoformat() if due else None,
        })
    current = case.current_agreement
    for ob in current.obligations if current is not None else ():
        if ob.member_id is None:
            terms.append({
                "obligor": ob.obligor.ref if ob.obligor else None,
                "obligee": ob.obligee.ref if ob.obligee else None,
                "text": ob.text,
                "amount": str(ob.amount) if ob.amount is not None else None,
                "due_on": ob.due_on.isoformat() if ob.due_on else None,
            })
    return terms


# --- reading ---------------------------------------------------------------------------

@dataclass(frozen=True)
class MemberTerm:
    """A worker's agreed term and where it stands (pending, performed, breached, overdue)."""

    seq: int
    text: str
    amount: Decimal | None
    due_on: date | None
    status: str


@dataclass(frozen=True)
class MemberView:
    """A worker as a screen shows them; ID number and phone masked unless the viewer may see them."""

    position: int
    name: str
    id_number: str
    phone: str
    amount_claimed: Decimal | None
    terms: list[MemberTerm] = field(default_factory=list)


@dataclass(frozen=True)
class GroupView:
    """A group party with its workers, totals and representative."""

    party_id: int
    ref: str
    name: str
    size: int
    representative: str | None
    members: list[MemberView]
    total_claimed: Decimal
    total_agreed: Decimal
    total_performed: Decimal


def term_status(ob: Obligation, today: date) -> str:
    """pending, performed, breached or overdue (due date passed, Asia/Shanghai ``today``)."""
    if ob.performed_at is not None:
        return "performed"
    if ob.breached_at is not None:
        return "breached"
    if ob.due_on is not None and ob.due_on < today:
        return "overdue"
    return "pending"


def group_parties(case: Case) -> list[Party]:
    """The case's group parties, in party order."""
    return [p for p in case.parties if p.kind is PartyKind.GROUP]


def group_view(case: Case, ref: str, whole: bool, today: date) -> GroupView:
    """Group party ``ref`` of ``case`` with its workers and their terms in the current
    agreement; ``whole`` shows ID numbers and phones unmasked. Raises ``KeyError`` if there is no such group."""
    party = _group_party(case, ref)
    if party is None:
        raise KeyError(ref)
    by_member: dict[int, list[Obligation]] = {}
    agreement = case.current_agreement
    for ob in agreement.obligations if agreement is not None else ():
        if ob.member_id is not None:
            by_member.setdefault(ob.member_id, []).append(ob)
    members = []
    claimed = agreed = performed = Decimal("0.00")
    for m in party.members:
        terms = [
            MemberTerm(ob.seq, ob.text, ob.amount, ob.due_on, term_status(ob, today))
            for ob in by_member.get(m.id, [])
        ]
        claimed += m.amount_claimed or 0
        agreed += sum((t.amount or Decimal(0) for t in terms), Decimal("0.00"))
        performed += sum((t.amount or Decimal(0) for t in terms if t.status == "performed"), Decimal("0.00"))
        members.append(MemberView(
            position=m.position, name=m.name,
            id_number=m.id_number if whole else mask_id_number(m.id_number),
            phone=(m.phone or "") if whole else mask_phone(m.phone),
            amount_claimed=m.amount_claimed, terms=terms,
        ))
    return GroupView(
        party_id=party.id, ref=party.ref, name=party.name, size=party.size, representative=party.representative,
        members=members, total_claimed=claimed, total_agreed=agreed, total_performed=performed,
    )
