"""The web interface (网页界面): Flask app factory, thin views over the services.

A view parses a form, asks ``mediation.policy.can``, calls a service inside one
``UnitOfWork`` and renders. zh-CN is the default language, English is on every screen.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from mediation import db as dbmod
from mediation.engine import Engine
from mediation.services import MAX_ROW_ID
from mediation.workflow import Registry

from .extensions import Mediation, csrf, limiter, login_manager
from .i18n import CatalogueBabel

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"

#: Content Security Policy: everything comes from this server (offline intranet, no CDN).
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def _secret_key(instance_path: str) -> str:
    """``MEDIATION_SECRET_KEY``, else a random key kept in ``instance/secret_key`` (made once)."""
    key = os.environ.get("MEDIATION_SECRET_KEY")
    if key:
        return key
    path = Path(instance_path) / "secret_key"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".secret_key.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)  # atomic, and the first of several workers starting together wins
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return path.read_text().strip()


class RowIdConverter(IntegerConverter):
    """``<int:…>`` in every route: ids past the database's range are a 404, not an overflow (500)."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(url_map, *args, **kwargs)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config, database, workflow engine, extensions, blueprints, error pages.

    ``test_config`` overrides the configuration; ``DATABASE_URL`` there (or the
    ``MEDIATION_DATABASE_URL`` environment variable) names the database, and
    ``WORKFLOW_ENGINE`` may hand in a ready ``mediation.engine.Engine``.
    """
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(TEMPLATES),
        static_folder="static",
    )
    app.url_map.converters["int"] = RowIdConverter  # before any route is added
    config = dict(test_config or {})
    app.config.from_mapping(
        DATABASE_URL=dbmod.database_url(),
        BABEL_DEFAULT_LOCALE="zh_CN",
        BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS),
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=os.environ.get("MEDIATION_SECURE_COOKIES", "") == "1",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        DOCUMENT_CACHE_DIR=None,
        # Evidence uploads and group-member sheets: at most 20 MB, kept under instance/attachments/.
        UPLOAD_MAX_BYTES=20 * 1024 * 1024,
        ATTACHMENT_DIR=os.environ.get("MEDIATION_ATTACHMENT_DIR") or None,
        # Rate limits of the public pages, per client address (Flask-Limiter); the storage is
        # in memory unless MEDIATION_RATELIMIT_STORAGE_URI names one (e.g. redis://host:6379/0).
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=os.environ.get("MEDIATION_RATELIMIT_STORAGE_URI") or "memory://",
        PUBLIC_FILING_LIMIT="5 per hour",
        PUBLIC_STATUS_LIMIT="20 per hour",
        LOGIN_FAILURE_LIMIT="10 per 15 minutes",  # wrong passwords from one client address
        PUBLIC_VERIFY_LIMIT="30 per hour",  # document verification: code lookups and PDF uploads together
        # Reverse proxies in front of the app whose X-Forwarded-For to trust (0: none).
        PROXY_COUNT=int(os.environ.get("MEDIATION_PROXY_COUNT") or 0),
    )
    if "SECRET_KEY" not in config:
        app.config["SECRET_KEY"] = _secret_key(app.instance_path)
    engine_given = config.pop("WORKFLOW_ENGINE", None)
    app.config.from_mapping(config)

    workflow_engine = engine_given if isinstance(engine_given, Engine) else Engine(Registry.from_directory())
    db_engine = dbmod.make_engine(app.config["DATABASE_URL"])
    app.extensions["mediation"] = Mediation(
        db_engine=db_engine,
        session_factory=dbmod.make_session_factory(db_engine),
        engine=workflow_engine,
    )

    from . import admin, auth, cases, errors, ledger, public, templating

    if app.config["PROXY_COUNT"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_COUNT"])  # type: ignore[method-assign]
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    CatalogueBabel(app, locale_selector=auth.select_locale)
    templating.init_app(app)
    errors.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(cases.bp)
    app.register_blueprint(ledger.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(public.verify_bp)  # /verify/<code>: the URL in every agreement's QR code
    from . import collective, evidence, meetings, uploads

    app.request_class = uploads.UploadRequest
    app.register_blueprint(meetings.bp)
    app.register_blueprint(evidence.bp)
    app.register_blueprint(collective.bp)
    from . import workflows

    app.register_blueprint(workflows.bp)
    from . import api, stats, tokens  # issue 6: statistics, API tokens, the JSON API

    app.register_blueprint(stats.bp)
    app.register_blueprint(tokens.bp)
    api.init_app(app)
    from . import renders  # the task queue, and the progress pages of documents rendered in the background

    renders.init_app(app)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return app
