"""Public intake and status (网上申请 · 进度查询), open at any hour ("24小时不打烊").

A member of the public files a dispute after reading how their personal information is
used and agreeing to it (Personal Information Protection Law arts. 14, 17, 28–29); the
filing is ``services.file_case`` with no actor (``filed_via`` online). They get a
tracking code; with it and the phone number they gave, ``case_status`` tells them where
the case stands: its state, dates and the next step in plain words, and nothing of the
other party. A wrong code and a wrong phone get the same answer (``None``).
"""

from __future__ import annotations

import hmac
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from . import queries, services
from .enums import PartyKind, PartyRole
from .errors import ValidationError
from .i18n import N_
from .models import Case, Organisation
from .queries import ClockView
from .services import Filed, UnitOfWork
from .validation import clean_mobile
from .workflow import Label, Registry

#: The version of the personal-information notice the public agrees to; recorded with the consent.
NOTICE_VERSION = "2026-11"
#: Where the flat fields of the public form go in a party of ``services.file_case``.
PARTY_FIELDS = ("name", "phone", "id_number", "address")
#: What comes next, in plain words, by state name; other states get ``OPEN_STEP`` or ``CLOSED_STEP``.
NEXT_STEPS: Mapping[str, str] = {
    "registered": N_(
        "The station has received your application and will decide within three working days whether to "
        "accept it for mediation. A mediator may call you at the number you gave."
    ),
    "declined": N_(
        "The application was not accepted for mediation. You may still apply for arbitration, go to court "
        "or turn to the competent authority; the station will tell you how."
    ),
    "tier1": N_("Mediation is under way. Your mediator will contact you to talk or to arrange a meeting."),
    "tier2": N_("Mediation is under way. Your mediator will contact you to talk or to arrange a meeting."),
    "tier3": N_(
        "Mediation is under way, led by the station chief with the township offices. You will be told when "
        "and where to meet."
    ),
    "suspended": N_(
        "Mediation is paused while an outside procedure (for example a work-injury determination) is "
        "pending. It goes on when that is done."
    ),
    "agreement_drafted": N_("An agreement has been drafted. The mediator will ask the parties to read and sign it."),
    "awaiting_signoff": N_("The agreement has been signed and waits for the station chief's sign-off."),
    "performing": N_(
        "The agreement is in effect and is being carried out. Tell your mediator if a term is not kept."
    ),
    "breached": N_("A term of the agreement was not kept. The mediator will contact the parties about what follows."),
    "follow_up": N_("The agreement has been carried out. The mediator will visit or call you once more."),
    "resolved": N_("The dispute was settled by mediation and the case is closed."),
    "terminated": N_(
        "Mediation ended without a settlement. You may apply for arbitration, go to court or use another "
        "channel; the station will tell you how."
    ),
    "withdrawn": N_("The application was withdrawn and the case is closed."),
}
OPEN_STEP = N_("Your case is being handled. The station will contact you.")
CLOSED_STEP = N_("The case is closed.")
_CODE_JUNK = re.compile(r"[\s\-_]")


@dataclass(frozen=True)
class PublicStatus:
    """Where a case stands, as the public status page shows it (no party's particulars)."""

    number: str
    workflow_label: Label
    category: str
    state: str
    state_label: Label
    final: bool
    filed_at: datetime
    accepted_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime
    #: A msgid: what happens next, in plain words.
    next_step: str
    #: The statutory periods running (or lapsed) on the case, e.g. the 15 days before arbitration.
    clocks: list[ClockView]


def organisations(session: Session) -> list[tuple[int, str]]:
    """``(id, name)`` of the organisations the public may file with, by name."""
    rows = session.execute(select(Organisation.id, Organisation.name).order_by(Organisation.name))
    return [(r[0], r[1]) for r in rows]


def _party(data: Mapping[str, Any], prefix: str, role: PartyRole, kind: str) -> dict[str, Any]:
    party: dict[str, Any] = {"role": role.value, "kind": kind}
    for key in PARTY_FIELDS:
        value = data.get(f"{prefix}_{key}")
        if isinstance(value, str) and value.strip():
            party[key] = value.strip()
    return party


def file_online(
    uow: UnitOfWork, submission: Mapping[str, Any], *, now: datetime | None = None
) -> Filed:
    """File a dispute for a member of the public (网上申请).

    ``submission`` holds ``organisation_id``, ``kind`` (``workflow:category``), ``area_id``,
    ``facts``, ``claims``, ``amount_claimed``, the applicant's ``applicant_name``,
    ``applicant_phone`` (required: the status lookup needs it), ``applicant_id_number``,
    ``applicant_address``, the respondent's ``respondent_kind``, ``respondent_name``,
    ``respondent_phone``, ``respondent_address``, and ``consent`` (must be true). Raises
    ``ValidationError`` keyed by those names; nothing is saved then.
    """
    now = now or services.utcnow()
    errors: dict[str, str] = {}
    if submission.get("consent") is not True:
        errors["consent"] = N_("Please read the notice and agree to it; without it we cannot take your application.")
    phone = submission.get("applicant_phone")
    if not isinstance(phone, str) or not phone.strip():
        errors["applicant_phone"] = N_("Your mobile number is needed to look up your case later.")
    else:
        try:
            clean_mobile(phone)
        except ValueError as exc:
            errors["applicant_phone"] = str(exc)
    for key in ("applicant_name", "respondent_name", "facts", "claims"):
        value = submission.get(key)
        if not isinstance(value, str) or not value.strip():
            errors[key] = N_("This field is required.")
    kind = str(submission.get("kind") or "")
    workflow, _sep, category = kind.partition(":")
    if not workflow or not category:
        errors["kind"] = N_("Choose the kind of dispute.")
    organisation_id = submission.get("organisation_id")
    try:
        organisation = int(organisation_id) if organisation_id not in (None, "") else None
    except (TypeError, ValueError):
        organisation = None
    if organisation is None:
        errors["organisation_id"] = N_("Choose the station to file with.")
    if errors:
        raise ValidationError(errors)
    respondent_kind = submission.get("respondent_kind")
    filing = {
        "workflow": workflow,
        "category": category,
        "filed_via": "online",
        "facts": submission.get("facts"),
        "claims": submission.get("claims"),
        "amount_claimed": submission.get("amount_claimed") or None,
        "area_id": submission.get("area_id") or None,
        "consent": {"notice": NOTICE_VERSION, "at": now.isoformat()},
        "parties": [
            _party(submission, "applicant", PartyRole.APPLICANT, PartyKind.PERSON.value),
            _party(
                submission, "respondent", PartyRole.RESPONDENT,
                respondent_kind if respondent_kind in (PartyKind.PERSON.value, PartyKind.ORGANISATION.value)
                else PartyKind.PERSON.value,
            ),
        ],
    }
    try:
        return services.file_case(uow, None, filing, organisation_id=organisation, now=now)
    except ValidationError as exc:
        raise ValidationError(_public_keys(exc.errors)) from exc


def _public_keys(errors: Mapping[str, str]) -> dict[str, str]:
    """The filing service's error keys as the public form's field names."""
    out: dict[str, str] = {}
    for key, message in errors.items():
        parts = key.split(".")
        if parts[0] == "parties" and len(parts) == 3:
            who = "applicant" if parts[1] == "1" else "respondent"
            out[f"{who}_{parts[2]}"] = message
        elif key in ("workflow", "category"):
            out["kind"] = message
        elif key == "organisation":
            out["organisation_id"] = message
        else:
            out[key] = message
    return out


def normalise_code(code: str | None) -> str:
    """A tracking code as issued: NFKC, upper case, without spaces or dashes."""
    return _CODE_JUNK.sub("", unicodedata.normalize("NFKC", code or "")).upper()


def case_status(
    session: Session, registry: Registry, tracking_code: str | None, phone: str | None, now: datetime
) -> PublicStatus | None:
    """Where the case with this tracking code stands, when ``phone`` is an applicant's mobile
    number; ``None`` otherwise (the same for a wrong code and a wrong phone)."""
    code = normalise_code(tracking_code)
    try:
        mobile = clean_mobile(phone or "")
    except ValueError:
        mobile = ""
    case = (
        session.scalar(select(Case).where(Case.tracking_code == code).options(selectinload(Case.parties)))
        if code and len(code) <= 20 else None
    )
    phones = [p.phone or "" for p in case.parties if p.role is PartyRole.APPLICANT] if case is not None else []
    matched = False
    for known in phones or [""]:
        # Compare every phone whatever the outcome, so the answer's timing says nothing.
        same = hmac.compare_digest(known.encode(), mobile.encode())
        matched = matched or (same and bool(mobile))
    if case is None or not matched:
        return None
    definition = registry.get(case.workflow, case.workflow_version)
    state = definition.states[case.state]
    clocks = [c for c in queries.case_clocks(session, registry, case, now) if c.statutory and c.status != "stopped"]
    return PublicStatus(
        number=case.number,
        workflow_label=definition.title,
        category=case.category.value,
        state=case.state,
        state_label=state.label,
        final=state.final,
        filed_at=case.filed_at,
        accepted_at=case.accepted_at,
        closed_at=case.closed_at,
        updated_at=case.updated_at,
        next_step=NEXT_STEPS.get(case.state, CLOSED_STEP if state.final else OPEN_STEP),
        clocks=clocks if not state.final else [],
    )
