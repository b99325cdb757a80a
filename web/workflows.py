"""Workflow definitions and their drawings (流程定义与流程图), and a case's own drawing."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from mediation import queries
from mediation.diagram import definition_svg, state_path
from mediation.models import Event

from .auth import current
from .extensions import login_manager, mediation
from .labels import locale_key

bp = Blueprint("workflows", __name__)


@bp.before_request
def _require_login() -> ResponseReturnValue | None:
    """Every page here needs a logged-in user."""
    if not current_user.is_authenticated:
        response: ResponseReturnValue = login_manager.unauthorized()
        return response
    return None


@bp.get("/workflows")
def index() -> ResponseReturnValue:
    """Every workflow definition version, newest marked."""
    registry = mediation().registry
    newest = {name: registry.get(name).version for name in registry.names()}
    return render_template("workflows/index.html", definitions=list(registry), newest=newest)


@bp.get("/workflows/<name>/<int:version>")
def show(name: str, version: int) -> ResponseReturnValue:
    """One definition: its drawing, states, triggers with who may fire them, and clocks."""
    try:
        definition = mediation().registry.get(name, version)
    except KeyError:
        abort(404)
    svg = Markup(definition_svg(definition, locale=locale_key()))
    return render_template("workflows/show.html", d=definition, svg=svg)


@bp.get("/cases/<int:case_id>/diagram.svg")
def case_diagram(case_id: int) -> ResponseReturnValue:
    """The case's workflow drawn with its current state highlighted and its path marked."""
    svc = mediation()
    with svc.reader() as uow:
        case = queries.visible_case(uow.session, current(), case_id)  # NotFound → 404
        definition = svc.registry.get(case.workflow, case.workflow_version)
        moves = uow.session.execute(
            select(Event.from_state, Event.to_state).where(Event.case_id == case.id).order_by(Event.seq)
        ).all()
        path = [s for s in state_path((a, b) for a, b in moves) if s in definition.states]
        svg = definition_svg(definition, locale=locale_key(), current=case.state, path=path)
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, no-store"
    return response
