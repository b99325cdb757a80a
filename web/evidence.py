"""Evidence (证据材料): upload files to a case, list them, download them.

The content decides the type (``mediation.attachments.sniff``), never the name; files are
kept under ``ATTACHMENT_DIR`` (default ``instance/attachments/``), outside the static
folder, and served only to users who may see the case, always as a download.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy.orm import Session
from wtforms import IntegerField, StringField
from wtforms.widgets import HiddenInput

from mediation import attachments, policy, queries
from mediation.errors import ConflictError, InvalidTransition, NotFound, PermissionDenied, ValidationError
from mediation.models import Attachment, Case
from mediation.queries import CaseDetail

from . import labels
from .auth import current
from .extensions import login_manager, mediation, now
from .uploads import accepts_upload, answer_too_large, read_upload

bp = Blueprint("evidence", __name__)
#: What the upload field accepts (the server checks the content, this only helps the file picker).
ACCEPT = ".pdf,.jpg,.jpeg,.png,.docx,.xlsx,application/pdf,image/jpeg,image/png"


@bp.before_request
def _require_login() -> ResponseReturnValue | None:
    """Every page here needs a logged-in user."""
    if not current_user.is_authenticated:
        response: ResponseReturnValue = login_manager.unauthorized()
        return response
    return None


answer_too_large(bp)


def attachment_root() -> Path:
    """Where the files are kept: ``ATTACHMENT_DIR``, else ``instance/attachments``."""
    configured = current_app.config.get("ATTACHMENT_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "attachments"


class UploadForm(FlaskForm):  # type: ignore[misc]
    """One evidence file and what it shows."""

    version = IntegerField(widget=HiddenInput())
    file = FileField(labels.FIELDS["file"], render_kw={"accept": ACCEPT},
                     description=_l("PDF, JPEG, PNG, Word (DOCX) or Excel (XLSX), at most 20 MB."))
    description = StringField(labels.FIELDS["description"], render_kw={"maxlength": 500},
                              description=_l("e.g. 工资表, 考勤记录, 现场照片"))


def case_panel(session: Session, detail: CaseDetail) -> dict[str, Any] | None:
    """The case's files and, when the user may attach, the upload form."""
    may_attach = "attach" in detail.actions
    files = attachments.case_attachments(session, detail.id)
    if not files and not may_attach:
        return {"files": [], "form": None}
    form = UploadForm(formdata=None, data={"version": detail.version}) if may_attach else None
    return {
        "files": [
            {
                "id": f.id, "filename": f.filename, "size": f.size, "description": f.description,
                "type": attachments.EXTENSIONS.get(f.content_type, ("",))[0].lstrip(".").upper(),
                "uploaded_at": f.uploaded_at, "uploaded_by": f.uploaded_by.display_name if f.uploaded_by else None,
            }
            for f in files
        ],
        "form": form,
    }


@bp.post("/cases/<int:case_id>/attachments")
@accepts_upload
def upload(case_id: int) -> ResponseReturnValue:
    """Attach an uploaded file to the case (one ``attach`` event); back to the case page."""
    svc = mediation()
    with svc.uow() as uow:
        try:
            case = queries.visible_case(uow.session, current(), case_id)
        except NotFound:
            abort(404)
        definition = svc.registry.get(case.workflow, case.workflow_version)
        if not policy.can(current(), "attach", case, definition):
            abort(403)
        form = UploadForm()
        if not form.validate_on_submit():
            flash(_("The form has expired. Reload the case and try again."), "error")
            return redirect(url_for("cases.detail", case_id=case_id, _anchor="h-evidence"))
        upload_file = form.file.data
        if upload_file is None or not getattr(upload_file, "filename", None):
            flash(_("Choose a file to attach."), "error")
            return redirect(url_for("cases.detail", case_id=case_id, _anchor="h-evidence"))
        data = read_upload(upload_file, attachments.MAX_BYTES)
        try:
            attachments.attach_file(
                uow, case_id, current().id, upload_file.filename, data, attachment_root(),
                description=(form.description.data or "").strip() or None,
                expected_version=form.version.data, now=now(),
            )
        except ValidationError as exc:
            messages = [_(m) for m in exc.errors.values()]
            flash(_("The file was not attached: %(why)s", why=" ".join(messages)), "error")
            return redirect(url_for("cases.detail", case_id=case_id, _anchor="h-evidence"))
        except (ConflictError, InvalidTransition):
            flash(_("Someone else changed this case while you were working on it. Nothing was saved."), "error")
            return redirect(url_for("cases.detail", case_id=case_id, _anchor="h-evidence"))
        except PermissionDenied:
            abort(403)
        except NotFound:
            abort(404)
    flash(_("Attached: %(name)s.", name=upload_file.filename), "success")
    return redirect(url_for("cases.detail", case_id=case_id, _anchor="h-evidence"))


@bp.get("/cases/<int:case_id>/attachments/<int:attachment_id>")
def download(case_id: int, attachment_id: int) -> ResponseReturnValue:
    """The file, as a download, to a user who may see the case (404 to anyone else)."""
    svc = mediation()
    with svc.uow() as uow:
        try:
            case: Case = queries.visible_case(uow.session, current(), case_id)
        except NotFound:
            abort(404)
        row = uow.session.get(Attachment, attachment_id)
        if row is None or row.case_id != case.id or not policy.can(current(), "download", case):
            abort(404)
        name = attachments.download_name(row.filename, row.content_type)
        content_type, sha256 = row.content_type, row.sha256
    path = attachments.blob_path(attachment_root(), sha256)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=content_type, as_attachment=True, download_name=name, max_age=0)
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Cache-Control"] = "private, no-store"
    return response
