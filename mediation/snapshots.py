"""Plain-dict contexts of the legal documents, taken from a case's records.

The dict is what ``documents.render_pdf`` lays out and what the verification digest is
computed over; it is stored with the ``Document`` so a PDF can be rendered again, the
same to the letter, at any later time. Its shape is the one ``mediation.documents``
describes (DOMAIN.md R26-R33, R12, R20).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from .clocks import SHANGHAI, local_date
from .enums import AgreementKind, PartyKind, PartyRole
from .models import Agreement, Case, Document, Event, Party
from .workflow import Definition, pick_label

ROLE_LABELS = {PartyRole.APPLICANT: "申请人", PartyRole.RESPONDENT: "被申请人", PartyRole.THIRD_PARTY: "第三人"}
CATEGORY_LABELS = {
    "wages": "劳动争议（拖欠工资）",
    "work_injury": "劳动争议（工伤）",
    "contract_termination": "劳动争议（解除劳动合同）",
    "labour_service_pay": "劳务报酬纠纷",
    "neighbour_lift": "相邻关系纠纷（加装电梯）",
    "neighbour_building": "相邻关系纠纷（建房）",
    "neighbour_other": "相邻关系纠纷",
    "property_service": "物业服务纠纷",
    "minor_assault": "轻微伤害纠纷",
    "other": "其他纠纷",
}
SOURCE_LABELS = {
    "enterprise_liaison": "企业网格员报送",
    "walk_in": "当事人申请",
    "online": "网上申请",
    "police_referral": "公安机关移送",
    "court_referral": "人民法院委托",
    "proactive": "主动调解",
}
MODE_LABELS = {"joint": "面对面调解", "caucus": "背靠背调解"}
#: The activities that produce an investigation record (R28 调查记录), and how it was done.
INVESTIGATION_LABELS = {"record_investigation": "调查核实", "record_visit": "上门走访"}


def _d(instant: datetime | None) -> date | None:
    return local_date(instant) if instant else None


def _age(party: Party, on: date) -> int | None:
    born = party.birth_date
    if born is None and party.id_number and len(party.id_number) == 18:
        try:
            born = date(int(party.id_number[6:10]), int(party.id_number[10:12]), int(party.id_number[12:14]))
        except ValueError:
            born = None
    if born is None:
        return None
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def party_context(party: Party, on: date) -> dict[str, Any]:
    """One party's particulars as the forms print them (R26, R30)."""
    return {
        "ref": party.ref,
        "role": party.role.value,
        "role_label": ROLE_LABELS[party.role],
        "kind": party.kind.value,
        "name": party.name,
        "size": party.size,
        "gender": party.gender.value if party.gender else None,
        "ethnicity": party.ethnicity,
        "age": _age(party, on) if party.kind is PartyKind.PERSON else None,
        "occupation": party.occupation,
        "phone": party.phone,
        "id_number": party.id_number,
        "address": party.address,
        "representative": party.representative,
    }


def _who(event: Event) -> str:
    return event.actor_label


def case_context(case: Case, definition: Definition, on: datetime) -> dict[str, Any]:
    """The parts every document shares: organisation, case particulars, parties."""
    today = local_date(on)
    mediator = case.assigned_to.display_name if case.assigned_to else None
    if mediator is None:
        for ev in reversed(case.events):
            if ev.actor is not None and ev.trigger not in ("file",):
                mediator = ev.actor_label
                break
    org = case.organisation
    return {
        "organisation": {"name": org.name, "committee": org.committee_name, "short_name": org.short_name},
        "case": {
            "number": case.number,
            "title": case.title,
            "category": case.category.value,
            "category_label": CATEGORY_LABELS.get(case.category.value, case.category.value),
            "workflow_label": pick_label(definition.title),
            "facts": case.facts,
            "claims": case.claims,
            "amount_claimed": case.amount_claimed,
            "filed_at": _d(case.filed_at),
            "accepted_at": _d(case.accepted_at),
            "closed_at": _d(case.closed_at),
            "mediator": mediator,
            "recorder": mediator,
            "state_label": definition.label(case.state),
            "source_label": SOURCE_LABELS.get(case.filed_via.value, case.filed_via.value),
            "filed_by": case.filed_by.display_name if case.filed_by else None,
        },
        "parties": [party_context(p, today) for p in case.parties],
    }


def agreement_context(agreement: Agreement, case: Case) -> dict[str, Any]:
    """The agreement's terms and particulars (R30, R31)."""
    return {
        "kind": agreement.kind.value,
        "number": case.number,
        "version": agreement.version,
        "text": agreement.text,
        "terms": [
            {
                "seq": o.seq,
                "obligor": o.obligor.name if o.obligor else None,
                "obligee": o.obligee.name if o.obligee else None,
                "text": o.text,
                "amount": o.amount,
                "due_date": o.due_on,
            }
            for o in agreement.obligations
        ],
        "copies": len(case.parties) + 1,  # R10, R30: one per party and one for the committee
        "drafted_at": _d(agreement.drafted_at),
        "signed_at": _d(agreement.signed_at),
        "effective_at": _d(agreement.effective_at),
        "verification_code": None,
    }


SYSTEM_EVENT_LABELS = {
    "file": {"zh_CN": "登记", "en": "Filed"},
    "clock_expired": {"zh_CN": "期限届满", "en": "Period ran out"},
}


def trigger_label(definition: Definition, trigger: str, locale: str = "zh_CN") -> str:
    """The label of a trigger or system event (``file``, ``clock_expired``) in ``locale``."""
    spec = definition.triggers.get(trigger)
    label = spec.label if spec else SYSTEM_EVENT_LABELS.get(trigger)
    return pick_label(label, locale) if label else trigger


def timeline_context(case: Case, definition: Definition) -> dict[str, Any]:
    """Events, sessions and investigations, for the dossier (R33)."""
    events = [
        {
            "at": ev.at.astimezone(SHANGHAI).replace(microsecond=0),
            "label": trigger_label(definition, ev.trigger),
            "actor": _who(ev),
            "note": ev.reason or ev.data.get("note") or ev.data.get("reason"),
        }
        for ev in case.events
    ]
    sessions = [
        {
            "at": _instant(s.held_at) if s.held_at else None,
            "mode_label": MODE_LABELS[s.mode.value],
            "participants": _participant_names(case, s.participants),
            "place": s.place,
            "minutes": s.minutes,
            "rights_explained": s.rights_explained,
            "verification": s.verification,
            "result": s.result,
        }
        for s in case.sessions  # the sessions held (a scheduled or cancelled one has no record)
    ]
    investigations = [
        investigation_from_data(case, ev.at, {**ev.data, "actor_label": _who(ev), "trigger": ev.trigger})
        for ev in case.events
        if ev.trigger in INVESTIGATION_LABELS
    ]
    return {"events": events, "sessions": sessions, "investigations": investigations}


def _instant(on: datetime) -> datetime:
    return on.astimezone(SHANGHAI).replace(microsecond=0)


def _text_or_none(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _participant_names(case: Case, participants: Any) -> list[str]:
    """Names of a record's participants: ``[{party: ref} | {name: …}]`` → the parties' names or the names given."""
    names = {p.ref: p.name for p in case.parties}
    return [names.get(p.get("party", "")) or str(p.get("name", "")) for p in participants or () if isinstance(p, dict)]


def investigation_from_data(case: Case, on: datetime, data: Mapping[str, Any]) -> dict[str, Any]:
    """One investigation or visit (调查记录, R28: time, place, participants, person questioned,
    record, investigator), from its trigger's cleaned data (``actor_label``, ``trigger`` added)."""
    return {
        "at": _instant(on),
        "note": data.get("note"),
        "investigator": data.get("actor_label"),
        "kind_label": INVESTIGATION_LABELS.get(str(data.get("trigger"))),
        "place": _text_or_none(data.get("place")),
        "person": _text_or_none(data.get("person")),
        "participants": _participant_names(case, data.get("participants")),
    }


def session_from_data(case: Case, on: datetime, data: Mapping[str, Any]) -> dict[str, Any]:
    """The one mediation session just recorded (R29), from ``record_session``'s cleaned data.

    ``held_at`` (when it was held, if not now), ``rights_explained``, ``verification`` and
    ``result`` are the R29 fields the data may carry.
    """
    held_at = data.get("held_at")
    return {
        "at": _instant(held_at if isinstance(held_at, datetime) else on),
        "rights_explained": data.get("rights_explained"),
        "verification": _text_or_none(data.get("verification")),
        "result": _text_or_none(data.get("result")),
        "mode_label": MODE_LABELS.get(str(data.get("mode"))),
        "participants": _participant_names(case, data.get("participants")),
        "place": data.get("place"),
        "minutes": data.get("minutes"),
    }


def _term_context(agreement: Agreement | None, seq: Any) -> dict[str, Any] | None:
    if agreement is None:
        return None
    for term in agreement_context(agreement, agreement.case)["terms"]:
        if term["seq"] == seq:
            return dict(term)
    return None


def _agreement_code(case: Case, agreement: Agreement) -> str | None:
    """The verification code of the issued document of ``agreement`` (its newest issue), if any."""
    from .documents import AGREEMENT_KINDS  # WeasyPrint loads only where documents are made

    for doc in reversed(case.documents):
        stored = doc.context.get("agreement") if isinstance(doc.context, dict) else None
        if doc.kind in AGREEMENT_KINDS and isinstance(stored, dict) and stored.get("version") == agreement.version:
            return doc.verification_code
    return None


def dossier_documents(documents: Sequence[Document]) -> list[Document]:
    """The issued documents that make up the dossier, in R33 order (``documents.DOSSIER_ORDER``).

    Every record of the kinds issued once per event (sessions, investigations, follow-ups,
    payment-order notes) goes in; of the others only the newest issue (a redrafted
    agreement replaces its draft; of a written and an oral agreement only the later, the
    one in force). Earlier issues stay on file as their own ``Document`` rows.
    """
    from .documents import AGREEMENT_KINDS, RECORD_KINDS, dossier_rank

    records: list[Document] = []
    newest: dict[str, Document] = {}
    for doc in sorted(documents, key=lambda d: d.id):
        if doc.kind == "dossier":
            continue
        if doc.kind in RECORD_KINDS:
            records.append(doc)
        else:
            newest["agreement" if doc.kind in AGREEMENT_KINDS else doc.kind] = doc
    return sorted([*records, *newest.values()], key=lambda d: (dossier_rank(d.kind), d.id))


def document_context(
    kind: str, case: Case, definition: Definition, on: datetime, data: dict[str, Any]
) -> dict[str, Any]:
    """The context of document ``kind`` for ``case`` as it stands at ``on`` (DOMAIN R26-R33, R12, R20).

    ``data`` is the cleaned data of the trigger that issues it, with ``actor_label`` and
    ``trigger`` added: a session or investigation record holds the one just recorded, a
    termination notice its reason and referral, a payment-order note the breached term.
    """
    from .documents import AGREEMENT_KINDS

    ctx = case_context(case, definition, on)
    trigger = data.get("trigger")
    # Which issue this is: two documents never share a digest (and so a verification code),
    # even when their printed content happens to be the same.
    ctx["document"] = {"kind": kind, "event_seq": case.events[-1].seq if case.events else 0}
    agreement = case.current_agreement
    if agreement is not None and kind in (
        "agreement", "oral_agreement", "follow_up", "judicial_confirmation_application", "payment_order_note", "dossier"
    ):
        ctx["agreement"] = agreement_context(agreement, case)
        if kind not in AGREEMENT_KINDS:  # cite the agreement's own code; services set an agreement's
            ctx["agreement"]["verification_code"] = _agreement_code(case, agreement)
    if kind == "follow_up":
        visited = ", ".join(p.name for p in case.parties if p.role is PartyRole.APPLICANT)
        ctx.setdefault("agreement", None)
        ctx["follow_up"] = {
            "at": local_date(on),
            "visitor": data.get("actor_label"),
            "party_visited": data.get("party_visited") or visited,
            "note": data.get("note"),
            "performance": _performance_summary(agreement),
        }
    if kind == "investigation_record":
        if trigger in INVESTIGATION_LABELS:
            ctx["investigations"] = [investigation_from_data(case, on, data)]
        else:
            ctx["investigations"] = timeline_context(case, definition)["investigations"]
    if kind == "session_record":
        if data.get("mode"):
            ctx["sessions"] = [session_from_data(case, on, data)]
        else:
            ctx["sessions"] = timeline_context(case, definition)["sessions"]
    if kind == "termination_notice":
        ctx["termination"] = {"at": local_date(on), "reason": data.get("reason"), "referral": data.get("referral")}
    if kind == "judicial_confirmation_application":
        ctx["judicial"] = {"applied_at": local_date(on), "court": _text_or_none(data.get("court"))}
    if kind == "payment_order_note":
        ctx["breach"] = {
            "reported_at": local_date(on),
            "note": data.get("note"),
            "term": _term_context(agreement, data.get("term")),
        }
    if kind == "dossier":
        ctx.update(timeline_context(case, definition))
        ctx["case"]["archived_at"] = local_date(on)
        ctx["documents"] = [
            {"kind": d.kind, "title": d.title, "context": d.context} for d in dossier_documents(case.documents)
        ]
    return ctx


def _performance_summary(agreement: Agreement | None) -> str | None:
    if agreement is None:
        return None
    if agreement.kind is AgreementKind.ORAL and not agreement.obligations:
        return "口头协议当场履行完毕"
    done = sum(1 for o in agreement.obligations if o.performed_at)
    total = len(agreement.obligations)
    return f"协议共{total}项，已履行{done}项"


_DATE_KEYS = frozenset({
    "filed_at", "accepted_at", "closed_at", "drafted_at", "signed_at", "effective_at", "due_date",
    "archived_at", "applied_at", "reported_at",
})
_INSTANT_KEYS = frozenset({"at"})
_MONEY_KEYS = frozenset({"amount", "amount_claimed"})


def to_stored(value: Any) -> Any:
    """The JSON form of a context: dates and instants as ISO text, money as text."""
    if isinstance(value, dict):
        return {k: to_stored(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_stored(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if hasattr(value, "as_tuple"):  # Decimal
        return str(value)
    return value


def from_stored(value: Any, key: str | None = None) -> Any:
    """The inverse of ``to_stored`` for the keys documents use (dates, instants, money)."""
    from decimal import Decimal

    if isinstance(value, dict):
        return {k: from_stored(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [from_stored(v) for v in value]
    if isinstance(value, str) and key is not None:
        if key in _MONEY_KEYS:
            return Decimal(value)
        if key in _DATE_KEYS and len(value) == 10:
            return date.fromisoformat(value)
        if key in _INSTANT_KEYS and "T" in value:
            return datetime.fromisoformat(value)
        if key in _INSTANT_KEYS and len(value) == 10:
            return date.fromisoformat(value)
    return value
