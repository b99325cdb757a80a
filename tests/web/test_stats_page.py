"""The statistics page, its CSV, the monthly report (PDF, XLSX) and the API give the same numbers."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from mediation import api_tokens, reports
from mediation import statistics as stats
from mediation.enums import Role
from mediation.models import Organisation
from mediation.replay import ORGANISATION, replay_file
from tests import factories

AFTER_ALL = datetime(2027, 12, 31, 4, 0, tzinfo=UTC)
QUERY = "from=2026-03-01&to=2027-12-31"


@pytest.fixture
def chief(app, cases_dir, uow, session):
    """The replayed real cases, a station chief of their station, and the app's clock after them all."""
    for path in sorted(cases_dir.glob("c*.yaml")):
        replay_file(uow, path)
    org = session.scalar(select(Organisation).where(Organisation.name == ORGANISATION["name"]))
    app.config["NOW"] = AFTER_ALL
    return factories.UserFactory(role=Role.STATION_CHIEF, organisation=org)


def _page_values(html: str) -> dict[str, str]:
    return dict(re.findall(r'<tr id="figure-([a-z0-9_]+)" data-value="([^"]*)"', html))


def test_page_csv_pdf_xlsx_and_api_agree(client, login, chief, uow, session, registry):
    login(chief)
    page = client.get(f"/statistics/?{QUERY}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    expected = stats.compute(session, registry, chief, stats.Period.of(*_period()), now=AFTER_ALL)
    on_page = _page_values(html)
    assert set(on_page) == {f.key for f in stats.FIGURES}
    for key, value in on_page.items():
        want = expected.value(key)
        assert value == ("" if want is None else str(want)), key
    assert html.count("data:image/svg+xml;base64,") == len(stats.CHART_KEYS)
    for figure in stats.FIGURES:  # each definition is written beside its figure
        assert figure.definition("zh_CN") in html

    with uow:
        made = api_tokens.create_token(uow, chief.id, "stats", AFTER_ALL)
    api = client.get(f"/api/v1/statistics?{QUERY}", headers={"Authorization": f"Bearer {made.secret}"}).get_json()
    assert {f["key"]: f["value"] for f in api["figures"]} == {k: expected.value(k) for k in on_page}

    xlsx = client.get(f"/statistics/report.xlsx?{QUERY}")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data)).worksheets[0]
    in_book = {row[5]: row[1] for row in sheet.iter_rows(values_only=True) if row and len(row) > 5 and row[5]}
    for key in on_page:
        assert in_book[key] == expected.value(key), key

    pdf = client.get(f"/statistics/report.pdf?{QUERY}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages))
    for row in expected.rows():
        assert re.sub(r"\s+", "", row.definition.label["zh_CN"]) in text
        assert reports.format_value(row.current.value, row.definition.unit) in text

    csv_text = client.get(f"/statistics/charts/by_kind.csv?{QUERY}").data.decode("utf-8-sig")
    counted = sum(int(r[1]) for r in list(csv.reader(io.StringIO(csv_text)))[1:])
    assert counted == expected.value("received")


def _period():
    from datetime import date

    return date(2026, 3, 1), date(2027, 12, 31)


def test_this_month_in_english_and_bad_filters_are_named(client, login, chief):
    login(chief)
    client.post("/locale", data={"locale": "en", "next": "/statistics/"})
    page = client.get("/statistics/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Disputes received" in html and "December 2027" in html
    bad = client.get("/statistics/?month=2026-13&tier=9")
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "Not a month" in text and "Not one of the allowed values" in text
    for download in ("report.pdf", "report.xlsx", "charts/by_kind.csv"):  # an edited download link
        refused = client.get(f"/statistics/{download}?month=2026-13&tier=9")
        assert refused.status_code == 400 and refused.mimetype == "text/html"
        assert "Not a month" in refused.get_data(as_text=True), download


def test_only_the_chief_and_the_auditor_see_statistics(client, login, make_user, chief):
    officer = make_user(Role.LIAISON_OFFICER)
    login(officer)
    assert client.get("/statistics/").status_code == 403
    assert client.get("/statistics/report.pdf").status_code == 403
    client.post("/logout")
    assert client.get("/statistics/").status_code == 302  # to the log-in page
    auditor = factories.UserFactory(role=Role.AUDITOR, organisation_id=chief.organisation_id)
    login(auditor)
    assert client.get("/statistics/").status_code == 200
