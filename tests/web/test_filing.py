"""Filing a dispute through the web form (issue 2, point 3; DOMAIN R15, R34–R36)."""

from __future__ import annotations

import re

from mediation.enums import PartyKind, Role
from tests.web.conftest import case_id_from, count_cases, count_events, filing_form, get_case


def test_enterprise_liaison_files_labour_dispute_with_a_group_of_five_workers(
    client, make_user, enterprise, login, read
):
    """R15: a group of workers acts through its representative; the enterprise is the liaison's own."""
    liaison = make_user(Role.ENTERPRISE_LIAISON, enterprise=enterprise)
    login(liaison)
    form = client.get("/cases/new").get_data(as_text=True)
    assert "青田县温溪镇某阀门有限公司" in form and 'name="enterprise_id"' not in form  # fixed, not a choice
    response = client.post("/cases/new", data=filing_form())
    assert response.status_code == 302
    case_id = case_id_from(response)
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "（2026）温溪警调字第0001号" in page or "警调字第0001号" in page
    assert re.search(r"已登记纠纷 （\d{4}）温溪警调字第0001号", page)  # the flash names the number
    case = get_case(read, case_id)
    assert case.enterprise_id == enterprise.id
    assert case.filed_via.value == "enterprise_liaison"
    assert str(case.amount_claimed) == "49830.00"
    assert [(p.role.value, p.kind, p.size) for p in case.parties] == [
        ("applicant", PartyKind.GROUP, 5),
        ("respondent", PartyKind.ORGANISATION, 1),
        ("third_party", PartyKind.PERSON, 1),
    ]
    assert case.parties[0].representative == "刘某某"
    assert case.parties[2].id_number == "510824196903150379"
    queue = client.get("/").get_data(as_text=True)
    assert "我提交的案件" in queue and case.number in queue


def test_enterprise_liaison_cannot_see_another_enterprises_case(
    client, make_user, enterprise, other_enterprise, file_case, login
):
    other_liaison = make_user(Role.ENTERPRISE_LIAISON, enterprise=other_enterprise)
    theirs = file_case(other_liaison)
    liaison = make_user(Role.ENTERPRISE_LIAISON, enterprise=enterprise)
    mine = file_case(liaison)
    assert client.get(f"/cases/{theirs}").status_code == 404
    assert client.post(f"/cases/{theirs}/actions/add_note", data={"version": "2", "note": "x"}).status_code == 404
    ledger = client.get("/ledger").get_data(as_text=True)
    queue = client.get("/").get_data(as_text=True)
    assert f"/cases/{mine}" in ledger and f"/cases/{theirs}" not in ledger
    assert f"/cases/{theirs}" not in queue


def test_bad_id_number_is_shown_beside_the_field_and_nothing_is_saved(client, make_user, login, read):
    """R34: the check character is verified; the error names the field and nothing is half-saved."""
    officer = make_user(Role.LIAISON_OFFICER)
    login(officer)
    response = client.post(
        "/cases/new", data=filing_form(**{"parties-2-id_number": "510824196903150378", "amount_claimed": "12.345"})
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r'id="parties-2-id_number-error"[^>]*>身份证号码校验位错误', page)
    assert 'aria-invalid="true"' in page
    assert re.search(r'id="amount_claimed-error"[^>]*>金额最多保留两位小数', page)
    assert 'value="510824196903150378"' in page  # what was typed stays, to be corrected
    assert count_cases(read) == 0 and count_events(read) == 0


def test_errors_follow_the_rows_actually_filled(client, make_user, login):
    """A blank row between filled ones is skipped; the error lands on the row it belongs to."""
    officer = make_user(Role.LIAISON_OFFICER)
    login(officer)
    data = filing_form()
    moved = {k.replace("parties-2-", "parties-5-"): v for k, v in data.items() if k.startswith("parties-2-")}
    data = {k: v for k, v in data.items() if not k.startswith("parties-2-")} | moved
    data["parties-5-phone"] = "12345"
    page = client.post("/cases/new", data=data).get_data(as_text=True)
    assert re.search(r'id="parties-\d-phone-error"[^>]*>手机号码为11位', page)
    assert "包工头" in page  # the row is kept


def test_filing_needs_an_applicant_and_a_respondent(client, make_user, login, read):
    officer = make_user(Role.LIAISON_OFFICER)
    login(officer)
    data = {k: v for k, v in filing_form().items() if not k.startswith("parties-1-")}
    response = client.post("/cases/new", data=data)
    assert response.status_code == 400
    assert "至少需要一名申请人和一名被申请人" in response.get_data(as_text=True)
    assert count_cases(read) == 0


def test_filing_form_works_without_javascript(client, make_user, login):
    officer = make_user(Role.LIAISON_OFFICER)
    login(officer)
    page = client.get("/cases/new").get_data(as_text=True)
    for i in range(4):
        assert f'name="parties-{i}-name"' in page
    assert 'name="parties-__index__-name"' in page  # the template the script clones
    assert re.search(r'<button type="button" class="button" data-add-row hidden>', page)
    for label in ("申请人", "被申请人", "第三人", "集体（工人群体）", "身份证号码", "联系电话"):
        assert label in page
    assert page.count("<label") >= page.count("<select") + page.count("<textarea")


def test_neighbour_dispute_takes_only_neighbour_categories(client, make_user, login, read):
    volunteer = make_user(Role.VOLUNTEER_MEDIATOR)
    login(volunteer)
    response = client.post("/cases/new", data=filing_form(workflow="neighbour", category="wages"))
    assert response.status_code == 400
    assert re.search(r'id="category-error"[^>]*>该纠纷类别不属于此调解流程', response.get_data(as_text=True))
    ok = client.post("/cases/new", data=filing_form(workflow="neighbour", category="neighbour_lift"))
    assert ok.status_code == 302
    assert get_case(read, case_id_from(ok)).workflow == "neighbour"


def test_roles_that_may_not_file_get_403(client, make_user, login, read):
    for role in (Role.AUDITOR, Role.TOWNSHIP_OFFICER):
        login(make_user(role))
        assert client.get("/cases/new").status_code == 403
        assert client.post("/cases/new", data=filing_form()).status_code == 403
        assert "登记纠纷</a>" not in client.get("/").get_data(as_text=True)
    assert count_cases(read) == 0
