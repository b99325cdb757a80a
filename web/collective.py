"""Collective disputes (集体劳动争议, DOMAIN R15): a group party's workers, their payment schedule and performance.

The list of workers is typed into a form or imported from an XLSX sheet (every wrong
row and column is reported, nothing is saved); the agreement gives each worker a term
with amount and due date (``draft_agreement``); each worker's payment is recorded on
its own (``record_performance``). ID numbers and phones are masked for roles that may
not see them (DOMAIN R36); such a user keeps a worker's number by leaving it masked.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy.orm import Session
from wtforms import FieldList, Form, FormField, HiddenField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import HiddenInput

from mediation import collective as coll
from mediation import policy, queries, services
from mediation.actions import parse_amount, parse_date
from mediation.clocks import local_date
from mediation.enums import PartyKind
from mediation.errors import ConflictError, InvalidTransition, NotFound, PermissionDenied, ValidationError
from mediation.models import Case, Party
from mediation.queries import CaseDetail
from mediation.validation import mask_id_number, mask_phone

from . import forms, labels
from .auth import current
from .extensions import login_manager, mediation, now
from .uploads import accepts_upload, answer_too_large, read_upload

bp = Blueprint("collective", __name__)
#: Blank worker rows the list form offers without JavaScript.
BLANK_ROWS = 3
#: Column names of the list, for import problems ("row 7, column ID number: …").
COLUMNS = {
    "name": _l("Full name"),
    "id_number": _l("ID number"),
    "phone": _l("Mobile number"),
    "amount_claimed": _l("Amount claimed (CNY)"),
}


@bp.before_request
def _require_login() -> ResponseReturnValue | None:
    """Every page here needs a logged-in user."""
    if not current_user.is_authenticated:
        response: ResponseReturnValue = login_manager.unauthorized()
        return response
    return None


answer_too_large(bp)


# --- forms ---------------------------------------------------------------------------------

class MemberRow(Form):  # type: ignore[misc]
    """One worker of the list form; ``was`` is the position the row had when the page was shown."""

    was = HiddenField()
    name = StringField(COLUMNS["name"], render_kw={"maxlength": 120})
    id_number = StringField(COLUMNS["id_number"], render_kw={"autocomplete": "off", "spellcheck": "false"})
    phone = StringField(COLUMNS["phone"], render_kw={"inputmode": "tel", "autocomplete": "off"})
    amount_claimed = StringField(COLUMNS["amount_claimed"], render_kw={"inputmode": "decimal"})

    def is_blank(self) -> bool:
        """True when nothing was typed into the row."""
        return all(not (self[f].data or "").strip() for f in coll.MEMBER_FIELDS)


class MembersForm(FlaskForm):  # type: ignore[misc]
    """The list of a group's workers and its representative."""

    version = IntegerField(widget=HiddenInput())
    representative = StringField(
        _l("Elected representative"), render_kw={"maxlength": 120},
        description=_l("Signs for the group on the documents (Labour Dispute Mediation and Arbitration Law, Art. 7)."),
    )
    members = FieldList(FormField(MemberRow), min_entries=1, max_entries=coll.MAX_MEMBERS + BLANK_ROWS)

    def used_rows(self) -> list[Any]:
        """The rows something was typed into, in order."""
        return [e for e in self.members.entries if not e.form.is_blank()]

    def field_name(self, key: str) -> str | None:
        """The input of a domain error key (``members.2.id_number`` → ``members-1-id_number``)."""
        parts = key.split(".")
        if parts[0] == "members" and len(parts) == 3:
            rows = self.used_rows()
            try:
                entry = rows[int(parts[1]) - 1]
            except (ValueError, IndexError):
                return None
            return str(entry.form[parts[2]].name) if parts[2] in entry.form else str(entry.name)
        return key if key in ("representative",) else None


class ImportForm(FlaskForm):  # type: ignore[misc]
    """An XLSX sheet with the workers."""

    version = IntegerField(widget=HiddenInput())
    sheet = FileField(_l("Excel sheet (XLSX)"), render_kw={"accept": ".xlsx"})


class ScheduleForm(FlaskForm):  # type: ignore[misc]
    """A payment schedule per worker: who pays what, by when (amounts and dates per worker come as ``amount-<n>``)."""

    version = IntegerField(widget=HiddenInput())
    obligor = SelectField(_l("Who pays"), validate_choice=False)
    what = StringField(_l("For"), default="拖欠工资", render_kw={"maxlength": 200},
                       description=_l("e.g. 2025年10月至12月工资; the term reads “向 <worker> 支付 …”."))
    due_on = StringField(_l("Due by (unless a worker's row says otherwise)"), render_kw={"type": "date"})


class PerformanceForm(FlaskForm):  # type: ignore[misc]
    """Only the case version (and CSRF)."""

    version = IntegerField(widget=HiddenInput())


# --- the case page's panel -------------------------------------------------------------------

def case_panel(session: Session, detail: CaseDetail) -> list[dict[str, Any]]:
    """A line per group party under the parties table: how many workers are listed, and the link."""
    case = session.get(Case, detail.id)
    if case is None:
        return []
    return [
        {"ref": p.ref, "name": p.name, "size": p.size, "listed": len(p.members),
         "url": url_for("collective.group", case_id=case.id, ref=p.ref)}
        for p in coll.group_parties(case)
    ]


# --- helpers ----------------------------------------------------------------------------------

def _load(session: Session, case_id: int, ref: str) -> tuple[Case, Party]:
    try:
        case = queries.visible_case(session, current(), case_id)
    except NotFound:
        abort(404)
    party = next((p for p in case.parties if p.ref == ref and p.kind is PartyKind.GROUP), None)
    if party is None:
        abort(404)
    return case, party


def _may(case: Case, trigger: str) -> bool:
    svc = mediation()
    definition = svc.registry.get(case.workflow, case.workflow_version)
    return trigger in svc.engine.available(definition, case) and policy.can(current(), trigger, case, definition)


def _members_form(case: Case, party: Party, whole: bool) -> MembersForm:
    rows = [
        {"was": str(m.position), "name": m.name,
         "id_number": m.id_number if whole else mask_id_number(m.id_number),
         "phone": (m.phone or "") if whole else mask_phone(m.phone),
         "amount_claimed": str(m.amount_claimed) if m.amount_claimed is not None else ""}
        for m in party.members
    ]
    rows += [{} for _ in range(BLANK_ROWS)]
    return MembersForm(formdata=None, data={"version": case.version, "representative": party.representative or "",
                                            "members": rows})


def _schedule_form(case: Case, party: Party) -> ScheduleForm:
    form = ScheduleForm(formdata=None, data={"version": case.version})
    _schedule_choices(form, case, party)
    return form


def _schedule_choices(form: ScheduleForm, case: Case, party: Party) -> None:
    form.obligor.choices = [SelectChoice(p.ref, p.name) for p in case.parties if p.id != party.id]


def _render(
    case: Case,
    party: Party,
    *,
    members_form: MembersForm | None = None,
    schedule_form: ScheduleForm | None = None,
    errors: dict[str, str] | None = None,
    general: list[str] | None = None,
    problems: list[str] | None = None,
    schedule_errors: dict[str, str] | None = None,
    alert: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    user = current()
    svc = mediation()
    definition = svc.registry.get(case.workflow, case.workflow_version)
    whole = policy.can(user, "view_particulars", case, definition)
    view = coll.group_view(case, party.ref, whole, local_date(now()))
    may_edit = _may(case, "record_group_members")
    may_schedule = _may(case, "draft_agreement") and bool(party.members)
    open_terms = {seq for seq, _text in queries.open_terms(case)}
    return render_template(
        "collective/group.html",
        case=case,
        group=view,
        whole=whole,
        may_edit=may_edit,
        may_schedule=may_schedule,
        may_perform=_may(case, "record_performance"),
        open_terms=open_terms,
        members_form=(members_form or _members_form(case, party, whole)) if may_edit else None,
        row_template=MemberRow(prefix="members-__index__-"),
        import_form=ImportForm(formdata=None, data={"version": case.version}) if may_edit else None,
        schedule_form=(schedule_form or _schedule_form(case, party)) if may_schedule else None,
        perform_form=PerformanceForm(formdata=None, data={"version": case.version}),
        errors=errors or {},
        general_errors=general or [],
        problems=problems or [],
        schedule_errors=schedule_errors or {},
        alert=alert,
        columns=COLUMNS,
    ), status


def _refused(exc: Exception, case_id: int, ref: str) -> ResponseReturnValue:
    if isinstance(exc, PermissionDenied):
        abort(403)
    if isinstance(exc, NotFound):
        abort(404)
    flash(_("Someone else changed this case while you were working on it. Nothing was saved."), "error")
    return redirect(url_for("collective.group", case_id=case_id, ref=ref))


# --- pages --------------------------------------------------------------------------------------

@bp.get("/cases/<int:case_id>/groups/<ref>")
def group(case_id: int, ref: str) -> ResponseReturnValue:
    """The group party: its workers, what each is owed and has been paid, the forms to change that."""
    with mediation().uow() as uow:
        case, party = _load(uow.session, case_id, ref)
        return _render(case, party)


def _kept_ids(party: Party, form: MembersForm) -> list[dict[str, Any]]:
    """The rows as the domain takes them; a masked ID number or phone left as shown keeps the worker's own."""
    by_position = {m.position: m for m in party.members}
    rows = []
    for entry in form.used_rows():
        row = {f: (entry.form[f].data or "").strip() for f in coll.MEMBER_FIELDS}
        try:
            was = by_position.get(int(entry.form.was.data or 0))
        except ValueError:
            was = None
        if was is not None:
            if "*" in row["id_number"] and row["id_number"] == mask_id_number(was.id_number):
                row["id_number"] = was.id_number
            if "*" in row["phone"] and row["phone"] == mask_phone(was.phone):
                row["phone"] = was.phone or ""
        rows.append(row)
    return rows


@bp.post("/cases/<int:case_id>/groups/<ref>/members")
def save_members(case_id: int, ref: str) -> ResponseReturnValue:
    """Save the list of workers typed into the form (nothing is saved when a row is wrong)."""
    with mediation().uow() as uow:
        case, party = _load(uow.session, case_id, ref)
        if not _may(case, "record_group_members"):
            abort(403)
        form = MembersForm()
        if not form.validate_on_submit():
            return _render(case, party, members_form=form, errors=forms.form_errors(form),
                           alert=_("The form was incomplete. Reload the page and try again."), status=400)
        data = {"party": ref, "members": _kept_ids(party, form), "representative": form.representative.data}
        try:
            services.fire(uow, case_id, "record_group_members", current().id, data,
                          expected_version=form.version.data, now=now())
        except ValidationError as exc:
            errors, general = forms.map_errors(exc.errors, form.field_name)
            uow.session.rollback()
            case, party = _load(uow.session, case_id, ref)
            return _render(case, party, members_form=form, errors=errors, general=general,
                           alert=_("Nothing was saved: correct the fields marked below."), status=400)
        except (ConflictError, InvalidTransition, PermissionDenied, NotFound) as exc:
            return _refused(exc, case_id, ref)
    flash(_("The list of workers was saved."), "success")
    return redirect(url_for("collective.group", case_id=case_id, ref=ref))


@bp.post("/cases/<int:case_id>/groups/<ref>/import")
@accepts_upload
def import_sheet(case_id: int, ref: str) -> ResponseReturnValue:
    """Replace the list of workers with the rows of an XLSX sheet; every problem is listed by row and column."""
    with mediation().uow() as uow:
        case, party = _load(uow.session, case_id, ref)
        if not _may(case, "record_group_members"):
            abort(403)
        form = ImportForm()
        if not form.validate_on_submit() or form.sheet.data is None or not form.sheet.data.filename:
            return _render(case, party, alert=_("Choose an Excel (XLSX) file to import."), status=400)
        content = read_upload(form.sheet.data)
        try:
            rows = coll.read_members_xlsx(content)
        except coll.ImportProblems as exc:
            return _render(case, party, problems=[_describe(p) for p in exc.problems],
                           alert=_("Nothing was imported: the sheet has the problems listed below."), status=400)
        data = {"party": ref, "members": rows, "source": f"XLSX: {form.sheet.data.filename}"[:255]}
        try:
            services.fire(uow, case_id, "record_group_members", current().id, data,
                          expected_version=form.version.data, now=now())
        except ValidationError as exc:
            uow.session.rollback()
            case, party = _load(uow.session, case_id, ref)
            problems = [f"{labels.FIELDS.get(k.split('.')[0], k)}: {_(m)}" for k, m in exc.errors.items()]
            return _render(case, party, problems=problems,
                           alert=_("Nothing was imported: the sheet has the problems listed below."), status=400)
        except (ConflictError, InvalidTransition, PermissionDenied, NotFound) as exc:
            return _refused(exc, case_id, ref)
    flash(_("%(n)d workers were imported.", n=len(rows)), "success")
    return redirect(url_for("collective.group", case_id=case_id, ref=ref))


def _describe(problem: coll.Problem) -> str:
    """``Row 7, column ID number: The ID number's check character is wrong`` in the current language."""
    message = str(_(problem.message))
    if problem.row and problem.field:
        return str(_("Row %(row)d, column %(column)s: %(message)s", row=problem.row,
                     column=COLUMNS[problem.field], message=message))
    if problem.row:
        return str(_("Row %(row)d: %(message)s", row=problem.row, message=message))
    return message


@bp.get("/collective/workers-template.xlsx")
def template() -> ResponseReturnValue:
    """An empty XLSX sheet with the headings the import reads."""
    import io

    return send_file(
        io.BytesIO(coll.template_xlsx()), as_attachment=True, download_name="集体成员名单模板.xlsx",
        mimetype=coll.XLSX_MIME,
    )


@bp.post("/cases/<int:case_id>/groups/<ref>/schedule")
def schedule(case_id: int, ref: str) -> ResponseReturnValue:
    """Draft the agreement with one term per worker (amount and due date each); other terms of the draft stay."""
    with mediation().uow() as uow:
        case, party = _load(uow.session, case_id, ref)
        if not _may(case, "draft_agreement"):
            abort(403)
        form = ScheduleForm()
        _schedule_choices(form, case, party)
        errors: dict[str, str] = {}
        if not form.validate_on_submit():
            return _render(case, party, schedule_form=form, schedule_errors=forms.form_errors(form),
                           alert=_("The form was incomplete. Reload the page and try again."), status=400)
        rows: dict[int, tuple[Decimal | None, Any]] = {}
        for member in party.members:
            amount_raw = request.form.get(f"amount-{member.position}", "")
            due_raw = request.form.get(f"due-{member.position}", "")
            amount = due = None
            try:
                amount = parse_amount(amount_raw)
            except ValueError as exc:
                errors[f"amount-{member.position}"] = _(str(exc))
            try:
                due = parse_date(due_raw)
            except ValueError as exc:
                errors[f"due-{member.position}"] = _(str(exc))
            rows[member.position] = (amount, due)
        try:
            default_due = parse_date(form.due_on.data)
        except ValueError as exc:
            errors["due_on"] = _(str(exc))
            default_due = None
        what = (form.what.data or "").strip()
        if not what:
            errors["what"] = _("This field is required.")
        if errors:
            return _render(case, party, schedule_form=form, schedule_errors=errors,
                           alert=_("Nothing was saved: correct the fields marked below."), status=400)
        terms = coll.payment_terms(case, ref, form.obligor.data, what, default_due, rows)
        try:
            services.fire(uow, case_id, "draft_agreement", current().id, {"terms": terms},
                          expected_version=form.version.data, now=now())
        except ValidationError as exc:
            positions = [m.position for m in party.members]
            mapped, general = forms.map_errors(exc.errors, lambda key: _schedule_field(key, positions))
            uow.session.rollback()
            case, party = _load(uow.session, case_id, ref)
            return _render(case, party, schedule_form=form, schedule_errors=mapped, general=general,
                           alert=_("Nothing was saved: correct the fields marked below."), status=400)
        except (ConflictError, InvalidTransition, PermissionDenied, NotFound) as exc:
            return _refused(exc, case_id, ref)
    flash(_("The agreement was drafted with a payment term for each worker."), "success")
    return redirect(url_for("cases.detail", case_id=case_id))


def _schedule_field(key: str, positions: list[int]) -> str | None:
    """``terms.3.amount`` → ``amount-<position of the third worker>``; ``terms.N.obligor`` → ``obligor``."""
    parts = key.split(".")
    if parts[0] != "terms" or len(parts) != 3:
        return None
    if parts[2] == "obligor":
        return "obligor"
    try:
        position = positions[int(parts[1]) - 1]
    except (ValueError, IndexError):
        return None
    return {"amount": f"amount-{position}", "due_on": f"due-{position}"}.get(parts[2])


@bp.post("/cases/<int:case_id>/groups/<ref>/performance/<int:seq>")
def perform(case_id: int, ref: str, seq: int) -> ResponseReturnValue:
    """Record that one worker's term was performed (paid)."""
    with mediation().uow() as uow:
        case, _party = _load(uow.session, case_id, ref)
        if not _may(case, "record_performance"):
            abort(403)
        form = PerformanceForm()
        if not form.validate_on_submit():
            abort(400)
        try:
            services.fire(uow, case_id, "record_performance", current().id, {"term": seq},
                          expected_version=form.version.data, now=now())
        except ValidationError as exc:
            flash(" ".join(_(m) for m in exc.errors.values()), "error")
            return redirect(url_for("collective.group", case_id=case_id, ref=ref))
        except (ConflictError, InvalidTransition, PermissionDenied, NotFound) as exc:
            return _refused(exc, case_id, ref)
    flash(_("Payment recorded for term %(n)d.", n=seq), "success")
    return redirect(url_for("collective.group", case_id=case_id, ref=ref, _anchor=f"term-{seq}"))
