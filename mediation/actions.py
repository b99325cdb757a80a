"""What each trigger's data must be, and what the trigger does to the case's records.

The vocabulary of triggers is the domain's (DESIGN.md §3), shared by every workflow;
a definition chooses which of them it uses, in which states, and by whom. A trigger
with no entry here (say a new activity ``record_call`` in a new definition) needs only
the fields its definition ``requires`` and is recorded as an event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .enums import AgreementKind, AgreementStatus, Referral, SessionMode, Severity
from .errors import ValidationError
from .i18n import N_
from .models import Agreement, Case, MediationSession, Obligation, User

MAX_TEXT = 20_000


@dataclass
class Context:
    """What an effect works with: the case, who acts, when, and the cleaned data."""

    case: Case
    actor: User | None
    now: datetime
    data: dict[str, Any]
    dest: str


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
        terms.append(term)
    return {"terms": terms}


def _v_oral(case: Case, data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"text": _text(data, "text", errors)}
    if data.get("terms"):
        out.update(_v_terms(case, data, errors))
    performed = data.get("performed")
    out["performed"] = (not out.get("terms")) if performed in (None, "") else bool(performed)
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


def _v_session(case: Case, data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    mode = _choice(data, "mode", SessionMode, errors)
    raw = data.get("participants")
    participants: list[dict[str, str]] = []
    if isinstance(raw, str):
        raw = [p for p in (x.strip() for x in raw.replace("，", ",").replace("、", ",").split(",")) if p]
    if not isinstance(raw, list) or not raw:
        errors["participants"] = N_("Name at least one participant.")
    else:
        refs = {p.ref: p for p in case.parties}
        for item in raw:
            if not isinstance(item, str) or not item.strip() or len(item) > 200:
                errors["participants"] = N_("Each participant is a party or a name of at most 200 characters.")
                break
            item = item.strip()
            participants.append({"party": item} if item in refs else {"name": item})
    out: dict[str, Any] = {
        "mode": mode.value if mode else None,
        "participants": participants,
        "place": _text(data, "place", errors, required=False),
        "minutes": _text(data, "minutes", errors, required=False),
        "public": bool(data.get("public", False)),
    }
    return out


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


def _e_sign(ctx: Context) -> None:
    agreement = _agreement(ctx)
    agreement.signed_at = ctx.now
    if ctx.dest == "awaiting_signoff":
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


def _e_session(ctx: Context) -> None:
    ctx.case.sessions.append(
        MediationSession(
            held_at=ctx.now,
            place=ctx.data.get("place"),
            mode=SessionMode(ctx.data["mode"]),
            public=ctx.data.get("public", False),
            participants=ctx.data["participants"],
            minutes=ctx.data.get("minutes"),
            recorded_by_id=ctx.actor.id if ctx.actor else None,
        )
    )


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
}


def apply(trigger: str, ctx: Context) -> None:
    """Make the record changes of ``trigger`` (none for a plain activity)."""
    effect = EFFECTS.get(trigger)
    if effect is not None:
        effect(ctx)
