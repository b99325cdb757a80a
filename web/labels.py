"""Display names of the domain's values, translated (English msgids, zh_CN in the catalogue).

Labels that belong to a workflow (states, triggers, tiers, clocks) come from the
definition in both languages; these are the fixed vocabularies of ``mediation.enums``
and the names of fields the action forms ask for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from mediation import i18n
from mediation.workflow import Label, pick_label

ROLES = {
    "admin": _l("Administrator"),
    "enterprise_liaison": _l("Enterprise liaison"),
    "department_head": _l("Department head"),
    "liaison_officer": _l("Liaison police officer"),
    "community_officer": _l("Community police officer"),
    "volunteer_mediator": _l("Volunteer mediator"),
    "station_chief": _l("Station chief"),
    "township_officer": _l("Township officer"),
    "auditor": _l("Auditor"),
}
SEVERITIES = {"simple": _l("Simple"), "general": _l("General"), "major": _l("Major")}
SOURCES = {
    "enterprise_liaison": _l("Reported by enterprise liaison"),
    "walk_in": _l("Application by a party (walk-in)"),
    "online": _l("Online application"),
    "police_referral": _l("Referred by the police"),
    "court_referral": _l("Entrusted by a court"),
    "proactive": _l("Proactive mediation (screening)"),
}
CATEGORIES = {
    "wages": _l("Unpaid wages"),
    "work_injury": _l("Work injury"),
    "contract_termination": _l("Termination of labour contract"),
    "labour_service_pay": _l("Pay for labour services"),
    "neighbour_lift": _l("Neighbours: lift installation"),
    "neighbour_building": _l("Neighbours: house building"),
    "neighbour_other": _l("Neighbours: other"),
    "property_service": _l("Property management service"),
    "minor_assault": _l("Minor assault"),
    "other": _l("Other"),
}
PARTY_ROLES = {"applicant": _l("Applicant"), "respondent": _l("Respondent"), "third_party": _l("Third party")}
PARTY_KINDS = {"person": _l("Person"), "organisation": _l("Organisation"), "group": _l("Group of workers")}
GENDERS = {"M": _l("Male"), "F": _l("Female")}
SESSION_MODES = {"joint": _l("Joint (face to face)"), "caucus": _l("Caucus (separately)")}
REFERRALS = {
    "arbitration": _l("Labour arbitration"),
    "litigation": _l("Litigation"),
    "payment_order": _l("Payment order"),
    "administrative": _l("Administrative channel"),
    "other": _l("Other"),
}
AGREEMENT_KINDS = {"written": _l("Written agreement"), "oral": _l("Oral agreement")}
AGREEMENT_STATUSES = {
    "drafted": _l("Drafted"),
    "awaiting_signoff": _l("Awaiting sign-off"),
    "effective": _l("In effect"),
    "superseded": _l("Superseded"),
}
TERM_STATUSES = {
    "pending": _l("Pending"),
    "performed": _l("Performed"),
    "breached": _l("Breached"),
    "overdue": _l("Overdue"),
}
CLOCK_STATUSES = {
    "running": _l("Running"),
    "paused": _l("Paused"),
    "stopped": _l("Stopped"),
    "expired": _l("Lapsed"),
}
#: Triggers that are not in a definition but appear on the timeline.
EVENT_TRIGGERS = {"file": _l("Filed"), "clock_expired": _l("Period lapsed"), "assign": _l("Assigned")}
#: Fields of actions and event data.
FIELDS = {
    "severity": _l("Severity"),
    "reason": _l("Reason"),
    "referral": _l("Referral to"),
    "note": _l("Note"),
    "text": _l("Text"),
    "terms": _l("Terms"),
    "term": _l("Term"),
    "performed": _l("Performed on the spot"),
    "mode": _l("Mode"),
    "participants": _l("Participants"),
    "participants_other": _l("Other participants"),
    "place": _l("Place"),
    "minutes": _l("Minutes"),
    "public": _l("Public session"),
    "filed_via": _l("Filed via"),
    "clock": _l("Period"),
    "label": _l("Period"),
    "last_day": _l("Last day"),
    "offer": _l("Offered"),
    "assignee": _l("Mediator"),
    "previous": _l("Previous mediator"),
    "consent": _l("Consent"),
    # Meetings, visits and investigations (DOMAIN R4, R5, R28, R29).
    "scheduled_for": _l("Date and time"),
    "held_at": _l("Held at"),
    "session_id": _l("Scheduled session"),
    "rights_explained": _l("Rights and duties were explained to the parties"),
    "verification": _l("What was verified"),
    "result": _l("Result, or why it failed and the other channels"),
    "person": _l("Person questioned"),
    # Evidence and group members (DOMAIN R15, R33).
    "file": _l("File"),
    "filename": _l("File"),
    "description": _l("What it shows"),
    "content_type": _l("Type"),
    "size": _l("Size"),
    "sha256": _l("SHA-256"),
    "attachment_id": _l("Attachment"),
    "party": _l("Party"),
    "members": _l("Workers"),
    "count": _l("Number of workers"),
    "total_claimed": _l("Total claimed"),
    "representative": _l("Representative"),
    "source": _l("Imported from"),
    "group": _l("Group of workers"),
    "member": _l("Worker"),
}
SESSION_STATUSES = {"scheduled": _l("Scheduled"), "held": _l("Held"), "cancelled": _l("Cancelled")}

VOCABULARIES: Mapping[str, Mapping[str, object]] = {
    "role": ROLES,
    "severity": SEVERITIES,
    "source": SOURCES,
    "filed_via": SOURCES,
    "category": CATEGORIES,
    "party_role": PARTY_ROLES,
    "party_kind": PARTY_KINDS,
    "gender": GENDERS,
    "mode": SESSION_MODES,
    "referral": REFERRALS,
    "agreement_kind": AGREEMENT_KINDS,
    "agreement_status": AGREEMENT_STATUSES,
    "term_status": TERM_STATUSES,
    "clock_status": CLOCK_STATUSES,
    "session_status": SESSION_STATUSES,
    "field": FIELDS,
    "event": EVENT_TRIGGERS,
}


def locale_key() -> str:
    """``zh_CN`` or ``en``: the key of a definition's two-language labels for this request."""
    return "en" if str(get_locale() or "zh_CN").startswith("en") else "zh_CN"


def label(vocabulary: str, value: object) -> str:
    """The translated name of ``value`` in a vocabulary (``role``, ``severity`` …); the value itself if unknown."""
    if value is None or value == "":
        return ""
    key = str(getattr(value, "value", value))
    found = VOCABULARIES.get(vocabulary, {}).get(key)
    return str(found) if found is not None else key


def pick(value: Label | None) -> str:
    """A definition's two-language label in the current locale."""
    if not value:
        return ""
    return pick_label(value, locale_key())


def colon() -> str:
    """The colon after a label in the current language (``i18n.colon``)."""
    return i18n.colon(locale_key())


_BILINGUAL = re.compile(r"^(?P<zh>[^()]+?)\s*\((?P<en>[^()]+)\)$")


def legal_source(text: str | None) -> str:
    """A definition's ``source`` of a period for the reader (法律依据): ``"劳动争议调解仲裁法 第14条
    (Labour Dispute Mediation and Arbitration Law, Art. 14); DOMAIN R18"`` shows as
    ``劳动争议调解仲裁法 第14条`` in Chinese and the bracketed name in English; the rule
    references of DOMAIN.md (``DOMAIN R18``) are for the developers and are left out."""
    if not text:
        return ""
    english = locale_key() == "en"
    shown = []
    for part in (p.strip() for p in text.split(";")):
        if not part or part.startswith("DOMAIN "):
            continue
        both = _BILINGUAL.match(part)
        shown.append((both["en"] if english else both["zh"]) if both else part)
    return ("; " if english else "；").join(shown)


def choices(vocabulary: str, blank: str | None = None) -> list[tuple[str, str]]:
    """``(value, translated name)`` pairs of a vocabulary, for a select; ``blank`` first when given."""
    out = [(k, str(v)) for k, v in VOCABULARIES[vocabulary].items()]
    return ([("", blank)] if blank is not None else []) + out
