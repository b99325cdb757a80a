"""The JSON API under ``/api/v1`` (接口): cases, filing, firing triggers, workflows, statistics.

Why flask-smorest: its request and response schemas are marshmallow schemas that both
check the data and, through apispec, generate the OpenAPI 3 document served at
``/api/v1/openapi.json`` — the document is made from the code that runs, so it cannot
drift, and it is a well-kept Flask extension of the marshmallow project (apispec on
its own would leave the routing-to-document glue to us; spectree/pydantic would add a
second validation library beside WTForms and marshmallow's webargs).

Authentication is a personal token (``Authorization: Bearer med_…``, made on the
"API tokens" page) and nothing else: a session cookie does not authenticate here, so the
blueprint is exempt from CSRF without opening a hole. The caller then sees exactly what
the same user sees in the browser: every read goes through ``policy.visible_clause`` /
``policy.can_view`` and every write through the services, which ask ``policy.can``.
Errors are JSON: ``{"error": {"code", "message", "fields"}}``; flask-smorest's own
app-wide error handler is not installed, so the HTML pages keep theirs.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response, g, jsonify, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_smorest import Api as SmorestApi
from werkzeug.exceptions import HTTPException

from mediation import api_tokens
from mediation.i18n import N_

from ..extensions import csrf, mediation, now

PREFIX = "/api/v1"
#: Messages of HTTP errors, by status (English msgids, translated per request).
CODES = {
    400: ("bad_request", N_("The request could not be understood.")),
    401: ("unauthorized", N_("Send a valid API token: Authorization: Bearer <token>.")),
    403: ("forbidden", N_("Your role may not do this.")),
    404: ("not_found", N_("There is no such resource, or you may not see it.")),
    405: ("method_not_allowed", N_("This address does not take that method.")),
    409: ("conflict", N_("Someone else changed this case first; read it again and retry.")),
    413: ("payload_too_large", N_("What you sent is larger than the server accepts.")),
    415: ("unsupported_media_type", N_("Send JSON (Content-Type: application/json).")),
    422: ("validation_error", N_("Some fields are not valid.")),
    500: ("internal_error", N_("The server could not finish this. Nothing was half-saved.")),
}


class Api(SmorestApi):  # type: ignore[misc]  # flask-smorest is untyped
    """flask-smorest without its app-wide JSON error handler (the HTML pages keep theirs) and without
    its generic ``default`` error response: every operation documents our own error answers."""

    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self) -> None:
        """Errors of the API are answered by ``web.api.error_response`` (see ``web.errors``)."""


def is_api_request(req: Request | None = None) -> bool:
    """True for a request under ``/api/``."""
    path = (req or request).path
    return path == PREFIX or path.startswith(PREFIX + "/") or path.startswith("/api/")


def api_locale() -> str:
    """``en`` or ``zh_CN`` for messages: the Accept-Language header, else the token user's, else zh_CN."""
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    if best:
        return "en" if best == "en" else "zh_CN"
    user = g.get("api_user")
    return "en" if user is not None and user.locale == "en" else "zh_CN"


def _flatten(messages: Any, prefix: str = "") -> dict[str, str]:
    """webargs/marshmallow messages as ``{"parties.1.id_number": "…"}`` (list positions count from 1)."""
    out: dict[str, str] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            part = str(key + 1) if isinstance(key, int) else str(key)
            if part in ("json", "query", "view_args", "_schema") and not prefix:
                part = ""
            path = f"{prefix}.{part}" if prefix and part else (part or prefix)
            out.update(_flatten(value, path))
    elif isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            out[prefix or "request"] = " ".join(messages)
        else:
            for item in messages:
                out.update(_flatten(item, prefix))
    else:
        out[prefix or "request"] = str(messages)
    return out


def error_response(status: int, code: str | None = None, message: str | None = None,
                   fields: dict[str, str] | None = None) -> Response:
    """The JSON error answer: ``{"error": {"code", "message", "fields"?}}`` with ``status``."""
    default_code, default_message = CODES.get(status, CODES[500] if status >= 500 else CODES[400])
    with force_locale(api_locale()):
        body: dict[str, Any] = {"code": code or default_code, "message": _(message or default_message)}
        if fields:
            body["fields"] = {k: _(v) for k, v in fields.items()}
    response = jsonify({"error": body})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="mediation"'
    return response


def http_error_response(exc: HTTPException) -> Response:
    """An HTTP error raised in or before an API view, as JSON (webargs' 422 with its fields)."""
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    if status == 422 and messages:
        return error_response(422, fields=_flatten(messages))
    return error_response(status)


def authenticate_request() -> Response | None:
    """Find the token's user (``g.api_user``) or answer 401; the session cookie is ignored."""
    if request.method == "OPTIONS":
        return None
    header = request.headers.get("Authorization", "")
    scheme, _sep, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return error_response(401)
    with mediation().uow() as uow:
        user = api_tokens.authenticate(uow, secret.strip(), now())
    if user is None:
        return error_response(401, message=N_("The API token is not valid, or was revoked."))
    g.api_user = user
    return None


def init_app(app: Flask) -> None:
    """Register the API blueprint, its OpenAPI document and its authentication."""
    from . import views

    app.config.setdefault("API_TITLE", "Dispute mediation API (矛盾纠纷调处接口)")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "info": {"description": "Token authentication (Authorization: Bearer …, made on the API tokens page). "
                                "Errors: {\"error\": {\"code\", \"message\", \"fields\"}}."},
    })
    api = Api(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    csrf.exempt(views.blp)
    api.register_blueprint(views.blp, url_prefix=PREFIX)
    app.extensions["mediation_api"] = api

    @app.get(PREFIX + "/openapi.json", endpoint="api_openapi_json")
    def openapi_json() -> Response:
        """The OpenAPI 3 document of this API, generated from the code."""
        return jsonify(api.spec.to_dict())
