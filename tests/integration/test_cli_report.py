"""``mediation report``: the statistics page's monthly report from the command line (issue 6).

The real cases are replayed into the test database (SQLite or PostgreSQL); the command's
PDF and XLSX must carry the figures ``mediation.statistics`` computes for the station,
the workbook cell for cell what the page's download holds, and bad input must be one
line naming the option, never a traceback.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from pypdf import PdfReader

from mediation import reports
from mediation import statistics as stats
from mediation.cli import cli
from mediation.enums import Role
from mediation.models import Organisation
from mediation.statistics import Filters, Period
from tests import factories

from .test_statistics import replayed  # noqa: F401  (a fixture)

#: The first month of the real cases, and an instant after their last step.
MONTH = Period.month(2026, 3)
AFTER_ALL = datetime(2027, 12, 31, 4, 0, tzinfo=UTC)


@pytest.fixture
def run(database, monkeypatch):
    """``mediation report ARGS…`` on the test database: the click result."""
    monkeypatch.setenv("MEDIATION_DATABASE_URL", database.url)

    def invoke(*args: str):
        result = CliRunner().invoke(cli, ["report", *args])
        assert "Traceback" not in result.output
        return result

    return invoke


@pytest.fixture
def station(replayed, session) -> Organisation:  # noqa: F811
    """The replayed real cases' station."""
    _specs, org_id = replayed
    org = session.get(Organisation, org_id)
    assert org is not None
    return org


def _figures(session, registry, org: Organisation) -> stats.Statistics:
    return stats.compute(session, registry, None, MONTH, Filters(organisation_id=org.id), now=AFTER_ALL)


def _cells(data: bytes) -> list[list[list[object]]]:
    book = load_workbook(io.BytesIO(data))
    return [[list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets]


def test_the_xlsx_report_holds_the_months_figures_as_the_page_downloads_them(run, station, session, registry,
                                                                             tmp_path: Path):
    out = tmp_path / "march.xlsx"
    result = run("--month", "2026-03", "--organisation", str(station.id), "--format", "xlsx", "--out", str(out),
                 "--now", AFTER_ALL.isoformat())
    assert result.exit_code == 0, result.output
    assert str(out) in result.output and out.stat().st_size > 0
    expected = _figures(session, registry, station)
    assert expected.value("received") and expected.value("accepted")  # the month has cases: the test tests something
    sheet = load_workbook(out).worksheets[0]
    in_book = {row[5]: row[1] for row in sheet.iter_rows(values_only=True) if row and len(row) > 5 and row[5]}
    assert {f.key: in_book[f.key] for f in stats.FIGURES} == {f.key: expected.value(f.key) for f in stats.FIGURES}

    # The page's download: the figures the station chief sees, rendered by the same function.
    chief = factories.UserFactory(role=Role.STATION_CHIEF, organisation=station)
    session.commit()
    as_page = stats.compute(session, registry, chief, MONTH, Filters(), now=AFTER_ALL)
    page_download = reports.render_report(as_page, "xlsx", organisation=station.name,
                                          names={"organisation": station.name})
    assert _cells(out.read_bytes()) == _cells(page_download)


def test_the_pdf_report_prints_every_figure_and_its_definition(run, station, session, registry, tmp_path: Path):
    out = tmp_path / "march.pdf"
    result = run("--month", "2026-03", "--format", "pdf", "--out", str(out), "--now", AFTER_ALL.isoformat())
    assert result.exit_code == 0, result.output  # the database's only station when none is named
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))
    assert re.sub(r"\s+", "", station.name) in text and "2026-03-01" in text
    for row in _figures(session, registry, station).rows():
        assert re.sub(r"\s+", "", row.definition.label["zh_CN"]) in text
        assert reports.format_value(row.current.value, row.definition.unit) in text


def test_the_report_in_english(run, station, tmp_path: Path):
    out = tmp_path / "march-en.xlsx"
    result = run("--month", "2026-03", "--format", "XLSX", "--locale", "en", "--out", str(out))
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out).worksheets[0]
    assert sheet["A1"].value == reports.text("title", "en")


@pytest.mark.parametrize(("locale", "colon", "other"), [("en", "Period: ", "："), ("zh_CN", "统计期间：", ": ")])
def test_the_pdf_reports_heading_is_punctuated_in_its_language(run, station, tmp_path: Path, locale, colon, other):
    out = tmp_path / f"march-{locale}.pdf"
    assert run("--month", "2026-03", "--format", "pdf", "--locale", locale, "--out", str(out)).exit_code == 0
    first = PdfReader(out).pages[0].extract_text()
    heading = first.split(reports.text("figures", locale))[0]
    assert colon in heading and other not in heading, heading


@pytest.mark.parametrize(
    ("args", "option", "status"),
    [
        (["--month", "2026-13"], "--month", 2),
        (["--month", "March"], "--month", 2),
        (["--organisation", "999999"], "--organisation", 2),
        (["--format", "docx"], "--format", 2),
        (["--locale", "fr"], "--locale", 2),
        (["--now", "yesterday"], "--now", 2),
        (["--out", "{tmp}/no/such/folder/report.pdf"], "--out", 1),
        (["--out", "{tmp}"], "--out", 1),
        (["--out", "{tmp}/a-file/report.pdf"], "--out", 1),
    ],
)
def test_bad_input_is_one_line_naming_the_option(run, organisation, tmp_path: Path, args, option, status):
    (tmp_path / "a-file").write_text("not a folder")
    given = {"--month": "2026-03", "--format": "pdf", "--out": str(tmp_path / "report.pdf")}
    for name, value in zip(args[::2], args[1::2], strict=True):
        given[name] = value.replace("{tmp}", str(tmp_path))
    result = run(*[part for pair in given.items() for part in pair])
    assert result.exit_code == status, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {option}:"), result.output
    assert not (tmp_path / "report.pdf").exists()


def test_several_stations_need_the_organisation_option(run, organisation, session, tmp_path: Path):
    other = factories.OrganisationFactory(name="另一个派出所")
    session.commit()
    result = run("--month", "2026-03", "--format", "pdf", "--out", str(tmp_path / "r.pdf"))
    assert result.exit_code == 2
    assert result.output.startswith("Error: --organisation:")
    assert organisation.name in result.output and other.name in result.output


def test_a_folder_that_refuses_the_file_is_named_as_the_out_option(run, station, tmp_path: Path, monkeypatch):
    """Like /proc for root: the folder looks writable, creating the file there fails."""
    def refuse(*_args, **_kwargs):
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr("mediation.cli_reports.tempfile.mkstemp", refuse)
    out = tmp_path / "r.pdf"
    result = run("--month", "2026-03", "--organisation", str(station.id), "--format", "pdf", "--out", str(out))
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"Error: --out: cannot write {out}: No such file or directory"]
    assert list(tmp_path.iterdir()) == []


def test_the_report_file_gets_the_usual_permissions(run, station, tmp_path: Path):
    import os

    out = tmp_path / "r.xlsx"
    result = run("--month", "2026-03", "--organisation", str(station.id), "--format", "xlsx", "--out", str(out))
    assert result.exit_code == 0, result.output
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask


@pytest.mark.parametrize(
    ("label", "title"),
    [("Cases closed by tier and outcome", "Cases closed by tier and…"),
     ("本期结案按层级与结果", "本期结案按层级与结果"),
     ("Figures: a/b", "Figures  a b"),
     ("x" * 40, "x" * 30 + "…")],
)
def test_a_sheet_is_named_within_excels_31_characters_at_a_word(label, title):
    assert reports._sheet_title(label) == title and len(title) <= 31
