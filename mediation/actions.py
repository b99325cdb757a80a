"""What each trigger's data must be, and what the trigger does to the case's records.

The vocabulary of triggers is the domain's (DESIGN.md §3), shared by every workflow;
a definition chooses which of them it uses, in which states, and by whom. A trigger
with no entry here (say a new activity ``record_call`` in a new definition) needs only
the fields its definition ``requires`` and is recorded as an event.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session, object_session

from .clocks import SHANGHAI
from .collective import apply_members, validate_members
from .enums import AgreementKind, AgreementStatus, PartyKind, Referral, SessionMode, SessionStatus, Severity
from .errors import ValidationError
from .i18n import N_
from .models import Agreement, Attachment, Case, GroupMember, MediationSession, Obligation, Party, User
from .workflow import Definition

MAX_TEXT = 20_000
#: A session recorded as held may carry a time this far ahead of the server's clock (clocks drift).
HELD_AT_SLACK = timedelta(minutes=10)
#: File types evidence may have (sniffed from the content, DOMAIN R33): PDF, JPEG, PNG, DOCX, XLSX.
ATTACHMENT_TYPES = frozenset({
    "application/pdf",
    "image/jpeg",
    "image/png",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
})
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_FALSE_WORDS = ("0", "false", "no", "off", "n", "f")


@dataclass
class Context:
    """What an effect works with: the case, who acts, when, and the cleaned data."""

    case: Case
    actor: User | None
    now: datetime
    data: dict[str, Any]
    dest: str
    definition: Definition | None = None


def _text(data: Mapping[str, Any], key: str, errors: dict[str, str], required: bool = True) -> str | None:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[key] = N_("This field is required.")
        return None
    if not isinstance(value, str):
        errors[key] = N_("Must be text.")
        return None
    if len(value) > MAX_TEXT:
        errors[key] = N_("Too long (at most 20,000 characters).")
        return None
    return value.strip()


def _choice(data: Mapping[str, Any], key: str, enum_cls: Any, errors: dict[str, str], required: bool = True) -> Any:
    value = data.get(key)
    if value in (None, ""):
        if required:
            errors[key] = N_("This field is required.")
        return None
    try:
        return enum_cls(getattr(value, "value", value))
    except ValueError:
        errors[key] = N_("Not one of the allowed values.")
        return None


def parse_amount(value: Any) -> Decimal | None:
    """A non-negative CNY amount with at most two places, or ``None``; raises ``ValueError``."""
    if value in (None, ""):
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(N_("Not an amount.")) from exc
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        raise ValueError(N_("An amount is between 0 and 999,999,999,999.99 yuan."))
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(N_("An amount has at most two decimal places."))
    return amount.quantize(Decimal("0.01"))


def parse_date(value: Any) -> date | None:
    """A ``date`` from a date or ISO text ``YYYY-MM-DD``, or ``None``; raises ``ValueError``."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise ValueError(N_("Not a date (YYYY-MM-DD).")) from exc


def parse_local_datetime(value: Any) -> datetime | None:
    """An aware UTC instant from ``YYYY-MM-DDTHH:MM`` (or with a space) in Asia/Shanghai, or an
    aware ``datetime`` (a naive one is taken as Asia/Shanghai); ``None`` for empty; raises ``ValueError``."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        instant = value
    else:
        try:
            instant = datetime.fromisoformat(str(value).strip().replace(" ", "T", 1))
        except ValueError as exc:
            raise ValueError(N_("Not a date and time (YYYY-MM-DD HH:MM).")) from exc
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=SHANGHAI)
    return instant.astimezone(UTC)


def _flag(value: Any) -> bool:
    """A yes/no from a form or from data: ``"false"``, ``"0"``, ``"off"`` … are no."""
    if isinstance(value, str):
        return bool(value.strip()) and value.strip().lower() not in _FALSE_WORDS
    return bool(value)


def _term_number(case: Case, data: Mapping[str, Any], errors: dict[str, str]) -> int | None:
    agreement = case.current_agreement
    raw = data.get("term")
    try:
        term = int(raw) if raw not in (None, "") and not isinstance(raw, bool) else None
    except (TypeError, ValueError):
        term = None
    if term is None:
        errors["term"] = N_("Give the number of the agreed term.")
        return None
    if agreement is None or not any(o.seq == term for o in agreement.obligations):
        errors["term"] = N_("The agreement has no term with this number.")
        return None
    return term


# --- validators: (case, raw data) -> cleaned data, raising ValidationError ---------

def _v_accept(case: Case, data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    severity = _choice(data, "severity", Severity, errors)
    return {"severity": severity.value if severity else None}


def _v_reason_referral(case: Case, data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"reason": _text(data, "reason", errors)}
    referral = _choice(data, "referral", Referral, errors)
    out["referral"] = referral.value if referral else None
    return out


def _v_terms(case: Case, data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    raw_terms = data.get("terms")
    if not isinstance(raw_terms, list) or not raw_terms:
        errors["terms"] = N_("An agreement needs at least one term.")
        return {}
    refs = {p.ref for p in case.parties}
    terms: list[dict[str, Any]] = []
    for i, raw in enumerate(raw_terms, start=1):
        if not isinstance(raw, Mapping):
            errors[f"terms.{i}"] = N_("Must be a term with obligor, obligee and text.")
            continue
        term: dict[str, Any] = {}
        for role in ("obligor", "obligee"):
            ref = raw.get(role)
            if ref not in refs:
                errors[f"terms.{i}.{role}"] = N_("Choose a party of this case.")
            term[role] = ref
        if term.get("obligor") is not None and term.get("obligor") == term.get("obligee"):
            errors[f"terms.{i}.obligee"] = N_("A party cannot owe itself.")
        sub: dict[str, str] = {}
        term["text"] = _text(raw, "text", sub)
        for key, message in sub.items():
            errors[f"terms.{i}.{key}"] = message
        try:
            amount = parse_amount(raw.get("amount"))
            term["amount"] = str(amount) if amount is not None else None
        except ValueError as exc:
            errors[f"terms.{i}.amount"] = str(exc)
        try:
            due = parse_date(raw.get("due_on"))
            term["due_on"] = due.isoformat() if due else None
        except ValueError as exc:
            errors[f"terms.{i}.due_on"] = str(exc)
        if raw.get("member") not in (None, ""):
            member = _term_member(case, term, raw.get("member"))
            if member is None:
                errors[f"terms.{i}.member"] = N_("Choose a worker of the group party this term is owed to or by.")
            else:
                term["member"] = member.position
        terms.append(term)
    return {"terms": terms}


def _group_of(case: Case, term: Mapping[str, Any]) -> Party | None:
    """The group party of a term: its obligee if that is a group, else its obligor if that is."""
    for role in ("obligee", "obligor"):
        ref = term.get(role)
        party = next((p for p in case.parties if p.ref == ref), None)
        if party is not None and party.kind is PartyKind.GROUP:
            return party
    return None


def _term_member(case: Case, term: Mapping[str, Any], raw: Any) -> GroupMember | None:
    """The worker a term names by list position (1, 2 …) among its group party's members (DOMAIN R15)."""
    party = _group_of(case, term)
    try:
        position = int(raw)
    except (TypeError, ValueError):
        return None
    if party is None or isinstance(raw, bool):
        return None
    return next((m for m in party.members if m.position == position), None)


def _v_oral(case: Case, data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"text": _text(data, "text", errors)}
    if data.get("terms"):
        out.update(_v_terms(case, data, errors))
    performed = data.get("performed")
    # unsaid: performed on the spot unless there are terms to perform; a form's "false" is no
    out["performed"] = not out.get("terms") if performed in (None, "") else _flag(performed)
    if not out["performed"] and not out.get("terms") and "terms" not in errors:
        errors["terms"] = N_("What is to be performed later needs at least one term.")
    return out


def _v_term(case: Case, data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    term = _term_number(case, data, errors)
    agreement = case.current_agreement
    if term is not None and agreement is not None:
        ob = next(o for o in agreement.obligations if o.seq == term)
        if ob.performed_at is not None:
            errors["term"] = N_("This term is already recorded as performed.")
    return {"term": term, "note": _text(data, "note", errors, required=False)}


def _v_breach(case: Case, data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    out = _v_term(case, data, errors)
    if not out.get("note"):
        errors.setdefault("note", N_("This field is required."))
    return out


def _participants(
    case: Case, data: Mapping[str, Any], errors: dict[str, str], required: bool = True
) -> list[dict[str, str]]:
    """Parties (by ref) and free-text names (社区干部, 物业公司 …, DOMAIN R4) from a list or a text."""
    raw = data.get("participants")
    if isinstance(raw, str):
        raw = [p for p in (x.strip() for x in raw.replace("，", ",").replace("、", ",").split(",")) if p]
    participants: list[dict[str, str]] = []
    if raw in (None, []) and not required:
        return participants
    if not isinstance(raw, list) or not raw:
        errors["participants"] = N_("Name at least one participant.")
        return participants
    refs = {p.ref for p in case.parties}
    for item in raw:
        if not isinstance(item, str) or not item.strip() or len(item) > 200:
            errors["participants"] = N_("Each participant is a party or a name of at most 200 characters.")
            break
        item = item.strip()
        participants.append({"party": item} if item in refs else {"name": item})
    return participants


def _short(data: Mapping[str, Any], key: str, errors: dict[str, str], limit: int, required: bool = False) -> str | None:
    value = _text(data, key, errors, required=required)
    if value is not None and len(value) > limit:
        errors[key] = N_("Too long.")
        return None
    return value


def _db(case: Case) -> Session | None:
    return object_session(case)


def _scheduled(case: Case, data: Mapping[str, Any], errors: dict[str, str]) -> MediationSession | None:
    """The scheduled session ``data["session_id"]`` names, of this case and still scheduled."""
    raw = data.get("session_id")
    try:
        session_id = int(raw) if raw not in (None, "") and not isinstance(raw, bool) else None
    except (TypeError, ValueError):
        session_id = None
    db = _db(case)
    row = db.get(MediationSession, session_id) if db is not None and session_id is not None else None
    if row is None or row.case_id != case.id:
        errors["session_id"] = N_("Choose a scheduled session of this case.")
        return None
    if row.status is not SessionStatus.SCHEDULED:
        errors["session_id"] = N_("This session is no longer scheduled: it was held or cancelled.")
        return None
    return row


def _planned(row: MediationSession) -> dict[str, Any]:
    """What a scheduled session already says, as ``record_session`` data."""
    return {
        "mode": row.mode.value,
        "participants": [p.get("party") or p.get("name") or "" for p in row.participants],
        "place": row.place,
        "public": row.public,
    }


def _v_session(case: Case, data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """``record_session``: the minutes of a session held (调解记录, DOMAIN R29).

    With ``session_id`` it records a scheduled session of the case (its mode, participants,
    place and public flag are the defaults); ``held_at`` (Asia/Shanghai) defaults to the
    scheduled time once that has come, else to now.
    """
    out: dict[str, Any] = {}
    if data.get("session_id") not in (None, ""):
        row = _scheduled(case, data, errors)
        if row is not None:
            out["session_id"] = row.id
            data = {**_planned(row), **{k: v for k, v in data.items() if v not in (None, "", [])}}
    mode = _choice(data, "mode", SessionMode, errors)
    out.update({
        "mode": mode.value if mode else None,
        "participants": _participants(case, data, errors),
        "place": _short(data, "place", errors, 200),
        "minutes": _text(data, "minutes", errors, required=False),
        "public": _flag(data.get("public", False)),
    })
    try:
        held_at = parse_local_datetime(data.get("held_at"))
    except ValueError as exc:
        errors["held_at"] = str(exc)
        held_at = None
    if held_at is not None:
        out["held_at"] = held_at
    if "rights_explained" in data:
        out["rights_explained"] = _flag(data.get("rights_explained"))
    for key in ("verification", "result"):
        value = _text(data, key, errors, required=False)
        if value is not None:
            out[key] = value
    return out


def _v_schedule(case: Case, data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """``schedule_session``: when (Asia/Shanghai), where, joint or caucus, public or not (DOMAIN R5), who."""
    try:
        when = parse_local_datetime(data.get("scheduled_for"))
        if when is None:
            errors["scheduled_for"] = N_("This field is required.")
    except ValueError as exc:
        errors["scheduled_for"] = str(exc)
        when = None
    mode = _choice(data, "mode", SessionMode, errors)
    return {
        "scheduled_for": when,
        "mode": mode.value if mode else None,
        "place": _short(data, "place", errors, 200, required=True),
        "participants": _participants(case, data, errors),
        "public": _flag(data.get("public", False)),
    }


def _v_cancel_session(case: Case, data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    row = _scheduled(case, data, errors)
    return {"session_id": row.id if row is not None else None, "reason": _text(data, "reason", errors)}


def _v_investigation(case: Case, data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """``record_visit`` / ``record_investigation`` (调查记录, DOMAIN R28): the optional where, who was
    questioned and who took part, besides the record itself (``note``)."""
    out: dict[str, Any] = {}
    place = _short(data, "place", errors, 200)
    person = _short(data, "person", errors, 120)
    participants = _participants(case, data, errors, required=False)
    if place:
        out["place"] = place
    if person:
        out["person"] = person
    if participants:
        out["participants"] = participants
    out["note"] = _text(data, "note", errors)
    return out


def _v_attach(case: Case, data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """``attach``: a stored file's name, sniffed type, size (bytes) and SHA-256 (see ``mediation.attachments``)."""
    filename = _short(data, "filename", errors, 255, required=True)
    content_type = data.get("content_type")
    if content_type not in ATTACHMENT_TYPES:
        errors["content_type"] = N_("Only PDF, JPEG, PNG, Word (DOCX) and Excel (XLSX) files can be attached.")
    size = data.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        errors["size"] = N_("The file is empty.")
    sha256 = data.get("sha256")
    if not isinstance(sha256, str) or not _SHA256.match(sha256):
        errors["sha256"] = N_("Not a stored file.")
    return {
        "filename": filename,
        "content_type": content_type,
        "size": size,
        "sha256": sha256,
        "description": _short(data, "description", errors, 500),
    }


Validator = Callable[[Case, Mapping[str, Any], dict[str, str]], dict[str, Any]]

VALIDATORS: dict[str, Validator] = {
    "accept": _v_accept,
    "decline": _v_reason_referral,
    "terminate": _v_reason_referral,
    "draft_agreement": _v_terms,
    "record_oral_agreement": _v_oral,
    "record_performance": _v_term,
    "report_breach": _v_breach,
    "record_session": _v_session,
    "schedule_session": _v_schedule,
    "cancel_session": _v_cancel_session,
    "record_visit": _v_investigation,
    "record_investigation": _v_investigation,
    "attach": _v_attach,
    "record_group_members": validate_members,
}


def clean(trigger: str, requires: tuple[str, ...], case: Case, data: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check a trigger's data; returns the cleaned data or raises ``ValidationError``.

    Fields a definition ``requires`` must be present; known triggers check their shape.
    """
    data = dict(data or {})
    errors: dict[str, str] = {}
    validator = VALIDATORS.get(trigger)
    out = validator(case, data, errors) if validator else {}
    for key in requires:
        if key in out or key in errors:
            continue
        out[key] = _text(data, key, errors)
    for key in ("reason", "note"):
        if key not in out and key in data:
            out[key] = _text(data, key, errors, required=False)
    if errors:
        raise ValidationError(errors)
    return out


# --- effects: what a trigger changes besides the state --------------------------

def _agreement(ctx: Context) -> Agreement:
    agreement = ctx.case.current_agreement
    if agreement is None:  # the machine's sources make this unreachable for valid definitions
        raise ValidationError({"agreement": N_("The case has no agreement.")})
    return agreement


def _new_agreement(ctx: Context, kind: AgreementKind, status: AgreementStatus) -> Agreement:
    case = ctx.case
    for old in case.agreements:
        if old.status is not AgreementStatus.SUPERSEDED:
            old.status = AgreementStatus.SUPERSEDED
    agreement = Agreement(
        organisation_id=case.organisation_id,
        version=len(case.agreements) + 1,
        kind=kind,
        status=status,
        tier=case.tier,
        text=ctx.data.get("text"),
        drafted_at=ctx.now,
    )
    for seq, term in enumerate(ctx.data.get("terms") or [], start=1):
        agreement.obligations.append(
            Obligation(
                seq=seq,
                obligor=case.party(term["obligor"]),
                obligee=case.party(term["obligee"]),
                member=_term_member(case, term, term["member"]) if term.get("member") else None,
                text=term["text"],
                amount=Decimal(term["amount"]) if term.get("amount") else None,
                due_on=date.fromisoformat(term["due_on"]) if term.get("due_on") else None,
            )
        )
    case.agreements.append(agreement)
    return agreement


def _e_accept(ctx: Context) -> None:
    ctx.case.severity = Severity(ctx.data["severity"])
    ctx.case.accepted_at = ctx.now


def _e_draft(ctx: Context) -> None:
    _new_agreement(ctx, AgreementKind.WRITTEN, AgreementStatus.DRAFTED)


def _awaits_sign_off(ctx: Context) -> bool:
    """True when signing leads to a state that ``sign_off`` leaves (待审签), whatever the definition calls it."""
    if ctx.definition is None:
        return ctx.dest == "awaiting_signoff"
    spec = ctx.definition.triggers.get("sign_off")
    return spec is not None and any(ctx.dest in t.sources for t in spec.transitions)


def _e_sign(ctx: Context) -> None:
    agreement = _agreement(ctx)
    agreement.signed_at = ctx.now
    if _awaits_sign_off(ctx):
        agreement.status = AgreementStatus.AWAITING_SIGNOFF
    else:
        agreement.status = AgreementStatus.EFFECTIVE
        agreement.effective_at = ctx.now


def _e_sign_off(ctx: Context) -> None:
    agreement = _agreement(ctx)
    agreement.status = AgreementStatus.EFFECTIVE
    agreement.signed_off_at = ctx.now
    agreement.signed_off_by_id = ctx.actor.id if ctx.actor else None
    agreement.effective_at = ctx.now


def _e_oral(ctx: Context) -> None:
    agreement = _new_agreement(ctx, AgreementKind.ORAL, AgreementStatus.EFFECTIVE)
    agreement.signed_at = agreement.effective_at = ctx.now  # Art. 30: effective when reached
    if ctx.data.get("performed"):
        for ob in agreement.obligations:
            ob.performed_at = ctx.now


def _e_performance(ctx: Context) -> None:
    ob = next(o for o in _agreement(ctx).obligations if o.seq == ctx.data["term"])
    ob.performed_at = ctx.now
    ob.breached_at = None
    if ctx.data.get("note"):
        ob.note = ctx.data["note"]


def _e_breach(ctx: Context) -> None:
    ob = next(o for o in _agreement(ctx).obligations if o.seq == ctx.data["term"])
    ob.breached_at = ctx.now
    ob.note = ctx.data.get("note")


def _e_judicial(ctx: Context) -> None:
    _agreement(ctx).judicial_confirmation_applied_at = ctx.now


def _session_row(ctx: Context) -> MediationSession:
    db = _db(ctx.case)
    row = db.get(MediationSession, ctx.data["session_id"]) if db is not None else None
    if row is None:  # the validator found it in this transaction
        raise ValidationError({"session_id": N_("Choose a scheduled session of this case.")})
    return row


def _e_session(ctx: Context) -> None:
    """Record a session as held: fill the scheduled one, or add one; the event says when it was held."""
    held_at: datetime | None = ctx.data.get("held_at")
    if held_at is not None and held_at > ctx.now + HELD_AT_SLACK:
        raise ValidationError(
            {"held_at": N_("A session is recorded once it has been held: the time cannot be in the future.")}
        )
    if ctx.data.get("session_id") is not None:
        row = _session_row(ctx)
        if held_at is None:
            planned = row.scheduled_for
            held_at = planned if planned is not None and planned <= ctx.now else ctx.now
    else:
        row = MediationSession(case_id=ctx.case.id, mediator_id=ctx.actor.id if ctx.actor else None)
        held_at = held_at or ctx.now
    row.status = SessionStatus.HELD
    row.held_at = held_at
    row.place = ctx.data.get("place")
    row.mode = SessionMode(ctx.data["mode"])
    row.public = ctx.data.get("public", False)
    row.participants = ctx.data["participants"]
    row.minutes = ctx.data.get("minutes")
    row.rights_explained = bool(ctx.data.get("rights_explained", False))
    row.verification = ctx.data.get("verification")
    row.result = ctx.data.get("result")
    row.recorded_by_id = ctx.actor.id if ctx.actor else None
    if row not in ctx.case.sessions:
        ctx.case.sessions.append(row)
    ctx.data["held_at"] = held_at


def _e_schedule(ctx: Context) -> None:
    """Add a scheduled session led by the actor; the event names it (``session_id``)."""
    when: datetime = ctx.data["scheduled_for"]
    if when <= ctx.now:
        raise ValidationError({"scheduled_for": N_("A session is scheduled for a time still to come.")})
    row = MediationSession(
        case_id=ctx.case.id,
        status=SessionStatus.SCHEDULED,
        scheduled_for=when,
        place=ctx.data.get("place"),
        mode=SessionMode(ctx.data["mode"]),
        public=ctx.data.get("public", False),
        participants=ctx.data["participants"],
        mediator_id=ctx.actor.id if ctx.actor else None,
    )
    db = _db(ctx.case)
    if db is None:
        raise RuntimeError("schedule_session needs a case in a session")
    db.add(row)
    db.flush()
    ctx.data["session_id"] = row.id


def _e_cancel_session(ctx: Context) -> None:
    _session_row(ctx).status = SessionStatus.CANCELLED


def _e_attach(ctx: Context) -> None:
    """Add the ``Attachment`` row of a stored file; the event names it (``attachment_id``)."""
    row = Attachment(
        case_id=ctx.case.id,
        filename=ctx.data["filename"],
        content_type=ctx.data["content_type"],
        size=ctx.data["size"],
        sha256=ctx.data["sha256"],
        description=ctx.data.get("description"),
        uploaded_by_id=ctx.actor.id if ctx.actor else None,
        uploaded_at=ctx.now,
    )
    db = _db(ctx.case)
    if db is None:
        raise RuntimeError("attach needs a case in a session")
    db.add(row)
    db.flush()
    ctx.data["attachment_id"] = row.id


EFFECTS: dict[str, Callable[[Context], None]] = {
    "accept": _e_accept,
    "draft_agreement": _e_draft,
    "sign": _e_sign,
    "sign_off": _e_sign_off,
    "record_oral_agreement": _e_oral,
    "record_performance": _e_performance,
    "report_breach": _e_breach,
    "apply_judicial_confirmation": _e_judicial,
    "record_session": _e_session,
    "schedule_session": _e_schedule,
    "cancel_session": _e_cancel_session,
    "attach": _e_attach,
    "record_group_members": apply_members,
}


def apply(trigger: str, ctx: Context) -> None:
    """Make the record changes of ``trigger`` (none for a plain activity)."""
    effect = EFFECTS.get(trigger)
    if effect is not None:
        effect(ctx)
