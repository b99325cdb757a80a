"""Cases: my queue, the ledger, filing, the case page, its actions and documents (案件)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session
from wtforms.fields.choices import SelectChoice

from mediation import archive, policy, queries, services
from mediation.documents import document_title
from mediation.enums import IntakeSource, Role
from mediation.errors import ConflictError, InvalidTransition, NotFound, PermissionDenied, ValidationError
from mediation.queries import CaseDetail
from mediation.services import UnitOfWork
from mediation.workflow import Label

from . import forms, labels, renders
from . import ledger as ledger_views
from .auth import current
from .extensions import login_manager, mediation, now

bp = Blueprint("cases", __name__)
#: Actions the case page offers in a panel of their own (web.meetings, .evidence, .collective), not in the side bar.
PANEL_TRIGGERS = frozenset({"attach", "cancel_session", "record_group_members"})
audit_log = logging.getLogger("mediation.audit")


@bp.before_request
def _require_login() -> ResponseReturnValue | None:
    """Every page here needs a logged-in user; others go to the log-in page (and come back)."""
    if not current_user.is_authenticated:
        response: ResponseReturnValue = login_manager.unauthorized()
        return response
    return None


@bp.get("/")
def my_cases() -> ResponseReturnValue:
    """The user's queue: sections by what the role does next (an administrator goes to administration)."""
    if policy.can(current(), "administer") and not policy.can(current(), "view_queue"):
        return redirect(url_for("admin.index"))
    if not policy.can(current(), "view_queue"):
        abort(403)
    svc = mediation()
    with svc.uow() as uow:
        queue = queries.my_cases(uow.session, svc.registry, current(), now())
    return render_template("cases/my_cases.html", queue=queue, may_file=policy.can(current(), "file"))


@bp.get("/ledger")
def ledger() -> ResponseReturnValue:
    """The ledger (台账): every case the user may see, filtered, searched, sorted, paged (``web.ledger``)."""
    return ledger_views.page()


@bp.route("/cases/new", methods=["GET", "POST"])
def file_case() -> ResponseReturnValue:
    """The filing form; on success the new case's page, with its number."""
    user = current()
    if not policy.can(user, "file"):
        abort(403)
    svc = mediation()
    fixed_enterprise = user.enterprise_id if user.role in policy.ENTERPRISE_BOUND else None
    # An enterprise liaison's filings are always "reported by the enterprise liaison" (the service says so too).
    fixed_source = IntakeSource.ENTERPRISE_LIAISON.value if user.role is Role.ENTERPRISE_LIAISON else None
    errors: dict[str, str] = {}
    general: list[str] = []
    status = 200
    with svc.uow() as uow:
        form = forms.FilingForm()
        form.set_choices(
            svc.registry, queries.enterprises(uow.session, user.organisation_id),
            queries.areas(uow.session, user.organisation_id),
        )
        if request.method == "GET":
            form.preset_rows()
        elif form.validate_on_submit():
            try:
                filed = services.file_case(uow, user.id, form.to_filing(fixed_enterprise, fixed_source), now=now())
            except ValidationError as exc:
                errors, general = forms.map_errors(exc.errors, form.field_name)
                status = 400
            except PermissionDenied:
                abort(403)
            else:
                flash(_("Case %(number)s filed.", number=filed.number), "success")
                return redirect(url_for("cases.detail", case_id=filed.case_id))
        else:
            errors = forms.form_errors(form)
            status = 400
    return render_template(
        "cases/file.html",
        form=form,
        errors=errors,
        general_errors=general,
        row_template=forms.party_row_template(),
        fixed_enterprise=user.enterprise.name if fixed_enterprise is not None and user.enterprise else None,
        fixed_source=fixed_source,
    ), status


def _action_forms(detail: CaseDetail, bound: forms.ActionForm | None = None) -> dict[str, forms.ActionForm]:
    """A form for every action the user may take now; ``bound`` replaces the blank one of its trigger."""
    out: dict[str, forms.ActionForm] = {}
    for trigger in detail.actions:
        if trigger in PANEL_TRIGGERS:
            continue
        if bound is not None and bound.trigger == trigger:
            out[trigger] = bound
            continue
        out[trigger] = forms.action_form(
            detail.definition.triggers[trigger], version=detail.version, parties=detail.party_choices(),
            open_terms=detail.open_terms, defaults=detail.offers.get(trigger),
        )
    return out


def _render_case(
    detail: CaseDetail,
    *,
    bound: forms.ActionForm | None = None,
    errors: dict[str, str] | None = None,
    general_errors: list[str] | None = None,
    alert: str | None = None,
    failed: str | None = None,
    panels: dict[str, Any] | None = None,
) -> str:
    if detail.particulars_visible and any(p.id_number or p.phone for p in detail.parties):
        audit_log.info("user %s viewed the particulars of case %s", current().id, detail.id)
    return render_template(
        "cases/detail.html",
        case=detail,
        action_forms=_action_forms(detail, bound),
        failed=failed or (bound.trigger if bound is not None else None),
        kept_form=bound is not None,
        errors=errors or {},
        general_errors=general_errors or [],
        alert=alert,
        term_template=forms.term_row_template(detail.party_choices()),
        assign_form=_assign_form(detail),
        panels=panels or {},
    )


def case_panels(session: Session, detail: CaseDetail) -> dict[str, Any]:
    """What the meetings, evidence and group panels of the case page show, read in the page's transaction."""
    from . import collective, evidence, meetings

    return {
        "meetings": meetings.case_panel(session, detail),
        "evidence": evidence.case_panel(session, detail),
        "groups": collective.case_panel(session, detail),
    }


def _assign_form(detail: CaseDetail) -> forms.AssignForm | None:
    """The form giving the case to a mediator, when the user may assign it."""
    if not detail.assignees:
        return None
    current_mediator = str(detail.assigned_to_id or "")
    form = forms.AssignForm(formdata=None, data={"version": detail.version, "assignee": current_mediator})
    form.assignee.choices = [SelectChoice("", _("— nobody —"))] + [
        SelectChoice(str(uid), f"{name} · {labels.label('role', role)}") for uid, name, role in detail.assignees
    ]
    return form


@bp.get("/cases/<int:case_id>")
def detail(case_id: int) -> ResponseReturnValue:
    """The case page: particulars, clocks, agreement, sessions, timeline, documents, actions."""
    svc = mediation()
    with svc.uow() as uow:
        try:
            case = queries.case_detail(uow.session, svc.registry, svc.engine, current(), case_id, now())
        except NotFound:
            abort(404)
        panels = case_panels(uow.session, case)
    return _render_case(case, panels=panels)


@dataclass
class _Refused:
    """Why an action was not taken: the status, the message on top, the errors by input."""

    status: int
    alert: str
    errors: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    keep_form: bool = True


def _fire(uow: UnitOfWork, case_id: int, trigger: str, form: forms.ActionForm) -> services.Fired | _Refused:
    """Fire ``trigger`` with the form's data, or say why not (403 and 404 abort)."""
    if not form.validate_on_submit():
        return _Refused(400, _("The form was incomplete. Reload the case and try again."), forms.form_errors(form))
    try:
        return services.fire(
            uow, case_id, trigger, current().id, forms.action_data(form),
            expected_version=form.version.data, now=now(),
        )
    except ValidationError as exc:
        errors, general = forms.map_errors(exc.errors, lambda key: forms.action_field_name(form, key))
        return _Refused(400, _("Nothing was saved: correct the fields marked below."), errors, general)
    except ConflictError:
        return _Refused(
            409,
            _("Someone else changed this case while you were working on it. "
              "Nothing was saved: the page below shows the case as it is now; check it and try again."),
            keep_form=False,
        )
    except InvalidTransition:
        return _Refused(
            409, _("This action is not possible in the case's current state. Nothing was saved."), keep_form=False
        )
    except PermissionDenied:
        abort(403)
    except NotFound:
        abort(404)


@bp.post("/cases/<int:case_id>/actions/<trigger>")
def act(case_id: int, trigger: str) -> ResponseReturnValue:
    """Fire one action on the case from its form (the case version guards against lost updates)."""
    user = current()
    svc = mediation()
    with svc.uow() as uow:
        try:
            case = queries.visible_case(uow.session, user, case_id)
        except NotFound:
            abort(404)
        definition = svc.registry.get(case.workflow, case.workflow_version)
        spec = definition.triggers.get(trigger)
        if spec is None:
            abort(404)
        if not policy.can(user, trigger, case, definition):
            abort(403)
        form = forms.action_form(
            spec, version=case.version, parties=queries.party_choices(case), open_terms=queries.open_terms(case),
            bind=True,
        )
        outcome = _fire(uow, case_id, trigger, form)
        if isinstance(outcome, services.Fired):
            _flash_fired(outcome, spec.label)
            return redirect(url_for("cases.detail", case_id=case_id))
        page = _rerender(uow, case_id, trigger, form if outcome.keep_form else None, outcome)
    return page, outcome.status


def _rerender(
    uow: UnitOfWork, case_id: int, trigger: str, form: forms.ActionForm | None, refused: _Refused
) -> str:
    """The case page as it is now, after a refused action (its form kept when it had input errors)."""
    svc = mediation()
    uow.session.rollback()  # nothing of the refused action stays; everything is read afresh
    detail = queries.case_detail(uow.session, svc.registry, svc.engine, current(), case_id, now())
    if form is not None and form.trigger not in detail.actions:
        form = None
    return _render_case(
        detail, bound=form, errors=refused.errors, general_errors=refused.general, alert=refused.alert,
        failed=trigger, panels=case_panels(uow.session, detail),
    )


@bp.post("/cases/<int:case_id>/assign")
def assign(case_id: int) -> ResponseReturnValue:
    """Give the case to a mediator, or take it back (an event on its timeline)."""
    user = current()
    svc = mediation()
    form = forms.AssignForm()
    with svc.uow() as uow:
        try:
            case = queries.visible_case(uow.session, user, case_id)
        except NotFound:
            abort(404)
        definition = svc.registry.get(case.workflow, case.workflow_version)
        if not policy.can(user, "assign", case, definition):
            abort(403)
        if not form.validate_on_submit():
            refused = _Refused(400, _("The form was incomplete. Reload the case and try again."), keep_form=False)
            return _rerender(uow, case_id, "assign", None, refused), 400
        raw = (form.assignee.data or "").strip()
        try:
            assignee = int(raw) if raw else None
        except ValueError:
            assignee = -1
        try:
            done = services.assign_case(uow, case_id, assignee, user.id, form.version.data, now=now())
        except ValidationError as exc:
            message = " ".join(_(m) for m in exc.errors.values())
            return _rerender(uow, case_id, "assign", None, _Refused(400, message, keep_form=False)), 400
        except ConflictError:
            refused = _Refused(
                409,
                _("Someone else changed this case while you were working on it. "
                  "Nothing was saved: the page below shows the case as it is now; check it and try again."),
                keep_form=False,
            )
            return _rerender(uow, case_id, "assign", None, refused), 409
        except PermissionDenied:
            abort(403)
        except NotFound:
            abort(404)
    if done.assignee_id is None:
        flash(_("The case has no mediator now."), "success")
    else:
        flash(_("The case is assigned."), "success")
    return redirect(url_for("cases.detail", case_id=case_id))


def _flash_fired(fired: services.Fired, label: Label) -> None:
    """Say what was done, and which documents it issued."""
    locale = labels.locale_key()
    message = _("Done: %(action)s.", action=labels.pick(label))
    if fired.documents:
        titles = ("、" if locale == "zh_CN" else ", ").join(document_title(k, locale) for k in fired.documents)
        message += " " + _("Issued: %(documents)s.", documents=titles)
    flash(message, "success")


@bp.get("/cases/<int:case_id>/documents/<int:document_id>.pdf")
def document(case_id: int, document_id: int) -> ResponseReturnValue:
    """The PDF of an issued document, as an attachment named after the case and the document.

    A long document (the dossier) not yet in the cache is rendered in the background: the answer
    is then a redirect to its progress page (``web.renders``).
    """
    svc = mediation()
    with svc.reader() as uow:
        try:
            doc, case = queries.visible_document(uow.session, current(), case_id, document_id)
        except NotFound:
            abort(404)
        filename = archive.document_filename(doc, case.number)
        uow.session.expunge(doc)  # keep its loaded context when the transaction ends
    waiting = renders.waiting_page(doc, case_id)
    if waiting is not None:
        return waiting
    # Rendered (or read from the cache) after the transaction: the stored context is all it needs.
    return renders.send_pdf(doc, filename)
