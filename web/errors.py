"""Friendly, translated error pages (400, 403, 404, 405, 409, 413, 500): never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from mediation.errors import ConflictError, NotFound, PermissionDenied

log = logging.getLogger(__name__)

PAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back, check what you entered and try again.")),
    401: (_l("Not logged in"), _l("Please log in.")),
    403: (_l("Not allowed"), _l("Your role may not do this, or may not see this case.")),
    404: (_l("Not found"), _l("There is no such page, case or document, or you may not see it.")),
    405: (_l("Not supported here"), _l("This address does not take that kind of request.")),
    409: (
        _l("Changed meanwhile"),
        _l("Someone else changed this case first. Nothing was saved: reload the case and try again."),
    ),
    413: (_l("Too large"), _l("What you sent is larger than the server accepts.")),
    429: (
        _l("Too many tries"),
        _l("Too many requests came from your connection in a short time. Please wait a while (up to an hour) "
           "and try again; if the matter is urgent, call or visit the police station."),
    ),
    500: (_l("Something went wrong"), _l("The server could not finish this. Nothing was half-saved; try again later.")),
}


#: The "too many tries" text of a limited page whose users are not the public.
LIMIT_MESSAGES = {
    "auth.login": _l("Too many wrong passwords were tried from this computer. Wait 15 minutes and try again; "
                     "if you have forgotten your password, ask the administrator to set a new one."),
}


def render_error(code: int, message: str | None = None) -> ResponseReturnValue:
    """The error page for ``code`` with its title and explanation (or ``message``); JSON under ``/api/``."""
    from .api import error_response, is_api_request

    if is_api_request():
        return error_response(code)
    title, text = PAGES.get(code, PAGES[500] if code >= 500 else PAGES[400])
    return render_template("errors/error.html", code=code, title=title, message=message or text), code


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    if exc.code is None or exc.code < 400:
        return exc
    from .api import http_error_response, is_api_request

    if is_api_request():
        return http_error_response(exc)
    message = LIMIT_MESSAGES.get(request.endpoint or "") if exc.code == 429 else None
    return render_error(exc.code, str(message) if message else None)


def _csrf_error(exc: CSRFError) -> ResponseReturnValue:
    return render_error(
        400, str(_l("The form has expired or did not come from this site. Reload the page and submit it again."))
    )


def _server_error(exc: InternalServerError) -> ResponseReturnValue:
    log.error("unhandled error", exc_info=exc.original_exception or exc)
    return render_error(500)


def _not_found(exc: NotFound) -> ResponseReturnValue:
    return render_error(404)


def _forbidden(exc: PermissionDenied) -> ResponseReturnValue:
    return render_error(403)


def _conflict(exc: ConflictError) -> ResponseReturnValue:
    return render_error(409)


def init_app(app: Flask) -> None:
    """Register the handlers; domain errors a view does not handle itself become 404/403/409."""
    app.register_error_handler(NotFound, _not_found)
    app.register_error_handler(PermissionDenied, _forbidden)
    app.register_error_handler(ConflictError, _conflict)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(InternalServerError, _server_error)
    app.register_error_handler(HTTPException, _http_error)
