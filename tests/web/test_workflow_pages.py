"""The workflow pages and a case's drawing (issue 3, point 5): drawn locally, state highlighted."""

from __future__ import annotations

from datetime import UTC, datetime

from mediation.enums import Role
from mediation.services import UnitOfWork, file_case, fire

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _case(uow: UnitOfWork, officer_id: int) -> int:
    with uow:
        filed = file_case(uow, officer_id, {
            "workflow": "labour", "category": "wages", "filed_via": "walk_in", "facts": "欠薪", "claims": "付清",
            "parties": [{"role": "applicant", "name": "张某"}, {"role": "respondent", "name": "某公司"}],
        }, now=NOW)
    with uow:
        fire(uow, filed.case_id, "accept", officer_id, {"severity": "general"}, now=NOW)
    return filed.case_id


def test_workflow_list_and_page_show_the_drawing(client, login, make_user):
    login(make_user(Role.AUDITOR))
    listing = client.get("/workflows")
    assert listing.status_code == 200 and "/workflows/labour/1" in listing.text
    page = client.get("/workflows/labour/1")
    assert page.status_code == 200
    assert "<svg" in page.text and "已登记" in page.text and "十五日调解期限" in page.text
    assert client.get("/workflows/labour/99").status_code == 404


def test_case_drawing_marks_current_state_and_path(client, login, make_user, uow):
    officer = make_user(Role.LIAISON_OFFICER)
    case_id = _case(uow, officer.id)
    login(officer)
    svg = client.get(f"/cases/{case_id}/diagram.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert "darksalmon" in svg.text and "azure" in svg.text  # current state; the state passed through
    page = client.get(f"/cases/{case_id}")
    assert f"/cases/{case_id}/diagram.svg" in page.text


def test_case_drawing_is_not_shown_to_another_enterprise(client, login, make_user, uow, enterprise):
    officer = make_user(Role.LIAISON_OFFICER)
    case_id = _case(uow, officer.id)
    login(make_user(Role.ENTERPRISE_LIAISON, enterprise=enterprise))
    assert client.get(f"/cases/{case_id}/diagram.svg").status_code == 404


def test_english_drawing(client, login, make_user):
    login(make_user(Role.AUDITOR))
    client.post("/locale", data={"locale": "en"})
    assert "Registered" in client.get("/workflows/labour/1").text


def test_periods_show_their_legal_basis_in_the_readers_language_without_rule_references(client, login, make_user):
    login(make_user(Role.AUDITOR))
    page = client.get("/workflows/labour/1").get_data(as_text=True)
    assert "法律依据" in page and "劳动争议调解仲裁法 第14条" in page
    assert "DOMAIN R" not in page and "Labour Dispute Mediation and Arbitration Law" not in page
    client.post("/locale", data={"locale": "en"})
    page = client.get("/workflows/labour/1").get_data(as_text=True)
    assert "Legal basis" in page and "Labour Dispute Mediation and Arbitration Law, Art. 14" in page
    assert "DOMAIN R" not in page and "劳动争议调解仲裁法" not in page
