"""Public pages, open at all hours without logging in: file a dispute online, look up its status.

Limited by rate per client address (Flask-Limiter), not by a CAPTCHA: a filing counts
when it is saved (``PUBLIC_FILING_LIMIT``, 5 an hour by default), every status lookup
counts (``PUBLIC_STATUS_LIMIT``). The lookup takes the tracking code and the phone
number by POST, so neither ends up in an address or a log.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from mediation import public, queries
from mediation.errors import ValidationError
from mediation.workflow import pick_label

from . import labels
from .extensions import limiter, mediation, now

bp = Blueprint("public", __name__, url_prefix="/public")
#: Session key of the last filing's number and tracking code, shown once on the receipt page.
RECEIPT = "public_receipt"


def _filing_limit() -> str:
    return str(current_app.config["PUBLIC_FILING_LIMIT"])


def _status_limit() -> str:
    return str(current_app.config["PUBLIC_STATUS_LIMIT"])


def _filed(response: Response) -> bool:
    """Only a saved filing (the redirect to the receipt) counts against the filing limit."""
    return response.status_code == 302


class PublicFilingForm(FlaskForm):  # type: ignore[misc]
    """A dispute filed by a member of the public, with the consent to the notice."""

    organisation_id = SelectField(_l("Police station"), validate_choice=False)
    kind = SelectField(_l("Kind of dispute"), validate_choice=False)
    area_id = SelectField(_l("Village or community"), validate_choice=False)
    applicant_name = StringField(_l("Your name"), render_kw={"autocomplete": "name"})
    applicant_phone = StringField(
        _l("Your mobile number"), render_kw={"inputmode": "tel", "autocomplete": "tel"},
        description=_l("Required: with it and the tracking code you can look up your case."),
    )
    applicant_id_number = StringField(
        _l("Your ID number (optional)"), render_kw={"autocomplete": "off", "spellcheck": "false"}
    )
    applicant_address = StringField(_l("Your address"), render_kw={"autocomplete": "street-address"})
    respondent_kind = SelectField(
        _l("The other party is"), validate_choice=False,
        choices=[SelectChoice("organisation", _l("A company or organisation")), SelectChoice("person", _l("A person"))],
    )
    respondent_name = StringField(_l("Name of the other party"))
    respondent_phone = StringField(_l("Their phone (if known)"), render_kw={"inputmode": "tel"})
    respondent_address = StringField(_l("Their address (if known)"))
    facts = TextAreaField(_l("What happened"), render_kw={"rows": 6},
                          description=_l("When, where, who, what is in dispute. Plain words are fine."))
    claims = TextAreaField(_l("What you ask for"), render_kw={"rows": 3})
    amount_claimed = StringField(_l("Amount claimed (CNY, optional)"), render_kw={"inputmode": "decimal"})
    consent = BooleanField(
        _l("I have read the notice above and agree that my personal information is used as it says.")
    )

    def set_choices(self, organisations: list[tuple[int, str]], areas: list[tuple[int, str]]) -> None:
        """Stations, the kinds of dispute (grouped by kind of mediation), and the villages."""
        registry = mediation().registry
        locale = labels.locale_key()
        self.organisation_id.choices = [SelectChoice(str(i), name) for i, name in organisations]
        self.kind.choices = [SelectChoice("", _("— choose —"))] + [
            SelectChoice(f"{d.name}:{c}", labels.label("category", c), optgroup=pick_label(d.title, locale))
            for d in (registry.get(n) for n in registry.names())
            for c in d.categories
        ]
        self.area_id.choices = [SelectChoice("", _("— not known or not listed —"))] + [
            SelectChoice(str(i), name) for i, name in areas
        ]

    def to_submission(self) -> dict[str, Any]:
        """What ``mediation.public.file_online`` takes."""
        data = {name: field.data for name, field in self._fields.items() if name != "csrf_token"}
        data["consent"] = bool(self.consent.data)
        return data


class StatusForm(FlaskForm):  # type: ignore[misc]
    """A tracking code and the phone number used when filing."""

    tracking_code = StringField(_l("Tracking code"), render_kw={"autocomplete": "off", "spellcheck": "false",
                                                              "autocapitalize": "characters"})
    phone = StringField(_l("Mobile number used when filing"), render_kw={"inputmode": "tel", "autocomplete": "tel"})


@bp.route("/file", methods=["GET", "POST"])
@limiter.limit(_filing_limit, methods=["POST"], deduct_when=_filed)
def file() -> ResponseReturnValue:
    """The public filing form, after the notice on personal information."""
    svc = mediation()
    errors: dict[str, str] = {}
    status = 200
    with svc.uow() as uow:
        organisations = public.organisations(uow.session)
        form = PublicFilingForm()
        chosen = form.organisation_id.data if request.method == "POST" else None
        org_ids = {i for i, _name in organisations}
        org_id = int(chosen) if chosen and chosen.isdigit() and int(chosen) in org_ids else (
            organisations[0][0] if organisations else None)
        form.set_choices(organisations, queries.areas(uow.session, org_id) if org_id is not None else [])
        if request.method == "POST":
            if form.validate_on_submit():
                try:
                    filed = public.file_online(uow, form.to_submission(), now=now())
                except ValidationError as exc:
                    errors = {key: _(message) for key, message in exc.errors.items()}
                else:
                    session[RECEIPT] = {"number": filed.number, "code": filed.tracking_code}
                    return redirect(url_for("public.receipt"))
            else:
                errors = {"form": _("The form has expired. Reload the page and submit it again.")}
            status = 400
    return render_template(
        "public/file.html", form=form, errors=errors, single_org=len(organisations) == 1,
        organisations=organisations,
    ), status


@bp.get("/filed")
def receipt() -> ResponseReturnValue:
    """The tracking code of the filing just made, and what to do with it."""
    filed = session.get(RECEIPT)
    if not isinstance(filed, dict) or "code" not in filed:
        return redirect(url_for("public.file"))
    return render_template("public/filed.html", number=filed.get("number"), code=filed["code"])


@bp.route("/status", methods=["GET", "POST"])
@limiter.limit(_status_limit, methods=["POST"])
def status() -> ResponseReturnValue:
    """Where a case stands, for its tracking code and the phone number used when filing."""
    form = StatusForm()
    found = None
    looked = False
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("The form has expired. Reload the page and submit it again."), "error")
        else:
            looked = True
            svc = mediation()
            with svc.uow() as uow:
                found = public.case_status(
                    uow.session, svc.registry, form.tracking_code.data, form.phone.data, now()
                )
    return render_template("public/status.html", form=form, found=found, looked=looked)
