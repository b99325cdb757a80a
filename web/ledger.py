"""The ledger page (台账) and its exports (CSV, XLSX): parse the filters, ask the policy, render.

The query is ``mediation.ledger``; this module turns the request's arguments into
``LedgerFilters`` (a bad date or an unknown choice is reported beside its field and
left out, never a 500) and writes what the query returns.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from mediation import ledger, policy, queries
from mediation.clocks import SHANGHAI
from mediation.ledger import EXPORT_LIMIT, ExportRow, FilterChoices, LedgerFilters
from mediation.workflow import Registry

from . import forms, labels
from .auth import current
from .extensions import login_manager, mediation, now

bp = Blueprint("ledger", __name__)
audit_log = logging.getLogger("mediation.audit")
#: Arguments that page the ledger rather than filter it.
PAGING_ARGS = ("after", "before")
#: Longest search accepted (characters).
MAX_SEARCH = 200
#: Cell values a spreadsheet would take for a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@bp.before_request
def _require_login() -> ResponseReturnValue | None:
    """The exports need a logged-in user like every ledger page."""
    if not current_user.is_authenticated:
        response: ResponseReturnValue = login_manager.unauthorized()
        return response
    return None


def _date(raw: str | None, field: str, errors: dict[str, str]) -> date | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[field] = _("Not a date; write it as YYYY-MM-DD.")
        return None


def _id_choice(raw: str | None, known: Iterable[tuple[int, str]], field: str, errors: dict[str, str]) -> int | None:
    text = (raw or "").strip()
    if not text:
        return None
    ids = {i for i, _name in known}
    if text.isdigit() and int(text) in ids:
        return int(text)
    errors[field] = _("Not one of the allowed values.")
    return None


def read_filters(
    args: MultiDict[str, str], registry: Registry, choices: FilterChoices
) -> tuple[forms.LedgerFilterForm, LedgerFilters, dict[str, str]]:
    """The filter form filled from ``args`` with its choices, the filters it says, and the errors by field."""
    form = forms.LedgerFilterForm(args)
    states = queries.state_choices(registry)
    categories = list(dict.fromkeys(c for d in registry for c in d.categories))
    form.state.choices = [SelectChoice("", _("All states"))] + [
        SelectChoice(name, labels.pick(label)) for name, label in states
    ]
    form.category.choices = [SelectChoice("", _("All categories"))] + [
        SelectChoice(c, labels.label("category", c)) for c in categories
    ]
    form.enterprise.choices = [SelectChoice("", _("All enterprises"))] + [
        SelectChoice(str(i), name) for i, name in choices.enterprises
    ]
    form.area.choices = [SelectChoice("", _("All areas"))] + [SelectChoice(str(i), name) for i, name in choices.areas]
    form.mediator.choices = [SelectChoice("", _("Anyone")), SelectChoice("none", _("Nobody yet"))] + [
        SelectChoice(str(i), name) for i, name in choices.mediators
    ]
    errors: dict[str, str] = {}
    q = (form.q.data or "").strip()
    if len(q) > MAX_SEARCH:
        errors["q"] = _("Too long (at most %(n)d characters).", n=MAX_SEARCH)
        q = ""
    filed_from = _date(form.filed_from.data, "filed_from", errors)
    filed_to = _date(form.filed_to.data, "filed_to", errors)
    if filed_from and filed_to and filed_to < filed_from:
        errors["filed_to"] = _("The end is before the start.")
        filed_to = None
    mediator_raw = (form.mediator.data or "").strip()
    filters = LedgerFilters(
        state=form.state.data if form.state.data in {s for s, _label in states} else None,
        tier=int(form.tier.data) if form.tier.data in ("1", "2", "3") else None,
        category=form.category.data if form.category.data in categories else None,
        enterprise_id=_id_choice(form.enterprise.data, choices.enterprises, "enterprise", errors),
        area_id=_id_choice(form.area.data, choices.areas, "area", errors),
        mediator_id=None if mediator_raw == "none" else _id_choice(mediator_raw, choices.mediators, "mediator", errors),
        unassigned=mediator_raw == "none",
        filed_from=filed_from,
        filed_to=filed_to,
        q=q or None,
        search_in=form.search_in.data if form.search_in.data in ledger.SEARCH_IN else "all",
        sort=form.sort.data if form.sort.data in ledger.SORTS else "filed",
        descending=form.order.data != "asc",
    )
    return form, filters, errors


def _filter_args() -> dict[str, str]:
    """The request's filter arguments (not its paging), to build links with."""
    return {k: v for k, v in request.args.items() if k not in PAGING_ARGS and v != ""}


def page() -> ResponseReturnValue:
    """The ledger page: filters, the matching cases a page at a time, export links."""
    user = current()
    if not policy.can(user, "view_ledger"):
        abort(403)
    svc = mediation()
    with svc.uow() as uow:
        choices = ledger.filter_choices(uow.session, svc.registry, user)
        form, filters, errors = read_filters(request.args, svc.registry, choices)
        result = ledger.ledger_page(
            uow.session, svc.registry, user, filters, now(),
            after=request.args.get("after"), before=request.args.get("before"),
            per_page=int(current_app.config.get("LEDGER_PAGE_SIZE") or ledger.PAGE_SIZE),
        )
    args = _filter_args()
    notice = None
    if filters.q and filters.search_in in ("id_number", "phone") and not policy.can(user, "search_particulars"):
        notice = _("Your role may not search by ID number or phone.")
    return render_template(
        "cases/ledger.html",
        form=form,
        filters=filters,
        result=result,
        errors=errors,
        notice=notice,
        args=args,
        next_url=url_for("cases.ledger", **args, after=result.next_cursor) if result.next_cursor else None,
        prev_url=url_for("cases.ledger", **args, before=result.prev_cursor) if result.prev_cursor else None,
        csv_url=url_for("ledger.export", fmt="csv", **args) if policy.can(user, "export") else None,
        xlsx_url=url_for("ledger.export", fmt="xlsx", **args) if policy.can(user, "export") else None,
        filtered=any(k not in ("sort", "order") for k in args),
        export_limit=EXPORT_LIMIT,
    ), (400 if errors else 200)


# --- exports -----------------------------------------------------------------------

def _local(value: datetime | None) -> datetime | None:
    """An instant as a naive Asia/Shanghai time, for a spreadsheet cell."""
    return value.astimezone(SHANGHAI).replace(tzinfo=None) if value is not None else None


def export_columns() -> list[tuple[str, int, Callable[[ExportRow], Any]]]:
    """The export's columns: translated header, width in a spreadsheet (characters), how to get each cell."""
    return [
        (_("Case number"), 26, lambda r: r.row.number),
        (_("Title"), 36, lambda r: r.row.title),
        (_("Kind of mediation"), 14, lambda r: labels.pick(r.row.workflow_label)),
        (_("Category"), 14, lambda r: labels.label("category", r.row.category)),
        (_("State"), 14, lambda r: labels.pick(r.row.state_label)),
        (_("Tier"), 6, lambda r: r.row.tier),
        (_("Severity"), 8, lambda r: labels.label("severity", r.severity)),
        (_("Enterprise"), 24, lambda r: r.row.enterprise or ""),
        (_("Area"), 14, lambda r: r.row.area or ""),
        (_("Mediator"), 10, lambda r: r.row.assigned_to or ""),
        (_("Applicants"), 20, lambda r: r.names("applicant")),
        (_("Applicants' ID numbers"), 22, lambda r: r.particulars("applicant", "id_number")),
        (_("Applicants' phones"), 16, lambda r: r.particulars("applicant", "phone")),
        (_("Respondents"), 20, lambda r: r.names("respondent")),
        (_("Respondents' ID numbers"), 22, lambda r: r.particulars("respondent", "id_number")),
        (_("Respondents' phones"), 16, lambda r: r.particulars("respondent", "phone")),
        (_("Third parties"), 16, lambda r: r.names("third_party")),
        (_("Amount claimed (CNY)"), 14, lambda r: r.amount_claimed),
        (_("Source"), 14, lambda r: labels.label("source", r.filed_via)),
        (_("Filed at"), 17, lambda r: _local(r.row.filed_at)),
        (_("Accepted at"), 17, lambda r: _local(r.accepted_at)),
        (_("Closed at"), 17, lambda r: _local(r.closed_at)),
        (_("Last changed"), 17, lambda r: _local(r.row.updated_at)),
    ]


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def write_csv(rows: Iterable[ExportRow]) -> bytes:
    """The rows as CSV in UTF-8 with a byte-order mark, so Excel opens the Chinese right."""
    columns = export_columns()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([header for header, _width, _get in columns])
    for row in rows:
        writer.writerow([_csv_text(get(row)) for _header, _width, get in columns])
    return out.getvalue().encode("utf-8-sig")


def write_xlsx(rows: Iterable[ExportRow]) -> bytes:
    """The rows as an XLSX workbook: one sheet, a bold frozen header, dates and amounts typed."""
    columns = export_columns()
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Ledger"))
    sheet.freeze_panes = "A2"
    for number, (_title, width, _get) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = width
    bold = Font(bold=True)
    header = []
    for title, _width, _get in columns:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        cells = []
        for _title, _width, get in columns:
            value = get(row)
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text, never a formula
            elif isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, Decimal):
                cell.number_format = "#,##0.00"
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


WRITERS: dict[str, tuple[Callable[[Iterable[ExportRow]], bytes], str]] = {
    "csv": (write_csv, "text/csv; charset=utf-8"),
    "xlsx": (write_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


@bp.get("/ledger/export.<fmt>")
def export(fmt: str) -> ResponseReturnValue:
    """The filtered ledger as a CSV or XLSX file; ID numbers and phones masked unless the
    user may see them whole (PIPL arts. 28–30, DOMAIN R36)."""
    if fmt not in WRITERS:
        abort(404)
    user = current()
    if not policy.can(user, "export"):
        abort(403)
    svc = mediation()
    writer, mimetype = WRITERS[fmt]
    with svc.uow() as uow:
        choices = ledger.filter_choices(uow.session, svc.registry, user)
        _form, filters, errors = read_filters(request.args, svc.registry, choices)
        if errors:
            abort(400)
        rows = list(ledger.export_rows(uow.session, svc.registry, user, filters, now()))
    whole = sum(1 for r in rows if r.particulars_whole)
    if whole:
        audit_log.info("user %s exported the particulars of %s cases (%s)", user.id, whole, fmt)
    stamp = now().astimezone(SHANGHAI).strftime("%Y%m%d-%H%M")
    name = f"{_('Ledger')}-{stamp}.{fmt}"
    return send_file(io.BytesIO(writer(rows)), mimetype=mimetype, as_attachment=True, download_name=name)
