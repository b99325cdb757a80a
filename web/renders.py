"""Long documents rendered in the background (后台生成文书): the progress page, its JSON, the retry.

A dossier (卷宗) whose PDF is not cached is not rendered while the request waits: the download
link queues its render (``mediation.tasks``) and sends the user to a page that shows how far it
has gone — polled by ``static/render.js``, refreshed by ``<meta http-equiv=refresh>`` without
JavaScript — and offers the PDF when it is done. The queue is set up here for the app:
``QUEUE_URL`` (default ``MEDIATION_QUEUE_URL``; unset: the embedded queue). A queue on this
host (SQLite) is consumed by ``QUEUE_WORKERS`` threads of the serving process when
``QUEUE_CONSUMER`` is true, which it is unless the app is testing or ``MEDIATION_QUEUE_CONSUMER``
is ``0``/``false``/``no``/``off``. The server starts that consumer (``start_consumer``, from
gunicorn's ``post_worker_init`` in ``mediation serve``) and stops it (``stop_consumer``, on
``worker_exit``, and at exit), so building an app starts no threads. A testing app's queue is in
memory unless the test names one. The periodic deliveries append to ``NOTICE_LOG`` (default
``MEDIATION_NOTICE_LOG``, else ``instance/notices.log``).

A failed render shows staff a plain reason (``FAILURES``), never the error, which is in the log.
A PDF that cannot be stored in the document cache while the request waits is a 503 page
(``send_pdf``). Ids past the database's range are a 404 here too, as JSON for the status.
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from mediation import archive, queries, tasks
from mediation.errors import NotFound
from mediation.models import Case, Document
from mediation.services import as_row_id

from .auth import current
from .errors import render_error
from .extensions import login_manager, mediation

bp = Blueprint("renders", __name__)
log = logging.getLogger(__name__)

#: Seconds between two refreshes of the progress page without JavaScript.
REFRESH_SECONDS = 3
STAGE_LABELS = {
    tasks.QUEUED: _l("Waiting for a worker"),
    archive.PREPARING: _l("Preparing the contents"),
    archive.LAYOUT: _l("Laying out the pages"),
    archive.WRITING: _l("Writing the PDF"),
    tasks.DONE: _l("Ready"),
    tasks.FAILED: _l("Failed"),
}
#: What a failed render's page says of each reason (``RenderStatus.message``); any other: ``FAILURES[FAILED_RENDER]``.
FAILURES = {
    tasks.FAILED_WRITE: _l("The PDF could not be written to the document store; the administrator can see the "
                           "details in the log."),
    tasks.FAILED_RENDER: _l("The PDF could not be rendered; the administrator can see the details in the log."),
    tasks.FAILED_STALLED: _l("The render stopped without finishing: the worker may have been stopped."),
    tasks.FAILED_UNREACHABLE: _l("The task queue cannot be reached."),
}
#: What ``MEDIATION_QUEUE_CONSUMER`` may say to turn the web process's consumer off (any case).
OFF = frozenset({"0", "false", "no", "off"})


def init_app(app: Flask) -> None:
    """Build the app's task queue (``app.extensions["task_queue"]``), start its in-process consumer
    when configured, and register the progress pages."""
    # A testing app keeps its queue in memory (and ignores MEDIATION_QUEUE_URL) unless the test names one.
    app.config.setdefault("QUEUE_URL", "memory://" if app.testing else tasks.queue_url())
    consumer_env = os.environ.get("MEDIATION_QUEUE_CONSUMER", "").strip()
    app.config.setdefault("QUEUE_CONSUMER", consumer_env.lower() not in OFF if consumer_env else not app.testing)
    app.config.setdefault("QUEUE_WORKERS", 1)
    app.config.setdefault("NOTICE_LOG", os.environ.get("MEDIATION_NOTICE_LOG") or None)
    svc = app.extensions["mediation"]
    context = tasks.TaskContext(
        session_factory=svc.session_factory, engine=svc.engine, cache_dir=app.config.get("DOCUMENT_CACHE_DIR"),
        notice_log=Path(app.config["NOTICE_LOG"]) if app.config["NOTICE_LOG"] else tasks.DEFAULT_LOG,
    )
    app.extensions["task_queue"] = tasks.build_queue(app.config["QUEUE_URL"], app.config["DATABASE_URL"], context)
    # A long document's link may lead to the progress page, so the case page does not mark it ``download``.
    app.jinja_env.globals["renders_in_background"] = tasks.renders_in_background
    app.url_map.converters["digits"] = Digits  # before the routes are added
    app.register_blueprint(bp)


def start_consumer(app: Flask) -> bool:
    """Start consuming ``app``'s queue in this process when it is on this host and ``QUEUE_CONSUMER`` is
    true (the serving process calls this; building the app does not); whether a consumer runs now."""
    queue: tasks.TaskQueue = app.extensions["task_queue"]
    if queue.local and app.config["QUEUE_CONSUMER"]:
        queue.start_in_process(int(app.config["QUEUE_WORKERS"]))
    return queue.consuming


def stop_consumer(app: Flask) -> None:
    """Stop ``app``'s in-process consumer, letting a running task finish (see ``TaskQueue.stop``)."""
    queue: tasks.TaskQueue = app.extensions["task_queue"]
    queue.stop()


@bp.before_request
def _require_login() -> ResponseReturnValue | None:
    """As on every case page: a logged-in user, else the log-in page (and back); the JSON status
    answers 401 with JSON instead (its script then reloads the page, which goes to the log-in page)."""
    if current_user.is_authenticated:
        return None
    if request.endpoint == "renders.progress_json":
        return jsonify(error="login_required", message=str(login_manager.login_message)), 401
    response: ResponseReturnValue = login_manager.unauthorized()
    return response


def task_queue() -> tasks.TaskQueue:
    """The current app's task queue."""
    found: tasks.TaskQueue = current_app.extensions["task_queue"]
    return found


def _cache_dir() -> Path | None:
    """The app's document cache (``DOCUMENT_CACHE_DIR``), None for the default (see ``archive.cache_path``)."""
    configured = current_app.config.get("DOCUMENT_CACHE_DIR")
    return Path(configured) if configured else None


def send_pdf(doc: Document, filename: str) -> ResponseReturnValue:
    """``doc``'s PDF as an attachment named ``filename``, rendered now unless cached; a 503 page saying the
    document cannot be prepared now when the PDF cannot be stored in the document cache (the error is logged)."""
    try:
        pdf = archive.document_pdf(doc, _cache_dir())
    except archive.CacheError:
        log.exception("document %s (%s) could not be prepared", doc.id, doc.kind)
        return render_error(503, _("The document could not be prepared now: the PDF could not be written to "
                                   "the document store. Try again later; the administrator can see the details "
                                   "in the log."))
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True, download_name=filename)


class Digits(IntegerConverter):
    """``<digits:…>`` in the render routes: any run of digits, so an id past the database's range reaches the
    view, which answers 404 (JSON for the status; the app's ``<int:…>`` leaves it to the router, which
    answers an HTML 404, or 405 to a POST)."""


def _visible(case_id: int, document_id: int) -> tuple[Document, Case] | None:
    """The document and its case when the user may download it (the download's policy), else None
    (also for an id that cannot be a row id)."""
    if as_row_id(case_id) is None or as_row_id(document_id) is None:
        return None
    svc = mediation()
    with svc.reader() as uow:
        try:
            doc, case = queries.visible_document(uow.session, current(), case_id, document_id)
        except NotFound:
            return None
        uow.session.expunge(doc)  # its loaded context stays usable after the transaction
        uow.session.expunge(case)
    return doc, case


def waiting_page(doc: Document, case_id: int) -> ResponseReturnValue | None:
    """For the download route: a redirect to the progress page when ``doc`` is long and not cached
    (its render queued), else None (send the PDF now; a queue that cannot be reached renders now too)."""
    if not tasks.renders_in_background(doc.kind) or archive.is_cached(doc, _cache_dir()):
        return None
    try:
        status = task_queue().request_render(doc)
    except tasks.QueueUnavailable as exc:
        log.warning("rendering document %s while the request waits: %s", doc.id, exc)
        return None
    if status.state == tasks.DONE:
        # Rendered elsewhere yet not in this cache: the cache is not shared with the worker, or was emptied.
        log.warning("document %s was rendered but is not in %s; rendering it here", doc.id,
                    archive.cache_dir_of(_cache_dir()))
        return None
    return redirect(url_for("renders.progress", case_id=case_id, document_id=doc.id), 303)


def _status(doc: Document) -> tuple[tasks.RenderStatus, bool]:
    """The document's render status, a render queued if none was asked for; and whether the PDF is ready here."""
    queue = task_queue()
    if archive.is_cached(doc, _cache_dir()):
        try:
            stored = queue.render_status(doc)
        except tasks.QueueUnavailable:
            stored = None
        return (stored if stored is not None and stored.state == tasks.DONE else tasks.RenderStatus(tasks.DONE)), True
    status = queue.render_status(doc) or queue.request_render(doc)
    if queue.stalled(doc, status):
        status = tasks.RenderStatus(tasks.FAILED, status.pages, tasks.FAILED_STALLED, status.queued_at,
                                    status.updated_at)
    return status, False


def _describe(doc: Document, case: Case, status: tasks.RenderStatus, ready: bool) -> dict[str, Any]:
    """What the page and the JSON say of a render."""
    queue = task_queue()
    state = tasks.DONE if ready else status.state
    if ready or state == tasks.DONE:
        detail = ngettext("%(num)d page.", "%(num)d pages.", status.pages) if status.pages else ""
    elif state == archive.LAYOUT:
        detail = _("%(pages)d pages laid out so far.", pages=status.pages)
    elif state == tasks.QUEUED and status.waiting_long(queue.clock()):
        detail = _("No worker has taken it yet: the background workers may be busy or stopped.")
    else:
        detail = ""
    return {
        "state": state,
        "label": str(STAGE_LABELS.get(state, state)),
        "detail": detail,
        "pages": status.pages,
        "percent": 100 if ready else status.percent,
        "done": state == tasks.DONE,
        "failed": state == tasks.FAILED,
        "message": str(FAILURES.get(status.message, FAILURES[tasks.FAILED_RENDER])) if state == tasks.FAILED else "",
        "download": url_for("cases.document", case_id=case.id, document_id=doc.id),
        "progress": url_for("renders.progress", case_id=case.id, document_id=doc.id),
    }


@bp.get("/cases/<digits:case_id>/documents/<digits:document_id>/render")
def progress(case_id: int, document_id: int) -> ResponseReturnValue:
    """The progress page of a long document's render: stage, pages, then the download (or the error and a retry)."""
    found = _visible(case_id, document_id)
    if found is None:
        abort(404)
    doc, case = found
    if not tasks.renders_in_background(doc.kind):
        return redirect(url_for("cases.document", case_id=case_id, document_id=document_id))
    try:
        status, ready = _status(doc)
    except tasks.QueueUnavailable as exc:
        log.warning("the progress of document %s cannot be read: %s", doc.id, exc)
        return redirect(url_for("cases.document", case_id=case_id, document_id=document_id))
    described = _describe(doc, case, status, ready)
    return render_template(
        "cases/render_progress.html", doc=doc, case=case, status=described,
        refresh=None if described["done"] or described["failed"] else REFRESH_SECONDS,
        filename=archive.document_filename(doc, case.number),
    )


@bp.get("/cases/<digits:case_id>/documents/<digits:document_id>/render.json")
def progress_json(case_id: int, document_id: int) -> ResponseReturnValue:
    """The render's status as JSON: ``{state, label, detail, pages, percent, done, failed, message, download}``."""
    found = _visible(case_id, document_id)
    if found is None:
        return jsonify(error="not_found", message=_("No such document.")), 404
    doc, case = found
    if not tasks.renders_in_background(doc.kind):
        return jsonify(_describe(doc, case, tasks.RenderStatus(tasks.DONE), True))
    try:
        status, ready = _status(doc)
    except tasks.QueueUnavailable:
        status, ready = tasks.RenderStatus(tasks.FAILED, message=tasks.FAILED_UNREACHABLE), False
    response = jsonify(_describe(doc, case, status, ready))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/cases/<digits:case_id>/documents/<digits:document_id>/render")
def retry(case_id: int, document_id: int) -> ResponseReturnValue:
    """Queue the render again after it failed or stalled (a render still running is left alone)."""
    found = _visible(case_id, document_id)
    if found is None:
        abort(404)
    doc = found[0]
    if tasks.renders_in_background(doc.kind) and not archive.is_cached(doc, _cache_dir()):
        try:
            task_queue().retry_render(doc)
        except tasks.QueueUnavailable as exc:
            log.warning("document %s could not be queued again: %s", doc.id, exc)
            return redirect(url_for("cases.document", case_id=case_id, document_id=document_id))
    return redirect(url_for("renders.progress", case_id=case_id, document_id=document_id))
