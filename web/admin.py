"""Administration (系统管理): users, organisations, enterprises and areas; administrators only.

Thin views over ``mediation.administration``: a form parses, the service checks and
saves in one transaction, its errors come back beside their fields (nothing half-saved).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from mediation import administration, policy
from mediation.enums import Role
from mediation.errors import NotFound, PermissionDenied, ValidationError
from mediation.models import Area, Case, Enterprise, Organisation, User

from . import labels
from .auth import current
from .extensions import login_manager, mediation
from .forms import MultiCheckboxField

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _require_admin() -> ResponseReturnValue | None:
    """Only a logged-in administrator (policy ``administer``) gets here."""
    if not current_user.is_authenticated:
        response: ResponseReturnValue = login_manager.unauthorized()
        return response
    if not policy.can(current(), "administer"):
        abort(403)
    return None


# --- forms --------------------------------------------------------------------------

class UserForm(FlaskForm):  # type: ignore[misc]
    """A user's account: who they are, their role and where they belong."""

    username = StringField(_l("User name"), render_kw={"autocomplete": "off", "spellcheck": "false"})
    display_name = StringField(_l("Name shown"))
    role = SelectField(_l("Role"), validate_choice=False)
    organisation_id = SelectField(_l("Station or committee"), validate_choice=False)
    enterprise_id = SelectField(
        _l("Enterprise"), validate_choice=False,
        description=_l("Required for enterprise liaisons and department heads: they see only this enterprise."),
    )
    area_id = SelectField(
        _l("Own area"), validate_choice=False,
        description=_l("For volunteer mediators: they see only this area's cases. Empty: every village case."),
    )
    assigned_enterprises = MultiCheckboxField(
        _l("Assigned enterprises"), validate_choice=False,
        description=_l("For liaison and community officers. None assigned: the whole organisation."),
    )
    assigned_areas = MultiCheckboxField(_l("Assigned areas"), validate_choice=False)
    email = EmailField(_l("E-mail"), render_kw={"autocomplete": "off"})
    password = PasswordField(_l("Password"), render_kw={"autocomplete": "new-password"},
                             description=_l("At least 8 characters."))
    password_confirm = PasswordField(_l("Password again"), render_kw={"autocomplete": "new-password"})

    def set_choices(self, session: Session) -> None:
        """Roles, organisations, and every enterprise and area grouped by organisation."""
        self.role.choices = [SelectChoice(r.value, labels.label("role", r.value)) for r in Role]
        orgs = administration.organisations(session)
        self.organisation_id.choices = [SelectChoice(str(o.id), o.name) for o in orgs]
        enterprises = administration.enterprises(session)
        areas = administration.areas(session)
        self.enterprise_id.choices = [SelectChoice("", _("— none —"))] + [
            SelectChoice(str(e.id), e.name, optgroup=e.organisation.name) for e in enterprises
        ]
        self.area_id.choices = [SelectChoice("", _("— none —"))] + [
            SelectChoice(str(a.id), a.name, optgroup=a.organisation.name) for a in areas
        ]
        several = len(orgs) > 1
        self.assigned_enterprises.choices = [
            SelectChoice(str(e.id), f"{e.name}（{e.organisation.short_name}）" if several else e.name)
            for e in enterprises
        ]
        self.assigned_areas.choices = [
            SelectChoice(str(a.id), f"{a.name}（{a.organisation.short_name}）" if several else a.name) for a in areas
        ]

    def to_data(self) -> dict[str, Any]:
        """The account as ``mediation.administration`` takes it."""
        return {
            "username": self.username.data,
            "display_name": self.display_name.data,
            "role": self.role.data,
            "organisation_id": self.organisation_id.data,
            "enterprise_id": self.enterprise_id.data,
            "area_id": self.area_id.data,
            "assigned_enterprises": list(self.assigned_enterprises.data or []),
            "assigned_areas": list(self.assigned_areas.data or []),
            "email": self.email.data,
            "password": self.password.data,
            "password_confirm": self.password_confirm.data,
        }


class PasswordForm(FlaskForm):  # type: ignore[misc]
    """A new password, typed twice."""

    password = PasswordField(_l("New password"), render_kw={"autocomplete": "new-password"},
                             description=_l("At least 8 characters. The user's open sessions end."))
    password_confirm = PasswordField(_l("New password again"), render_kw={"autocomplete": "new-password"})


class ActiveForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token (activate or deactivate)."""


class OrganisationForm(FlaskForm):  # type: ignore[misc]
    """A mediating organisation and how it numbers its cases."""

    name = StringField(_l("Name"))
    short_name = StringField(_l("Short name"), description=_l("Used in case numbers, e.g. 温溪"))
    committee_name = StringField(_l("Committee name"), description=_l("Printed on the documents and the seal line"))
    case_number_pattern = StringField(
        _l("Case-number pattern"), default="（{year}）{short_name}警调字第{seq:04d}号",
        description=_l("Placeholders: {year}, {short_name}, {seq} (running number; {seq:04d} pads to 4 digits)."),
    )


class EnterpriseForm(FlaskForm):  # type: ignore[misc]
    """An enterprise served by the station, and the area it lies in."""

    name = StringField(_l("Name"))
    organisation_id = SelectField(_l("Station or committee"), validate_choice=False)
    area_id = SelectField(_l("Area"), validate_choice=False)


class AreaForm(FlaskForm):  # type: ignore[misc]
    """A village, community or patrol area."""

    name = StringField(_l("Name"))
    organisation_id = SelectField(_l("Station or committee"), validate_choice=False)


def _errors(exc: ValidationError) -> dict[str, str]:
    return {key: _(message) for key, message in exc.errors.items()}


def _organisation_choices(session: Session) -> list[SelectChoice]:
    return [SelectChoice(str(o.id), o.name) for o in administration.organisations(session)]


# --- overview ----------------------------------------------------------------------

@bp.get("/")
def index() -> ResponseReturnValue:
    """What there is to administer, with counts."""
    with mediation().uow() as uow:
        s = uow.session
        counts = {
            "users": s.scalar(select(func.count()).select_from(User)) or 0,
            "inactive": s.scalar(select(func.count()).select_from(User).where(User.active.is_(False))) or 0,
            "organisations": s.scalar(select(func.count()).select_from(Organisation)) or 0,
            "enterprises": s.scalar(select(func.count()).select_from(Enterprise)) or 0,
            "areas": s.scalar(select(func.count()).select_from(Area)) or 0,
        }
    return render_template("admin/index.html", counts=counts)


# --- users ---------------------------------------------------------------------------

@bp.get("/users")
def users() -> ResponseReturnValue:
    """Every user, by organisation and name."""
    with mediation().uow() as uow:
        rows = administration.users(uow.session)
    return render_template("admin/users.html", users=rows)


def _user_page(form: UserForm, user: User | None, errors: Mapping[str, str], status: int = 200,
               password_form: PasswordForm | None = None, password_errors: Mapping[str, str] | None = None,
               ) -> ResponseReturnValue:
    return render_template(
        "admin/user_form.html", form=form, user=user, errors=errors, password_form=password_form or PasswordForm(),
        password_errors=password_errors or {}, active_form=ActiveForm(),
        scoped_roles=[r.value for r in policy.ASSIGNMENT_SCOPED],
    ), status


@bp.route("/users/new", methods=["GET", "POST"])
def new_user() -> ResponseReturnValue:
    """Create a user with a first password."""
    with mediation().uow() as uow:
        form = UserForm()
        form.set_choices(uow.session)
        if request.method == "POST" and form.validate_on_submit():
            try:
                user_id = administration.create_user(uow, current().id, form.to_data())
            except ValidationError as exc:
                return _user_page(form, None, _errors(exc), 400)
            flash(_("User %(name)s created.", name=form.username.data), "success")
            return redirect(url_for("admin.edit_user", user_id=user_id))
        if request.method == "POST":
            return _user_page(form, None, {}, 400)
    return _user_page(form, None, {})


def _load_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id, options=[selectinload(User.assigned_enterprises),
                                                selectinload(User.assigned_areas)])
    if user is None:
        abort(404)
    return user


def _filled(session: Session, user: User) -> UserForm:
    form = UserForm(formdata=None, data={
        "username": user.username, "display_name": user.display_name, "role": user.role.value,
        "organisation_id": str(user.organisation_id), "enterprise_id": str(user.enterprise_id or ""),
        "area_id": str(user.area_id or ""), "email": user.email or "",
        "assigned_enterprises": [str(e.id) for e in user.assigned_enterprises],
        "assigned_areas": [str(a.id) for a in user.assigned_areas],
    })
    form.set_choices(session)
    return form


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int) -> ResponseReturnValue:
    """Change a user's name, role, organisation, enterprise, area, assignments, e-mail."""
    with mediation().uow() as uow:
        user = _load_user(uow.session, user_id)
        if request.method == "GET":
            return _user_page(_filled(uow.session, user), user, {})
        form = UserForm()
        form.set_choices(uow.session)
        if not form.validate_on_submit():
            return _user_page(form, user, {}, 400)
        try:
            administration.update_user(uow, current().id, user_id, form.to_data())
        except ValidationError as exc:
            uow.session.rollback()
            return _user_page(form, _load_user(uow.session, user_id), _errors(exc), 400)
        except NotFound:
            abort(404)
    flash(_("Saved."), "success")
    return redirect(url_for("admin.edit_user", user_id=user_id))


@bp.post("/users/<int:user_id>/password")
def reset_password(user_id: int) -> ResponseReturnValue:
    """Set a new password; the user's open sessions end."""
    with mediation().uow() as uow:
        user = _load_user(uow.session, user_id)
        password_form = PasswordForm()
        if not password_form.validate_on_submit():
            return _user_page(_filled(uow.session, user), user, {}, 400, password_form)
        try:
            administration.reset_password(
                uow, current().id, user_id, password_form.password.data or "", password_form.password_confirm.data
            )
        except ValidationError as exc:
            uow.session.rollback()
            user = _load_user(uow.session, user_id)
            return _user_page(_filled(uow.session, user), user, {}, 400, password_form, _errors(exc))
    flash(_("New password set; the user's open sessions have ended."), "success")
    return redirect(url_for("admin.edit_user", user_id=user_id))


@bp.post("/users/<int:user_id>/active")
def set_active(user_id: int) -> ResponseReturnValue:
    """Deactivate a user (their sessions end at once) or activate them again."""
    active = request.form.get("active") == "1"
    with mediation().uow() as uow:
        user = _load_user(uow.session, user_id)
        if not ActiveForm().validate_on_submit():
            abort(400)
        try:
            administration.set_active(uow, current().id, user_id, active)
        except ValidationError as exc:
            uow.session.rollback()
            user = _load_user(uow.session, user_id)
            return _user_page(_filled(uow.session, user), user, _errors(exc), 400)
        except PermissionDenied:
            abort(403)
    flash(_("User activated.") if active else _("User deactivated; their open sessions have ended."), "success")
    return redirect(url_for("admin.edit_user", user_id=user_id))


# --- organisations, enterprises, areas -----------------------------------------------------

def _saved_or_page(
    save: Callable[[], int], template: str, form: FlaskForm, item: Any, endpoint: str, **context: Any
) -> ResponseReturnValue:
    """Run ``save`` when the form came back whole; on success go to the list, else show the errors."""
    if not form.validate_on_submit():
        return render_template(template, form=form, item=item, errors={}, **context), 400
    try:
        save()
    except ValidationError as exc:
        return render_template(template, form=form, item=item, errors=_errors(exc), **context), 400
    except NotFound:
        abort(404)
    flash(_("Saved."), "success")
    return redirect(url_for(endpoint))


@bp.get("/organisations")
def organisations() -> ResponseReturnValue:
    """Every organisation with its case-number pattern and how many cases it has."""
    with mediation().uow() as uow:
        orgs = administration.organisations(uow.session)
        rows = uow.session.execute(select(Case.organisation_id, func.count()).group_by(Case.organisation_id))
        counts = {org_id: n for org_id, n in rows}
        return render_template("admin/organisations.html", organisations=orgs, counts=counts)


@bp.route("/organisations/new", methods=["GET", "POST"], defaults={"organisation_id": None})
@bp.route("/organisations/<int:organisation_id>", methods=["GET", "POST"])
def organisation(organisation_id: int | None) -> ResponseReturnValue:
    """Create or change an organisation."""
    with mediation().uow() as uow:
        item = uow.session.get(Organisation, organisation_id) if organisation_id is not None else None
        if organisation_id is not None and item is None:
            abort(404)
        if request.method == "GET":
            form = OrganisationForm(formdata=None, obj=item) if item else OrganisationForm(formdata=None)
            example = _example_number(item.case_number_pattern, item.short_name) if item else None
            return render_template("admin/organisation_form.html", form=form, item=item, errors={}, example=example)
        form = OrganisationForm()
        return _saved_or_page(
            lambda: administration.save_organisation(uow, current().id, organisation_id, form.data),
            "admin/organisation_form.html", form, item, "admin.organisations", example=None,
        )


def _example_number(pattern: str, short_name: str) -> str | None:
    """The first number of 2026 the pattern makes, or ``None`` if it makes none."""
    if administration.check_case_number_pattern(pattern):
        return None
    return pattern.format(year=2026, short_name=short_name, seq=1)


@bp.get("/enterprises")
def enterprises() -> ResponseReturnValue:
    """Every enterprise with its organisation and area."""
    with mediation().uow() as uow:
        rows = administration.enterprises(uow.session)
        return render_template("admin/enterprises.html", enterprises=rows)


@bp.route("/enterprises/new", methods=["GET", "POST"], defaults={"enterprise_id": None})
@bp.route("/enterprises/<int:enterprise_id>", methods=["GET", "POST"])
def enterprise(enterprise_id: int | None) -> ResponseReturnValue:
    """Create or change an enterprise."""
    with mediation().uow() as uow:
        item = uow.session.get(Enterprise, enterprise_id) if enterprise_id is not None else None
        if enterprise_id is not None and item is None:
            abort(404)
        data = {"name": item.name, "organisation_id": str(item.organisation_id), "area_id": str(item.area_id or "")} \
            if item else {}
        form = EnterpriseForm(formdata=None, data=data) if request.method == "GET" else EnterpriseForm()
        form.organisation_id.choices = _organisation_choices(uow.session)
        form.area_id.choices = [SelectChoice("", _("— none —"))] + [
            SelectChoice(str(a.id), a.name, optgroup=a.organisation.name) for a in administration.areas(uow.session)
        ]
        if request.method == "GET":
            return render_template("admin/enterprise_form.html", form=form, item=item, errors={})
        return _saved_or_page(
            lambda: administration.save_enterprise(uow, current().id, enterprise_id, form.data),
            "admin/enterprise_form.html", form, item, "admin.enterprises",
        )


@bp.get("/areas")
def areas() -> ResponseReturnValue:
    """Every area with its organisation."""
    with mediation().uow() as uow:
        rows = administration.areas(uow.session)
        return render_template("admin/areas.html", areas=rows)


@bp.route("/areas/new", methods=["GET", "POST"], defaults={"area_id": None})
@bp.route("/areas/<int:area_id>", methods=["GET", "POST"])
def area(area_id: int | None) -> ResponseReturnValue:
    """Create or change an area (辖区/片区)."""
    with mediation().uow() as uow:
        item = uow.session.get(Area, area_id) if area_id is not None else None
        if area_id is not None and item is None:
            abort(404)
        data = {"name": item.name, "organisation_id": str(item.organisation_id)} if item else {}
        form = AreaForm(formdata=None, data=data) if request.method == "GET" else AreaForm()
        form.organisation_id.choices = _organisation_choices(uow.session)
        if request.method == "GET":
            return render_template("admin/area_form.html", form=form, item=item, errors={})
        return _saved_or_page(
            lambda: administration.save_area(uow, current().id, area_id, form.data),
            "admin/area_form.html", form, item, "admin.areas",
        )
