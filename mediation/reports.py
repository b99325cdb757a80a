"""The monthly statistics report (统计月报) as a PDF and as an XLSX workbook.

Both carry exactly the numbers of ``mediation.statistics.compute`` (the statistics page
and the API show the same ``Statistics``), each figure with its definition beside it,
and the charts: the PDF inlines ``mediation.charts`` SVGs, the workbook has one sheet
per chart with its numbers and a native Excel chart drawn from them.

The PDF goes through WeasyPrint the way ``mediation.documents`` renders the legal
documents: the same process-wide font configuration and the same restrictive URL
fetcher (the report embeds nothing from outside: its charts and styles are inline), as
PDF/A-3b. The template is ``templates/reports/statistics.html``. Nothing here knows Flask.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Final

import jinja2
from markupsafe import Markup
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .charts import chart_svg, prefixed_ids
from .clocks import SHANGHAI
from .i18n import colon
from .statistics import CHART_KEYS, SECTIONS, FigureRow, Statistics
from .workflow import Label, pick_label

TEMPLATE_ROOT: Final[Path] = Path(__file__).resolve().parent.parent / "templates"
LOCALES: Final[tuple[str, ...]] = ("zh_CN", "en")


def _two(zh: str, en: str) -> dict[str, str]:
    return {"zh_CN": zh, "en": en}


#: The report's fixed wording in both languages.
TEXT: Final[Mapping[str, Label]] = {
    "title": _two("矛盾纠纷调处统计报表", "Dispute mediation statistics"),
    "period": _two("统计期间", "Period"),
    "previous": _two("上年同期", "Same period last year"),
    "as_of": _two("统计时间", "Figures as at"),
    "filters": _two("筛选条件", "Filters"),
    "no_filters": _two("全部案件", "All cases"),
    "figure": _two("指标", "Figure"),
    "value": _two("本期", "This period"),
    "last_year": _two("上年同期", "Last year"),
    "change": _two("同比", "Change"),
    "definition": _two("口径（分子/分母）", "Definition (numerator / denominator)"),
    "charts": _two("统计图", "Charts"),
    "figures": _two("统计指标", "Figures"),
    "points": _two("个百分点", "points"),
    "organisation": _two("单位", "Organisation"),
    "enterprise": _two("企业", "Enterprise"),
    "area": _two("片区", "Area"),
    "kind": _two("纠纷类别", "Kind"),
    "tier": _two("层级", "Tier"),
    "days": _two("天", "days"),
}


def text(key: str, locale: str) -> str:
    """The report's wording ``key`` in ``locale``."""
    return pick_label(TEXT[key], locale)


def format_value(value: float | int | None, unit: str, locale: str = "zh_CN") -> str:
    """A figure as printed: ``12``, ``83.3%``, ``4.5`` (days); ``—`` when nothing was counted."""
    if value is None:
        return "—"
    if unit == "percent":
        return f"{value:g}%"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}"
    return f"{int(value)}"


def format_change(row: FigureRow, locale: str = "zh_CN") -> str:
    """``+12.5%``, ``-3 points`` / ``-3个百分点``; ``—`` when last year gives no base."""
    if row.change is None:
        return "—"
    sign = "+" if row.change > 0 else ""
    if row.change_unit == "points":
        return f"{sign}{row.change:g}" + (" points" if locale == "en" else "个百分点")
    return f"{sign}{row.change:g}%"


def filter_lines(statistics: Statistics, names: Mapping[str, str], locale: str) -> list[str]:
    """The filters as ``Label: value`` lines (``names`` gives display names of ids and values).

    The organisation is not among them: the report names it on a line of its own, whether
    the figures were narrowed to it (``mediation report``) or are all its chief may see (the page).
    """
    out = []
    for key in ("enterprise", "area", "kind", "tier"):
        value = statistics.filters.as_params().get(key)
        if value is not None:
            out.append(f"{text(key, locale)}{colon(locale)}{names.get(key, value)}")
    return out


# --- PDF -----------------------------------------------------------------------------

def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_ROOT)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(pick=pick_label, text=text, format_value=format_value, format_change=format_change)
    return env


_ENV: Final[jinja2.Environment] = _environment()


def report_html(
    statistics: Statistics, *, locale: str = "zh_CN", organisation: str = "", names: Mapping[str, str] | None = None
) -> str:
    """The report as one self-contained HTML page (inline SVG charts and styles), for WeasyPrint."""
    charts = [
        (statistics.charts[key], Markup(prefixed_ids(chart_svg(statistics.charts[key], locale), f"c{i}")))
        for i, key in enumerate(CHART_KEYS)
        if key in statistics.charts
    ]
    rows = statistics.rows()
    sections = [(key, label, [r for r in rows if r.definition.section == key]) for key, label in SECTIONS.items()]
    return _ENV.get_template("reports/statistics.html").render(
        statistics=statistics,
        locale=locale,
        lang="en" if locale == "en" else "zh-CN",
        organisation=organisation,
        sections=sections,
        charts=charts,
        filters=filter_lines(statistics, names or {}, locale),
        colon=colon(locale),
        as_of=statistics.as_of.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
    )


def report_pdf(
    statistics: Statistics, *, locale: str = "zh_CN", organisation: str = "", names: Mapping[str, str] | None = None
) -> bytes:
    """The report as A4 PDF/A-3b bytes (WeasyPrint, the documents' fonts and URL fetcher)."""
    from .documents import _html_to_pdf  # the documents' renderer: shared fonts, lock, refusing fetcher

    return _html_to_pdf(report_html(statistics, locale=locale, organisation=organisation, names=names))


# --- XLSX ----------------------------------------------------------------------------

_HEADER = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DCE6F2")
_WRAP = Alignment(wrap_text=True, vertical="top")


def _sheet_title(label: str) -> str:
    """``label`` as a sheet name: without the characters Excel refuses, at most its 31
    characters, cut after a whole word with an ellipsis when longer."""
    for bad in "[]:*?/\\":
        label = label.replace(bad, " ")
    if len(label) <= 31:
        return label
    cut = label[:30]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"


def report_xlsx(
    statistics: Statistics, *, locale: str = "zh_CN", organisation: str = "", names: Mapping[str, str] | None = None
) -> bytes:
    """The report as an XLSX workbook: the figures sheet, then one sheet per chart with its numbers and chart.

    Values are numbers (a rate in per cent, e.g. ``83.3``), never text, so they can be
    summed; an empty cell means nothing was counted.
    """
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _sheet_title(text("figures", locale))
    sheet.append([text("title", locale)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([text("organisation", locale), organisation])
    sheet.append([text("period", locale), statistics.period.label(locale),
                  f"{statistics.period.start.isoformat()} – {statistics.period.end.isoformat()}"])
    sheet.append([text("previous", locale),
                  f"{statistics.previous_period.start.isoformat()} – {statistics.previous_period.end.isoformat()}"])
    sheet.append([text("as_of", locale), statistics.as_of.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")])
    sheet.append([text("filters", locale),
                  "; ".join(filter_lines(statistics, names or {}, locale)) or text("no_filters", locale)])
    sheet.append([])
    header = [text("figure", locale), text("value", locale), text("last_year", locale), text("change", locale),
              text("definition", locale), "key", "unit"]
    sheet.append(header)
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font, cell.fill = _HEADER, _HEADER_FILL
    for row in statistics.rows():
        d = row.definition
        sheet.append([pick_label(d.label, locale), row.current.value, row.previous.value, row.change,
                      d.definition(locale), d.key, d.unit if d.unit != "percent" else "%"])
        sheet.cell(sheet.max_row, 5).alignment = _WRAP
        if row.change is not None:
            sheet.cell(sheet.max_row, 4).number_format = '+0.0;-0.0;0' if row.change_unit == "points" \
                else '+0.0"%";-0.0"%";0"%"'
    for column, width in zip("ABCDEFG", (30, 12, 12, 12, 80, 26, 8), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = sheet.cell(header_row + 1, 1)

    for key in CHART_KEYS:
        chart = statistics.charts.get(key)
        if chart is None:
            continue
        ws = book.create_sheet(_sheet_title(pick_label(chart.title, locale)))
        for values in chart.rows(locale):
            ws.append(values)
        for cell in ws[1]:
            cell.font, cell.fill = _HEADER, _HEADER_FILL
        ws.column_dimensions["A"].width = 24
        for col in range(2, len(chart.series) + 2):
            ws.column_dimensions[get_column_letter(col)].width = 16
        if not chart.categories:
            continue
        drawing: BarChart | LineChart = LineChart() if chart.kind == "line" else BarChart()
        if isinstance(drawing, BarChart):
            drawing.type = "col"
            if chart.kind == "stacked":
                drawing.grouping, drawing.overlap = "stacked", 100
        drawing.title = pick_label(chart.title, locale)
        drawing.height, drawing.width = 8, 18
        last = len(chart.categories) + 1
        data = Reference(ws, min_col=2, max_col=len(chart.series) + 1, min_row=1, max_row=last)
        drawing.add_data(data, titles_from_data=True)
        drawing.set_categories(Reference(ws, min_col=1, min_row=2, max_row=last))
        ws.add_chart(drawing, f"{get_column_letter(len(chart.series) + 3)}2")

    book.properties.creator = "mediation"
    book.properties.title = text("title", locale)
    created = statistics.as_of.astimezone(SHANGHAI).replace(tzinfo=None, microsecond=0)
    book.properties.created = book.properties.modified = created
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


#: The report's formats: file extension → MIME type.
FORMATS: Final[Mapping[str, str]] = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def render_report(
    statistics: Statistics,
    extension: str,
    *,
    locale: str = "zh_CN",
    organisation: str = "",
    names: Mapping[str, str] | None = None,
) -> bytes:
    """The report in ``extension`` (a key of ``FORMATS``) as bytes; raises ``ValueError`` for another format.

    The statistics page's download and ``mediation report`` both write it through here.
    """
    if extension == "pdf":
        return report_pdf(statistics, locale=locale, organisation=organisation, names=names)
    if extension == "xlsx":
        return report_xlsx(statistics, locale=locale, organisation=organisation, names=names)
    raise ValueError(f"not a report format: {extension!r} (one of {', '.join(FORMATS)})")


def report_filename(statistics: Statistics, extension: str, locale: str = "zh_CN") -> str:
    """``统计报表-2026-03.pdf`` / ``statistics-2026-03.xlsx``."""
    stem = "statistics" if locale == "en" else "统计报表"
    return f"{stem}-{statistics.period.key}.{extension}"


def generated_at(now: datetime) -> str:
    """``2026-03-31 18:00`` in Asia/Shanghai."""
    return now.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")

