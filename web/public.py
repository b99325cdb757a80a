"""Public pages, open at all hours without logging in: file a dispute online, look up its status,
verify a document (文书核验).

Limited by rate per client address (Flask-Limiter), not by a CAPTCHA: a filing counts
when it is saved (``PUBLIC_FILING_LIMIT``, 5 an hour by default), every status lookup
counts (``PUBLIC_STATUS_LIMIT``). The lookup takes the tracking code and the phone
number by POST, so neither ends up in an address or a log.

The verification page lives at ``/verify`` (blueprint ``verify_bp``) because the QR code
printed on every agreement encodes ``<base>/verify/<code>`` (``mediation.documents``).
Every code lookup and every upload counts against ``PUBLIC_VERIFY_LIMIT``; an uploaded
PDF is checked in memory and never stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from mediation import public, queries, verification
from mediation.errors import ValidationError
from mediation.models import Document
from mediation.tasks import QueueUnavailable, renders_in_background
from mediation.workflow import pick_label

from . import labels
from .extensions import limiter, mediation, now
from .renders import task_queue
from .uploads import accepts_upload, answer_too_large, file_too_large, read_upload, upload_limit, upload_mb

bp = Blueprint("public", __name__, url_prefix="/public")
log = logging.getLogger(__name__)
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


# --------------------------------------------------------------------------- verification (文书核验)

#: ``/verify``: the QR code of every agreement points here (``mediation.documents.verification_url``).
verify_bp = Blueprint("verify", __name__, url_prefix="/verify")
#: Code lookups and uploads count against one allowance per client address.
VERIFY_SCOPE = "public-verify"
EXPIRED = _l("The form has expired. Reload the page and submit it again.")


def _verify_limit() -> str:
    return str(current_app.config["PUBLIC_VERIFY_LIMIT"])


class VerifyCodeForm(FlaskForm):  # type: ignore[misc]
    """The verification code (校验码) printed at the foot of every page of a document."""

    code = StringField(
        _l("Verification code"),
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters",
                   "maxlength": 100, "placeholder": "XXXX-XXXX-XXXX-XXXX"},
        description=_l("The 16 letters and digits after 校验码 at the foot of every page."),
    )


class VerifyPdfForm(FlaskForm):  # type: ignore[misc]
    """The PDF of a document as it was received, to compare with the record."""

    pdf = FileField(_l("PDF file of the document"), render_kw={"accept": ".pdf,application/pdf"})


@dataclass(frozen=True)
class VerifyAnswer:
    """What the page answers: ``issued`` (a code that was issued), ``genuine``, ``altered``, ``unknown``, or
    ``pending`` (the PDF names an issued document that cannot be compared yet).

    ``source`` says what was checked (the code typed or opened from a QR code, or a PDF);
    ``record`` is what may be shown of the document, never its content; ``result`` the
    PDF's check (page counts, why it is altered).
    """

    status: Literal["issued", "genuine", "altered", "unknown", "pending"]
    source: Literal["code", "pdf"]
    code: str | None = None
    record: verification.PublicRecord | None = None
    result: verification.VerifyResult | None = None


def _verify_page(
    code_form: VerifyCodeForm | None = None,
    pdf_form: VerifyPdfForm | None = None,
    *,
    answer: VerifyAnswer | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    """The verification page with both forms, the answer if any, and field errors (name → message)."""
    return render_template(
        "public/verify.html",
        code_form=code_form or VerifyCodeForm(formdata=None),
        pdf_form=pdf_form or VerifyPdfForm(formdata=None),
        answer=answer, errors=errors or {}, upload_mb=upload_mb(),
    ), status


def _code_error(typed: str | None) -> str:
    if not verification.strip_code_input(typed):
        return _("Enter the verification code printed on the document.")
    return _("A verification code has 16 letters (A–F) and digits, e.g. 1A2B-3C4D-5E6F-7A8B. Check what you typed.")


def _answer_for_code(code: str) -> VerifyAnswer:
    """Look ``code`` (already normalised) up: ``issued`` with what may be shown, else ``unknown``."""
    with mediation().reader() as uow:
        document = verification.document_for_code(uow.session, code)
        if document is None:
            return VerifyAnswer("unknown", "code", code)
        return VerifyAnswer("issued", "code", code, verification.public_record(uow.session, document))


def _check_code(typed: str | None) -> ResponseReturnValue:
    """The page answering for a code as typed or opened from a QR code; a malformed code is a field error."""
    code = verification.normalise_code(typed)
    if code is None:
        form = VerifyCodeForm(formdata=None, data={"code": verification.strip_code_input(typed)[:100]})
        return _verify_page(form, errors={"code": _code_error(typed)}, status=400)
    return _verify_page(VerifyCodeForm(formdata=None, data={"code": code}), answer=_answer_for_code(code))


def _too_large_upload(mb: int) -> ResponseReturnValue:
    """A request over the limit (413), nothing kept: the page again with the error beside the field of the form
    sent. A PDF over ``mb`` MB is named only when a file was sent (``file_too_large``); on the code form, or
    for an upload whose other fields are too long, the request was too large."""
    if request.endpoint != "verify.upload":
        return _verify_page(errors={"code": _("What was sent is far too long for a verification code, which has "
                                              "16 letters and digits. Enter the code printed on the document.")},
                            status=413)
    if not file_too_large():
        return _verify_page(errors={"pdf": _("What was sent is larger than the server accepts. Choose the PDF "
                                             "file of the document and send the form again. Nothing was kept.")},
                            status=413)
    return _verify_page(errors={"pdf": _("The file is larger than %(mb)d MB. Nothing was kept.", mb=mb)}, status=413)


answer_too_large(verify_bp, _too_large_upload)


@verify_bp.route("", methods=["GET", "POST"])
@limiter.shared_limit(_verify_limit, scope=VERIFY_SCOPE, methods=["POST"])
def verify() -> ResponseReturnValue:
    """Verify a document: by the code printed on it (POST here), or by its PDF (``verify.upload``)."""
    if request.method == "GET":
        return _verify_page()
    form = VerifyCodeForm()
    if not form.validate_on_submit():
        return _verify_page(form, errors={"code": str(EXPIRED)}, status=400)
    return _check_code(form.code.data)


@verify_bp.get("/<code>")
@limiter.shared_limit(_verify_limit, scope=VERIFY_SCOPE)
def verify_code(code: str) -> ResponseReturnValue:
    """What the QR code opens: the page with ``code`` filled in and the answer shown."""
    return _check_code(code)


def _unreadable() -> str:
    return _("This PDF could not be read: it is damaged or protected by a password. "
             "Ask the police station for a copy, or enter the code printed on it.")


@verify_bp.route("/upload", methods=["GET", "POST"])
@accepts_upload
@limiter.shared_limit(_verify_limit, scope=VERIFY_SCOPE, methods=["POST"])
def upload() -> ResponseReturnValue:
    """Compare an uploaded PDF with the document issued under its code; the file is read in memory only.

    The document is found from the PDF's metadata digest or the code on its first (else
    last) page; the pages are compared only when the counts agree, and a long document
    (a dossier) whose PDF is not ready is not rendered here: its render is queued and the
    answer says to try again shortly.
    """
    if request.method == "GET":
        return redirect(url_for("verify.verify"))
    form = VerifyPdfForm()
    if not form.validate_on_submit():
        return _verify_page(pdf_form=form, errors={"pdf": str(EXPIRED)}, status=400)
    opened, error, status = _open_pdf(form.pdf.data)
    if opened is None:
        return _verify_page(pdf_form=form, errors={"pdf": error}, status=status)
    with mediation().reader() as uow:
        try:
            result = verification.verify_upload(
                uow.session, opened, cache_dir=current_app.config.get("DOCUMENT_CACHE_DIR"),
                may_render=lambda document: not renders_in_background(document.kind),
            )
        except verification.UnreadablePdf:
            return _verify_page(pdf_form=form, errors={"pdf": _unreadable()}, status=400)
        if result.status == "unknown" and result.reason == "pages":
            message = _("This PDF has more than %(max)d pages and carries no verification code of a document "
                        "issued here. Choose the PDF of the document as you received it.", max=verification.MAX_PAGES)
            return _verify_page(pdf_form=form, errors={"pdf": message}, status=400)
        document = uow.session.get(Document, result.document_id) if result.document_id is not None else None
        if document is not None and result.status == "pending":
            _queue_render(document)
        record = verification.public_record(uow.session, document) if document is not None else None
    answer = VerifyAnswer(result.status, "pdf", record.code if record else None, record, result)
    return _verify_page(pdf_form=form, answer=answer)


def _queue_render(document: Document) -> None:
    """Ask the task queue to render ``document`` so that the next upload can be compared; a queue that
    cannot be reached is logged (the answer is the same: try again later)."""
    try:
        task_queue().request_render(document)
    except QueueUnavailable as exc:
        log.warning("document %s was not queued for rendering: %s", document.id, exc)


def _open_pdf(upload_file: FileStorage | None) -> tuple[verification.OpenedPdf | None, str, int]:
    """The uploaded PDF opened for checking; else None, the message for the file field and the status.

    Refused (``verification.open_upload``, whose refusals the CLI words the same): no file
    chosen, an empty file, one over ``UPLOAD_MAX_BYTES`` (413), one whose content is not a PDF,
    and one pypdf cannot open (damaged, encrypted).
    """
    if upload_file is None or not upload_file.filename:
        return None, _("Choose the PDF file of the document."), 400
    try:
        return verification.open_upload(read_upload(upload_file.stream), upload_limit()), "", 200
    except verification.UnreadablePdf as exc:
        return None, *_refusal(exc.refusal)


def _refusal(refusal: verification.Refusal) -> tuple[str, int]:
    """The file field's message and the status for an upload that cannot be checked."""
    if refusal == "too_large":
        return _("The file is larger than %(mb)d MB. Nothing was kept.", mb=upload_mb()), 413
    if refusal == "empty":
        return _("The file is empty. Choose the PDF file of the document."), 400
    if refusal == "not_pdf":
        return _("This file is not a PDF. Choose the PDF file of the document as you received it."), 400
    return _unreadable(), 400
