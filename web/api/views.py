"""The API's operations: thin views that parse, call a query or a service, and shape the answer."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from flask import g
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from sqlalchemy import literal, tuple_

from mediation import policy, queries, services
from mediation import statistics as stats
from mediation.errors import ConflictError, InvalidTransition, NotFound, PermissionDenied, ValidationError
from mediation.i18n import N_
from mediation.ledger import LedgerFilters, decode_cursor, encode_cursor, ledger_query, sort_columns
from mediation.models import User
from mediation.queries import CaseDetail, CaseRow
from mediation.types import UTCDateTime
from mediation.workflow import Definition

from ..extensions import mediation, now
from . import authenticate_request, error_response, schemas

blp = Blueprint("api", __name__, description="Cases, filing, triggers, workflows and statistics")
blp.before_request(authenticate_request)
DEFAULT_LIMIT = 50
COMMON_ERRORS = (401, 422)


def _errors(*codes: int) -> Any:
    """Document the JSON error answers ``codes`` (and 401, 422) of an operation."""
    def wrap(fn: Any) -> Any:
        for code in sorted({*codes, *COMMON_ERRORS}, reverse=True):
            fn = blp.alt_response(code, schema=schemas.ApiError, description=f"error {code}")(fn)
        return fn
    return wrap


def user() -> User:
    """The user of this request's token."""
    found: User = g.api_user
    return found


def _clock(row: CaseRow) -> dict[str, Any] | None:
    c = row.clock
    if c is None:
        return None
    return {"name": c.name, "label": dict(c.label), "days": c.days, "elapsed": c.elapsed, "last_day": c.last_day,
            "remaining": c.remaining, "status": c.status, "overdue": c.overdue}


def summary(row: CaseRow) -> dict[str, Any]:
    """A ledger row as the API shows it."""
    return {
        "id": row.id, "number": row.number, "title": row.title, "workflow": row.workflow, "state": row.state,
        "state_label": dict(row.state_label), "final": row.final, "tier": row.tier, "severity": row.severity,
        "category": row.category, "enterprise": row.enterprise, "area": row.area, "assigned_to": row.assigned_to,
        "applicants": row.applicants, "respondents": row.respondents, "risk_flag": row.risk_flag,
        "clock": _clock(row), "filed_at": row.filed_at, "updated_at": row.updated_at,
    }


def detail(case: CaseDetail) -> dict[str, Any]:
    """A case page as the API shows it: particulars (masked as for the user), events, documents."""
    return {
        "id": case.id, "number": case.number, "title": case.title, "workflow": case.workflow,
        "workflow_version": case.workflow_version, "state": case.state, "state_label": dict(case.state_label),
        "final": case.final, "tier": case.tier, "severity": case.severity, "category": case.category,
        "enterprise": case.enterprise, "filed_via": case.filed_via, "facts": case.facts, "claims": case.claims,
        "amount_claimed": case.amount_claimed, "risk_flag": case.risk_flag, "filed_at": case.filed_at,
        "accepted_at": case.accepted_at, "closed_at": case.closed_at, "updated_at": case.updated_at,
        "assigned_to": case.assigned_to, "tracking_code": case.tracking_code, "version": case.version,
        "actions": list(case.actions),
        "parties": [asdict(p) for p in case.parties],
        "events": [
            {"seq": e.seq, "at": e.at, "actor": e.actor, "trigger": e.trigger, "from_state": e.from_state,
             "to_state": e.to_state, "reason": e.reason, "data": _plain(e.data)}
            for e in case.events
        ],
        "documents": [asdict(d) for d in case.documents],
    }


def _plain(value: Any) -> Any:
    """Event data as JSON values (dates as ISO text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _case_detail(case_id: int) -> dict[str, Any]:
    svc = mediation()
    with svc.reader() as uow:
        return detail(queries.case_detail(uow.session, svc.registry, svc.engine, user(), case_id, now()))


@blp.route("/me")
@blp.response(200, schemas.MeOut)
@_errors()
def me() -> ResponseReturnValue:
    """The user this token belongs to."""
    u = user()
    return {"id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role.value,
            "organisation": u.organisation.name}


@blp.route("/cases")
@blp.arguments(schemas.CaseListArgs, location="query", as_kwargs=True)
@blp.response(200, schemas.CasePage)
@_errors(403)
def list_cases(**args: Any) -> ResponseReturnValue:
    """The cases the user may see (the ledger's filters), newest filing first, keyset-paged by ``cursor``."""
    u = user()
    if not policy.can(u, "view_ledger"):
        return error_response(403)
    filters = LedgerFilters(
        state=args.get("state"), tier=args.get("tier"), workflow=args.get("workflow"), category=args.get("kind"),
        enterprise_id=args.get("enterprise"), area_id=args.get("area"), filed_from=args.get("filed_from"),
        filed_to=args.get("filed_to"), q=args.get("q"), search_in=args.get("search_in") or "all",
        sort=args.get("sort") or "filed", descending=args.get("order", "desc") == "desc",
    )
    limit = args.get("limit") or DEFAULT_LIMIT
    svc = mediation()
    with svc.reader() as uow:
        stmt = ledger_query(uow.session, u, filters, list(svc.registry))
        cursor = args.get("cursor")
        if cursor:
            values = decode_cursor(cursor, filters)
            if values is None:
                return error_response(422, fields={"cursor": N_("Not a cursor of this list (use next_cursor).")})
            columns = sort_columns(filters)
            values = [_as_column_value(c, v) for c, v in zip(columns, values, strict=True)]
            if any(v is None for v in values):
                return error_response(422, fields={"cursor": N_("Not a cursor of this list (use next_cursor).")})
            left = tuple_(*columns)
            right = tuple_(*(literal(v, c.type) for c, v in zip(columns, values, strict=True)))
            stmt = stmt.where(left < right if filters.descending else left > right)
        cases = list(uow.session.scalars(stmt.options(*queries.row_options()).limit(limit + 1)))
        more = len(cases) > limit
        cases = cases[:limit]
        rows = queries.case_rows(uow.session, svc.registry, u, cases, now())
        next_cursor = encode_cursor(cases[-1], filters) if more and cases else None
    return {"items": [summary(r) for r in rows], "next_cursor": next_cursor, "limit": limit}


def _as_column_value(column: Any, value: Any) -> Any:
    """A cursor value as the column's type (an ISO text as an aware datetime), or ``None``."""
    if isinstance(column.type, UTCDateTime) and isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else None
    return value


@blp.route("/cases/<int(max=2147483647):case_id>")
@blp.response(200, schemas.CaseOut)
@_errors(404)
def read_case(case_id: int) -> ResponseReturnValue:
    """One case with its parties (ID numbers masked as for this user), events and documents."""
    try:
        return _case_detail(case_id)
    except NotFound:
        return error_response(404)


@blp.route("/cases", methods=["POST"])
@blp.arguments(schemas.FilingIn)
@blp.response(201, schemas.CaseOut)
@_errors(403)
def file_case(filing: dict[str, Any]) -> ResponseReturnValue:
    """File a dispute (登记) as the token's user; the answer is the new case."""
    u = user()
    if not policy.can(u, "file"):
        return error_response(403)
    svc = mediation()
    try:
        with svc.uow() as uow:
            filed = services.file_case(uow, u.id, filing, now=now())
    except ValidationError as exc:
        return error_response(422, fields=exc.errors)
    except PermissionDenied:
        return error_response(403)
    return _case_detail(filed.case_id), 201, {"Location": f"/api/v1/cases/{filed.case_id}"}


@blp.route("/cases/<int(max=2147483647):case_id>/triggers/<string:trigger>", methods=["POST"])
@blp.arguments(schemas.FireIn)
@blp.response(200, schemas.FiredOut)
@_errors(403, 404, 409)
def fire(body: dict[str, Any], case_id: int, trigger: str) -> ResponseReturnValue:
    """Fire ``trigger`` with its data; ``expected_version`` guards against lost updates (409 when stale)."""
    u = user()
    svc = mediation()
    try:
        with svc.uow() as uow:
            fired = services.fire(uow, case_id, trigger, u.id, body.get("data") or {},
                                  expected_version=body["expected_version"], now=now())
    except NotFound:
        return error_response(404)
    except PermissionDenied:
        return error_response(403, message=N_("You may not do this to this case."))
    except ValidationError as exc:
        return error_response(422, fields=exc.errors)
    except InvalidTransition:
        return error_response(409, code="invalid_transition",
                              message=N_("This action is not possible in the case's current state."))
    except ConflictError:
        return error_response(409)
    return {"trigger": fired.trigger, "from_state": fired.from_state, "to_state": fired.to_state,
            "version": fired.version, "documents": list(fired.documents), "case": _case_detail(case_id)}


def workflow_dict(d: Definition) -> dict[str, Any]:
    """A workflow definition as data: states, triggers with who and requires, tiers, clocks."""
    return {
        "name": d.name, "version": d.version, "title": dict(d.title), "categories": list(d.categories),
        "initial": d.initial,
        "tiers": [{"number": t.number, "state": t.state, "lead": t.lead, "title": dict(t.title)}
                  for t in d.tiers.values()],
        "states": [{"name": s.name, "label": dict(s.label), "final": s.final, "tier": s.tier, "outcome": s.outcome}
                   for s in d.states.values()],
        "triggers": [
            {"name": t.name, "label": dict(t.label), "who": list(t.who), "requires": list(t.requires),
             "documents": list(t.documents),
             "transitions": [{"sources": list(tr.sources), "dest": tr.dest} for tr in t.transitions]}
            for t in d.triggers.values()
        ],
        "clocks": [{"name": c.name, "label": dict(c.label), "days": c.days, "source": c.source}
                   for c in d.clocks.values()],
    }


@blp.route("/workflows")
@blp.response(200, schemas.WorkflowList)
@_errors()
def list_workflows() -> ResponseReturnValue:
    """Every workflow definition version (DESIGN.md §3)."""
    return {"items": [workflow_dict(d) for d in mediation().registry]}


@blp.route("/workflows/<string:name>")
@blp.response(200, schemas.WorkflowOut)
@_errors(404)
def read_workflow(name: str) -> ResponseReturnValue:
    """The newest version of the workflow ``name``."""
    try:
        return workflow_dict(mediation().registry.get(name))
    except KeyError:
        return error_response(404)


@blp.route("/workflows/<string:name>/versions/<int(max=2147483647):version>")
@blp.response(200, schemas.WorkflowOut)
@_errors(404)
def read_workflow_version(name: str, version: int) -> ResponseReturnValue:
    """Version ``version`` of the workflow ``name``."""
    try:
        return workflow_dict(mediation().registry.get(name, version))
    except KeyError:
        return error_response(404)


@blp.route("/statistics")
@blp.arguments(schemas.StatisticsArgs, location="query", as_kwargs=True)
@blp.response(200, schemas.StatisticsOut)
@_errors(403)
def statistics(**args: Any) -> ResponseReturnValue:
    """The statistics page's figures and charts' numbers for a month (``month``) or ``from``–``to``."""
    u = user()
    if not policy.can(u, "view_statistics"):
        return error_response(403)
    try:
        period = period_of(args.get("month"), args.get("from_"), args.get("to"))
        filters = stats.Filters(enterprise_id=args.get("enterprise"), area_id=args.get("area"),
                                category=args.get("kind"), tier=args.get("tier"))
    except ValidationError as exc:
        return error_response(422, fields=exc.errors)
    svc = mediation()
    with svc.reader() as uow:
        result = stats.compute(uow.session, svc.registry, u, period, filters, now=now())
    return result.as_dict()


def period_of(month: str | None, start: date | None, end: date | None) -> stats.Period:
    """The period asked for: ``month``, else ``from``–``to``, else this month; raises ``ValidationError``."""
    if month:
        return stats.Period.parse_month(month)
    if start is not None or end is not None:
        if start is None or end is None:
            raise ValidationError({"from" if start is None else "to": N_("Give both ends of the period.")})
        return stats.Period.of(start, end)
    return stats.current_month(now())
