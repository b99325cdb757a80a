"""Meetings and visits (调解会、上门): record a scheduled session's minutes, cancel it, the calendar.

Scheduling is the ``schedule_session`` action of the case page; a scheduled session is
recorded later here through ``record_session`` with its ``session_id`` (the minutes of
DOMAIN R29), or cancelled through ``cancel_session``. The calendar shows the coming
sessions of the cases the user may see, per mediator, a week at a time or as a list.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import HiddenInput

from mediation import meetings as meetings_q
from mediation import policy, queries, services
from mediation.clocks import SHANGHAI, local_date
from mediation.enums import Role, SessionStatus
from mediation.errors import ConflictError, InvalidTransition, NotFound, PermissionDenied, ValidationError
from mediation.models import Case, MediationSession
from mediation.queries import CaseDetail

from . import forms, labels
from .auth import current
from .extensions import login_manager, mediation, now

bp = Blueprint("meetings", __name__)
#: Roles whose calendar shows their own sessions first (they lead sessions themselves).
MEDIATOR_ROLES = frozenset({
    Role.DEPARTMENT_HEAD, Role.LIAISON_OFFICER, Role.COMMUNITY_OFFICER, Role.VOLUNTEER_MEDIATOR, Role.TOWNSHIP_OFFICER,
})
#: Weeks the list view of the calendar covers.
LIST_WEEKS = 4


@bp.before_request
def _require_login() -> ResponseReturnValue | None:
    """Every page here needs a logged-in user."""
    if not current_user.is_authenticated:
        response: ResponseReturnValue = login_manager.unauthorized()
        return response
    return None


@bp.app_template_filter("isotime")
def isotime(value: Any) -> str:
    """``2026-03-02 09:00`` (Asia/Shanghai) from an instant or its stored ISO text; other text as it is."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value.tzinfo else value.isoformat(" ")
    return "" if value is None else str(value)


# --- forms ------------------------------------------------------------------------------

class RecordMinutesForm(FlaskForm):  # type: ignore[misc]
    """The minutes of a scheduled session (调解记录, DOMAIN R29)."""

    version = IntegerField(widget=HiddenInput())
    held_at = StringField(
        labels.FIELDS["held_at"], render_kw={"type": "datetime-local"},
        description=_l("Beijing time; empty: the scheduled time, or now if that has not come yet"),
    )
    mode = SelectField(labels.FIELDS["mode"], choices=forms.vocabulary("mode"), validate_choice=False)
    place = StringField(labels.FIELDS["place"], render_kw={"maxlength": 200})
    participants = forms.MultiCheckboxField(labels.FIELDS["participants"], validate_choice=False)
    participants_other = StringField(
        labels.FIELDS["participants_other"], description=_l("Names separated by commas, e.g. 社区干部王某, 物业经理")
    )
    public = BooleanField(labels.FIELDS["public"])
    rights_explained = BooleanField(labels.FIELDS["rights_explained"], default=True)
    minutes = TextAreaField(
        _l("Statements of the parties"), render_kw={"rows": 6},
        description=_l("What each party said, and what the mediator proposed."),
    )
    verification = TextAreaField(labels.FIELDS["verification"], render_kw={"rows": 3})
    result = TextAreaField(
        labels.FIELDS["result"], render_kw={"rows": 3},
        description=_l(
            "An agreement reached, or why not and which channels (arbitration, court …) the parties were told of."
        ),
    )

    def to_data(self, session_id: int) -> dict[str, Any]:
        """``record_session`` data for the scheduled session ``session_id``."""
        others = forms.NAME_SEPARATORS.split(self.participants_other.data or "")
        return {
            "session_id": session_id,
            "held_at": (self.held_at.data or "").strip() or None,
            "mode": self.mode.data,
            "place": self.place.data,
            "participants": list(self.participants.data or []) + [o.strip() for o in others if o.strip()],
            "public": bool(self.public.data),
            "rights_explained": bool(self.rights_explained.data),
            "minutes": self.minutes.data,
            "verification": self.verification.data,
            "result": self.result.data,
        }


class CancelSessionForm(FlaskForm):  # type: ignore[misc]
    """Why a scheduled session is called off."""

    version = IntegerField(widget=HiddenInput())
    reason = TextAreaField(labels.FIELDS["reason"], render_kw={"rows": 2})


class CalendarFilterForm(FlaskForm):  # type: ignore[misc]
    """Whose sessions the calendar shows, from which week, as a week or a list (GET, no CSRF)."""

    class Meta:
        csrf = False

    mediator = SelectField(_l("Mediator"), validate_choice=False)
    start = HiddenField()
    view = HiddenField()


# --- the case page's panel ---------------------------------------------------------------

def case_panel(session: Session, detail: CaseDetail) -> dict[str, Any] | None:
    """The scheduled sessions of the case and what the user may do with them; ``None`` when there is nothing to show."""
    case = session.get(Case, detail.id)
    if case is None:
        return None
    planned = meetings_q.planned_sessions(session, case, now())
    may_schedule = "schedule_session" in detail.actions
    if not planned and not may_schedule:
        return None
    return {
        "planned": planned,
        "may_schedule": may_schedule,
        "may_record": "record_session" in detail.actions,
        "may_cancel": "cancel_session" in detail.actions,
    }


# --- recording and cancelling a scheduled session ----------------------------------------

def _scheduled(session: Session, case_id: int, session_id: int) -> tuple[Case, MediationSession]:
    """The case (visible to the user) and its session ``session_id``; 404 otherwise."""
    try:
        case = queries.visible_case(session, current(), case_id)
    except NotFound:
        abort(404)
    row = session.get(MediationSession, session_id)
    if row is None or row.case_id != case.id:
        abort(404)
    return case, row


def _allowed(case: Case, trigger: str) -> bool:
    svc = mediation()
    definition = svc.registry.get(case.workflow, case.workflow_version)
    return trigger in svc.engine.available(definition, case) and policy.can(current(), trigger, case, definition)


def _participant_choices(case: Case) -> list[SelectChoice]:
    return [SelectChoice(p.ref, p.name) for p in case.parties]


def _prefill(row: MediationSession, case: Case) -> dict[str, Any]:
    refs = {p.ref for p in case.parties}
    parties = [p["party"] for p in row.participants if p.get("party") in refs]
    others = [p.get("name", "") for p in row.participants if "name" in p]
    planned = row.scheduled_for
    return {
        "version": case.version,
        # the scheduled time once it has come; before that, empty (now)
        "held_at": planned.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M") if planned and planned <= now() else "",
        "mode": row.mode.value,
        "place": row.place or "",
        "participants": parties,
        "participants_other": "，".join(o for o in others if o),
        "public": row.public,
        "rights_explained": True,
    }


def _render_record(
    case: Case,
    row: MediationSession,
    form: RecordMinutesForm,
    cancel_form: CancelSessionForm,
    *,
    errors: dict[str, str] | None = None,
    general: list[str] | None = None,
    cancel_errors: dict[str, str] | None = None,
    alert: str | None = None,
) -> str:
    names = {p.ref: p.name for p in case.parties}
    return render_template(
        "meetings/record.html",
        case=case,
        row=row,
        participants=[names.get(p.get("party", ""), p.get("party", "")) if "party" in p else p.get("name", "")
                      for p in row.participants],
        form=form,
        cancel_form=cancel_form,
        errors=errors or {},
        general_errors=general or [],
        cancel_errors=cancel_errors or {},
        alert=alert,
        may_record=_allowed(case, "record_session"),
        may_cancel=_allowed(case, "cancel_session"),
    )


@bp.route("/cases/<int:case_id>/sessions/<int:session_id>", methods=["GET", "POST"])
def record(case_id: int, session_id: int) -> ResponseReturnValue:
    """A scheduled session: its plan, the form for its minutes, and the form to call it off."""
    svc = mediation()
    with svc.uow() as uow:
        case, row = _scheduled(uow.session, case_id, session_id)
        if row.status is not SessionStatus.SCHEDULED:
            flash(_("This session is no longer scheduled: it was held or cancelled."), "info")
            return redirect(url_for("cases.detail", case_id=case_id))
        if request.method == "GET":
            form = RecordMinutesForm(formdata=None, data=_prefill(row, case))
            form.participants.choices = _participant_choices(case)
            cancel_form = CancelSessionForm(formdata=None, data={"version": case.version})
            return _render_record(case, row, form, cancel_form)
        if not _allowed(case, "record_session"):
            abort(403)
        form = RecordMinutesForm()
        form.participants.choices = _participant_choices(case)
        cancel_form = CancelSessionForm(formdata=None, data={"version": case.version})
        if not form.validate_on_submit():
            return _render_record(case, row, form, cancel_form, errors=forms.form_errors(form),
                                  alert=_("The form was incomplete. Reload the page and try again.")), 400
        try:
            services.fire(uow, case_id, "record_session", current().id, form.to_data(session_id),
                          expected_version=form.version.data, now=now())
        except ValidationError as exc:
            errors, general = forms.map_errors(exc.errors, lambda key: key if key in form else None)
            uow.session.rollback()
            case, row = _scheduled(uow.session, case_id, session_id)
            return _render_record(case, row, form, cancel_form, errors=errors, general=general,
                                  alert=_("Nothing was saved: correct the fields marked below.")), 400
        except (ConflictError, InvalidTransition):
            flash(_("Someone else changed this case while you were working on it. Nothing was saved."), "error")
            return redirect(url_for("cases.detail", case_id=case_id))
        except PermissionDenied:
            abort(403)
        except NotFound:
            abort(404)
    flash(_("The minutes of the session were recorded."), "success")
    return redirect(url_for("cases.detail", case_id=case_id))


@bp.post("/cases/<int:case_id>/sessions/<int:session_id>/cancel")
def cancel(case_id: int, session_id: int) -> ResponseReturnValue:
    """Call off a scheduled session, with the reason (an event on the timeline)."""
    svc = mediation()
    with svc.uow() as uow:
        case, row = _scheduled(uow.session, case_id, session_id)
        if not _allowed(case, "cancel_session"):
            abort(403)
        cancel_form = CancelSessionForm()
        if cancel_form.validate_on_submit():
            try:
                services.fire(uow, case_id, "cancel_session", current().id,
                              {"session_id": session_id, "reason": cancel_form.reason.data},
                              expected_version=cancel_form.version.data, now=now())
            except ValidationError as exc:
                errors, general = forms.map_errors(exc.errors, lambda key: key if key in cancel_form else None)
                uow.session.rollback()
                case, row = _scheduled(uow.session, case_id, session_id)
                form = RecordMinutesForm(formdata=None, data=_prefill(row, case))
                form.participants.choices = _participant_choices(case)
                return _render_record(case, row, form, cancel_form, cancel_errors=errors, general=general,
                                      alert=_("Nothing was saved: correct the fields marked below.")), 400
            except (ConflictError, InvalidTransition):
                flash(_("Someone else changed this case while you were working on it. Nothing was saved."), "error")
                return redirect(url_for("cases.detail", case_id=case_id))
            except PermissionDenied:
                abort(403)
            except NotFound:
                abort(404)
            flash(_("The session was cancelled."), "success")
            return redirect(url_for("cases.detail", case_id=case_id))
    abort(400)


# --- the calendar ---------------------------------------------------------------------------

def _start(raw: str | None, today: date) -> date:
    try:
        day = date.fromisoformat(raw) if raw else today
    except ValueError:
        day = today
    return meetings_q.week_start(day)


@bp.get("/calendar")
def calendar() -> ResponseReturnValue:
    """The sessions of the cases the user may see: a week (Monday to Sunday, Beijing time) or a list of four weeks."""
    user = current()
    form = CalendarFilterForm(request.args)
    today = local_date(now())
    start = _start(form.start.data, today)
    view = "list" if form.view.data == "list" else "week"
    end = start + timedelta(days=7 * (LIST_WEEKS if view == "list" else 1))
    chosen = form.mediator.data or ("me" if user.role in MEDIATOR_ROLES else "all")
    mediator_id: int | None = None
    if chosen == "me":
        mediator_id = user.id
    elif chosen != "all":
        try:
            mediator_id = int(chosen)
        except ValueError:
            chosen, mediator_id = "all", None
    svc = mediation()
    with svc.uow() as uow:
        result = meetings_q.calendar(uow.session, user, start, end, mediator_id=mediator_id, now=now())
    form.mediator.choices = [SelectChoice("me", _("My sessions")), SelectChoice("all", _("All mediators"))] + [
        SelectChoice(str(uid), name) for uid, name in result.mediators if uid != user.id
    ]
    form.mediator.data = chosen
    step = timedelta(days=7 * (LIST_WEEKS if view == "list" else 1))

    def link(**changes: Any) -> str:
        args: dict[str, Any] = {"start": start.isoformat(), "view": view, "mediator": chosen}
        args.update(changes)
        return url_for("meetings.calendar", **args)

    return render_template(
        "meetings/calendar.html",
        cal=result,
        form=form,
        view=view,
        today=today,
        weekday=lambda day: format_date(day, "EEEE"),
        prev_url=link(start=(start - step).isoformat()),
        next_url=link(start=(start + step).isoformat()),
        today_url=link(start=today.isoformat()),
        week_url=link(view="week"),
        list_url=link(view="list"),
        chosen=chosen,
    )
