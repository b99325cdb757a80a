"""The "API tokens" page (接口令牌): make a token (its secret shown once), see them, revoke one."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from mediation import api_tokens
from mediation.errors import NotFound, ValidationError

from .auth import current
from .extensions import login_manager, mediation, now

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")


@bp.before_request
def _require_login() -> ResponseReturnValue | None:
    """Only a logged-in user manages their own tokens."""
    if not current_user.is_authenticated:
        response: ResponseReturnValue = login_manager.unauthorized()
        return response
    return None


def _page(secret: str | None = None, errors: dict[str, str] | None = None, status: int = 200,
          name: str = "") -> ResponseReturnValue:
    svc = mediation()
    with svc.reader() as uow:
        tokens = api_tokens.list_tokens(uow.session, current().id)
    response = render_template("tokens/index.html", tokens=tokens, secret=secret, errors=errors or {}, name=name)
    # A page that shows a secret must not be kept by the browser or a proxy.
    return response, status, {"Cache-Control": "no-store"}


@bp.get("/")
def index() -> ResponseReturnValue:
    """The user's tokens and the form to make one."""
    return _page()


@bp.post("/")
def create() -> ResponseReturnValue:
    """Make a token and show its secret this once."""
    name = request.form.get("name", "")
    try:
        with mediation().uow() as uow:
            made = api_tokens.create_token(uow, current().id, name, now())
    except ValidationError as exc:
        return _page(errors={k: _(v) for k, v in exc.errors.items()}, status=400, name=name)
    except NotFound:
        abort(403)
    return _page(secret=made.secret)


@bp.post("/<int:token_id>/revoke")
def revoke(token_id: int) -> ResponseReturnValue:
    """Revoke a token at once; calls with it are refused from now on."""
    try:
        with mediation().uow() as uow:
            api_tokens.revoke_token(uow, current().id, token_id, now())
    except NotFound:
        abort(404)
    flash(_("The token was revoked."), "success")
    return redirect(url_for("tokens.index"))
