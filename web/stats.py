"""The statistics page (统计) for the station chief and the auditor, its charts' numbers as CSV,
and the monthly report as PDF and XLSX: the same ``mediation.statistics`` figures everywhere."""

from __future__ import annotations

import base64
import csv
import io
from datetime import date
from typing import Any

from flask import Blueprint, abort, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from mediation import charts, ledger, policy, reports
from mediation import statistics as stats
from mediation.errors import ValidationError
from mediation.statistics import Filters, Period, Statistics

from . import labels
from .auth import current
from .extensions import login_manager, mediation, now

bp = Blueprint("stats", __name__, url_prefix="/statistics")
#: Cell values a spreadsheet would take for a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@bp.before_request
def _require_statistics_role() -> ResponseReturnValue | None:
    """A logged-in station chief or auditor (policy ``view_statistics``); others get 403."""
    if not current_user.is_authenticated:
        response: ResponseReturnValue = login_manager.unauthorized()
        return response
    if not policy.can(current(), "view_statistics"):
        abort(403)
    return None


def _int(name: str, errors: dict[str, str], low: int = 1, high: int = 2**31 - 1) -> int | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        errors[name] = _("Not one of the allowed values.")
        return None
    return value


def _date(name: str, errors: dict[str, str]) -> date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = _("Not a date (YYYY-MM-DD).")
        return None


def parse_request() -> tuple[Period, Filters, dict[str, str]]:
    """The period and filters the query string asks for; a bad one is named in ``errors`` and left out."""
    errors: dict[str, str] = {}
    period = stats.current_month(now())
    month = (request.args.get("month") or "").strip()
    start, end = _date("from", errors), _date("to", errors)
    try:
        if start is not None or end is not None:
            if start is None or end is None:
                errors["from" if start is None else "to"] = _("Give both ends of the period.")
            else:
                period = Period.of(start, end)
        elif month:
            period = Period.parse_month(month)
    except ValidationError as exc:
        errors.update({k: _(v) for k, v in exc.errors.items()})
    kind = (request.args.get("kind") or "").strip() or None
    if kind is not None and kind not in stats.KIND_LABELS:
        errors["kind"] = _("Not one of the allowed values.")
        kind = None
    filters = Filters(
        enterprise_id=_int("enterprise", errors), area_id=_int("area", errors), category=kind,
        tier=_int("tier", errors, 1, 3),
    )
    return period, filters, errors


def _compute(period: Period, filters: Filters, charts_too: bool = True) -> Statistics:
    svc = mediation()
    with svc.reader() as uow:
        return stats.compute(uow.session, svc.registry, current(), period, filters, now=now(), charts=charts_too)


def _names(filters: Filters) -> dict[str, str]:
    """Display names of the filters' ids and values, for the report's heading."""
    svc = mediation()
    with svc.reader() as uow:
        choices = ledger.filter_choices(uow.session, svc.registry, current())
    locale = labels.locale_key()
    names = {"organisation": current().organisation.name}
    if filters.enterprise_id is not None:
        names["enterprise"] = dict(choices.enterprises).get(filters.enterprise_id, str(filters.enterprise_id))
    if filters.area_id is not None:
        names["area"] = dict(choices.areas).get(filters.area_id, str(filters.area_id))
    if filters.category is not None:
        names["kind"] = stats.KIND_LABELS[filters.category][locale]
    if filters.tier is not None:
        names["tier"] = stats.TIER_LABELS[filters.tier][locale]
    return names


def _params(period: Period, filters: Filters) -> dict[str, str]:
    out = filters.as_params()
    out.pop("organisation", None)
    if period.is_month():
        out["month"] = period.key
    else:
        out.update({"from": period.start.isoformat(), "to": period.end.isoformat()})
    return out


@bp.get("/")
def index() -> ResponseReturnValue:
    """The figures of a period (this month by default) with last year's, definitions and charts."""
    period, filters, errors = parse_request()
    result = _compute(period, filters)
    svc = mediation()
    with svc.reader() as uow:
        choices = ledger.filter_choices(uow.session, svc.registry, current())
    locale = labels.locale_key()
    rendered = [
        (result.charts[key], "data:image/svg+xml;base64,"
         + base64.b64encode(charts.chart_svg(result.charts[key], locale).encode("utf-8")).decode("ascii"))
        for key in stats.CHART_KEYS
    ]
    rows = result.rows()
    sections = [(key, label, [r for r in rows if r.definition.section == key]) for key, label in stats.SECTIONS.items()]
    params = _params(period, filters)
    return render_template(
        "stats/index.html", result=result, sections=sections, charts=rendered, errors=errors, choices=choices,
        params=params, period=period, filters=filters, kinds=stats.KIND_LABELS, tiers=stats.TIER_LABELS,
        month_value=period.key if period.is_month() else "", locale=locale,
        format_value=reports.format_value, format_change=reports.format_change,
        pdf_url=url_for("stats.report", extension="pdf", **params),
        xlsx_url=url_for("stats.report", extension="xlsx", **params),
    ), (400 if errors else 200)


def _safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


@bp.get("/charts/<key>.csv")
def chart_csv(key: str) -> ResponseReturnValue:
    """The numbers behind one chart, as CSV (UTF-8 with a BOM, so spreadsheet programs read Chinese)."""
    if key not in stats.CHART_KEYS:
        abort(404)
    period, filters, errors = parse_request()
    if errors:
        return index()  # the page, with the fields that stop the download marked (400)
    result = _compute(period, filters)
    out = io.StringIO()
    writer = csv.writer(out)
    for row in result.charts[key].rows(labels.locale_key()):
        writer.writerow([_safe(v) if v is not None else "" for v in row])
    data = ("\ufeff" + out.getvalue()).encode("utf-8")
    return send_file(io.BytesIO(data), mimetype="text/csv", as_attachment=True,
                     download_name=f"{key}-{period.key}.csv")


@bp.get("/report.<extension>")
def report(extension: str) -> ResponseReturnValue:
    """The report of the period as PDF or XLSX: the page's figures, definitions and charts."""
    if extension not in reports.FORMATS:
        abort(404)
    period, filters, errors = parse_request()
    if errors:
        return index()  # the page, with the fields that stop the download marked (400)
    result = _compute(period, filters)
    locale = labels.locale_key()
    names = _names(filters)
    data = reports.render_report(result, extension, locale=locale, organisation=current().organisation.name,
                                 names=names)
    return send_file(io.BytesIO(data), mimetype=reports.FORMATS[extension], as_attachment=True,
                     download_name=reports.report_filename(result, extension, locale))
