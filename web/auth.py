"""Log in, log out and the language switch (登录、退出、语言切换)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import UserMixin, current_user, login_user, logout_user
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from mediation import auth as authmod
from mediation.models import User

from .extensions import limiter, login_manager, mediation
from .forms import LocaleForm, LoginForm, LogoutForm

bp = Blueprint("auth", __name__)
security_log = logging.getLogger("mediation.security")


class LoginUser(UserMixin):  # type: ignore[misc]  # Flask-Login is untyped
    """The logged-in user as Flask-Login sees it; ``user`` is the detached ``User`` row."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        """``<id>:<session version>`` (kept in the session cookie); a raised version ends the session."""
        return f"{self.user.id}:{self.user.session_version}"

    @property
    def is_active(self) -> bool:
        """False for a deactivated account: Flask-Login then refuses it."""
        return bool(self.user.active)


def load_user(user_id: str) -> LoginUser | None:
    """The active user of a session id ``<id>:<session version>`` with what the policy and the
    pages need loaded, or ``None`` (logged out: unknown, deactivated, or the version was raised)."""
    key, _sep, version = user_id.partition(":")
    try:
        number, seen = int(key), int(version)
    except ValueError:
        return None
    with mediation().session_factory() as s:
        user = s.get(
            User, number,
            options=[joinedload(User.organisation), joinedload(User.enterprise), joinedload(User.area),
                     selectinload(User.assigned_enterprises), selectinload(User.assigned_areas)],
        )
        if user is None or not user.active or user.session_version != seen:
            return None
        s.expunge(user)
    return LoginUser(user)


login_manager.user_loader(load_user)


def current() -> User:
    """The logged-in ``User`` (call only behind ``login_required``)."""
    user: User = current_user.user
    return user


def select_locale() -> str:
    """The interface language: the session's choice, else the user's saved one, else zh_CN."""
    chosen = session.get("locale")
    if chosen in authmod.LOCALES:
        return str(chosen)
    if current_user and current_user.is_authenticated and current_user.user.locale in authmod.LOCALES:
        return str(current_user.user.locale)
    return "zh_CN"


def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site (no scheme, no host, no ``//`` or ``\\``), else ``default``."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


@bp.before_app_request
def _drop_inactive_login() -> None:
    """Log out a session whose user was deactivated, deleted or given a new password since it logged in."""
    if request.endpoint == "static":
        return
    if "_user_id" in session and not current_user.is_authenticated:
        logout_user()
        flash(_("Your account is not active."), "error")


def _failed(response: Response) -> bool:
    """Only a refused password (401) counts against the log-in limits."""
    return response.status_code == 401


def _login_limit() -> str:
    return str(current_app.config["LOGIN_FAILURE_LIMIT"])


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
def login() -> ResponseReturnValue:
    """Show the log-in form and log the user in."""
    target = safe_next(request.values.get("next"), url_for("cases.my_cases"))
    if current_user.is_authenticated:
        return redirect(target)
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        with mediation().uow() as uow:
            user = authmod.authenticate(uow.session, form.username.data or "", form.password.data or "")
            if user is not None:
                uow.commit()
                uow.session.expunge(user)
        if user is not None:
            login_user(LoginUser(user))
            if user.locale in authmod.LOCALES and "locale" not in session:
                session["locale"] = user.locale
            return redirect(target)
        form.password.errors = [_("Wrong user name or password.")]
        # Refused per client address only (a limit per user name would let anyone lock a known
        # colleague out); failures are logged with both, for the administrator's alerting.
        security_log.warning("failed log-in for user name %r from %s", (form.username.data or "")[:150],
                             request.remote_addr)
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form, next=target), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Log out and go back to the log-in page."""
    LogoutForm()  # CSRF is checked by CSRFProtect before the view runs
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/locale")
def set_locale() -> ResponseReturnValue:
    """Switch the interface language; remembered in the session and on the user."""
    form = LocaleForm()
    locale = form.locale.data
    if locale in authmod.LOCALES:
        session["locale"] = locale
        if current_user.is_authenticated:
            with mediation().uow() as uow:
                authmod.set_locale(uow, current_user.user.id, locale)
            current_user.user.locale = locale
    return redirect(safe_next(form.next.data, url_for("cases.my_cases")))
