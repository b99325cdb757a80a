"""Public intake and status lookup, open at all hours without logging in (issue 4 A, point 5).

A member of the public files after the notice on personal information (PIPL arts. 14,
17, 28–29; consent is required), is limited by rate (Flask-Limiter) rather than a
CAPTCHA, and looks the case up with the tracking code and the phone number used.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from mediation.enums import IntakeSource, Role
from mediation.models import Area, Case, Event
from mediation.public import NOTICE_VERSION
from tests.web.conftest import count_cases, make_enterprise


def public_form(organisation, **overrides: Any) -> dict[str, Any]:
    data = {
        "organisation_id": str(organisation.id),
        "kind": "labour:wages",
        "applicant_name": "陈某某",
        "applicant_phone": "13712345678",
        "applicant_address": "青田县温溪镇某村",
        "respondent_kind": "organisation",
        "respondent_name": "青田县温溪镇某鞋业有限公司",
        "respondent_phone": "13987654321",
        "facts": "2025年11月至2026年1月在该公司做鞋面，三个月工资共12000元未发。",
        "claims": "支付拖欠工资12000元",
        "amount_claimed": "12000",
        "consent": "y",
    }
    data.update(overrides)
    data = {k: v for k, v in data.items() if v is not None}
    return data


def error_of(page: str, field: str) -> str:
    found = re.search(rf'id="{re.escape(field)}-error"[^>]*>([^<]*)<', page)
    return found.group(1) if found else ""


def file_publicly(client, organisation, **overrides: Any) -> tuple[str, str]:
    """File through the public form; returns the case number and the tracking code from the receipt."""
    response = client.post("/public/file", data=public_form(organisation, **overrides))
    assert response.status_code == 302, error_texts(response.get_data(as_text=True))
    assert response.headers["Location"] == "/public/filed"
    page = client.get("/public/filed").get_data(as_text=True)
    number = re.search(r"<strong>([^<]+)</strong>", page).group(1)
    code = re.search(r'class="tracking-code mono"[^>]*>([A-Z0-9]+)<', page).group(1)
    return number, code


def error_texts(page: str) -> list[str]:
    return re.findall(r'class="error"[^>]*>([^<]*)<', page)


def test_the_login_page_links_to_the_public_pages(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/public/file"' in page and 'href="/public/status"' in page


def test_a_member_of_the_public_files_after_consenting_and_gets_a_tracking_code(client, organisation, session, read):
    area = Area(organisation_id=organisation.id, name="东村")
    session.add(area)
    session.commit()
    page = client.get("/public/file").get_data(as_text=True)
    assert "个人信息处理告知" in page and "敏感个人信息" in page and organisation.name in page
    number, code = file_publicly(client, organisation, area_id=str(area.id))
    receipt = client.get("/public/filed").get_data(as_text=True)
    assert "查询码" in receipt and "请抄下或拍下这个查询码" in receipt
    assert f"：<strong>{number}</strong>" in receipt  # Chinese punctuation in Chinese text
    case = read(lambda s: s.scalars(select(Case).where(Case.tracking_code == code)).one())
    assert case.number == number and case.filed_via is IntakeSource.ONLINE and case.filed_by_id is None
    assert case.organisation_id == organisation.id and case.area_id == area.id and case.state == "registered"
    event = read(lambda s: s.scalars(select(Event).where(Event.case_id == case.id)).one())
    assert event.data["consent"]["notice"] == NOTICE_VERSION and event.data["filed_via"] == "online"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"consent": None}, "consent", "请阅读上方告知并勾选同意"),
        ({"applicant_phone": ""}, "applicant_phone", "请填写手机号码"),
        ({"applicant_phone": "12345"}, "applicant_phone", "11位"),
        ({"applicant_id_number": "331121198001010019"}, "applicant_id_number", "校验位"),
        ({"applicant_name": ""}, "applicant_name", "必填"),
        ({"respondent_name": "  "}, "respondent_name", "必填"),
        ({"facts": ""}, "facts", "必填"),
        ({"kind": ""}, "kind", "请选择纠纷类型"),
        ({"kind": "labour:neighbour_lift"}, "kind", "不属于"),
        ({"amount_claimed": "很多"}, "amount_claimed", ""),
        ({"organisation_id": "abc"}, "organisation_id", ""),
        ({"area_id": "99999"}, "area_id", "不是可选的值"),
    ],
)
def test_bad_public_input_is_named_beside_its_field_and_nothing_is_filed(client, organisation, read, overrides,
                                                                         field, message):
    before = count_cases(read)
    response = client.post("/public/file", data=public_form(organisation, **overrides))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "申请未提交" in page
    if field != "organisation_id":  # a single station is fixed on the form; its error shows on top
        assert error_of(page, field) and message in error_of(page, field), (field, error_texts(page))
    assert count_cases(read) == before


def test_script_tags_in_a_public_filing_are_kept_as_text(client, organisation, make_user, login, read):
    file_publicly(client, organisation, applicant_name="<script>alert(1)</script>")
    officer = make_user(Role.LIAISON_OFFICER)
    login(officer)
    case_id = read(lambda s: s.scalar(select(func.max(Case.id))))
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_filing_is_limited_to_five_an_hour_per_address_with_a_friendly_page(client, organisation, read):
    for _ in range(5):
        file_publicly(client, organisation)
    # A refused (invalid) form does not count; a sixth filing does not get through.
    response = client.post("/public/file", data=public_form(organisation))
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "操作过于频繁" in page and "派出所" in page and "Traceback" not in page
    assert count_cases(read) == 5
    other_address = client.post("/public/file", data=public_form(organisation),
                                 environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other_address.status_code == 302


def test_invalid_forms_do_not_use_up_the_filing_limit(client, organisation, read):
    for _ in range(7):
        assert client.post("/public/file", data=public_form(organisation, consent=None)).status_code == 400
    file_publicly(client, organisation)
    assert count_cases(read) == 1


def test_status_lookup_needs_the_code_and_the_phone_and_says_the_same_for_either_wrong(client, organisation):
    number, code = file_publicly(client, organisation)
    right = client.post("/public/status", data={"tracking_code": code, "phone": "13712345678"})
    page = right.get_data(as_text=True)
    assert right.status_code == 200 and number in page and "已登记" in page
    assert "三个工作日内决定是否受理" in page
    assert "青田县温溪镇某鞋业有限公司" not in page and "陈某某" not in page  # no party's particulars
    # Spaces, dashes, lower case and full-width digits are forgiven.
    spaced = f"{code[:5].lower()} {code[5:]}"
    forgiving = client.post("/public/status", data={"tracking_code": spaced, "phone": "１３７-1234-5678"})
    assert number in forgiving.get_data(as_text=True)

    def answer(tracking_code: str, phone: str) -> tuple[int, str]:
        response = client.post("/public/status", data={"tracking_code": tracking_code, "phone": phone})
        body = response.get_data(as_text=True)
        body = body.replace(tracking_code, "").replace(phone, "")  # the form shows back what was typed
        body = re.sub(r'name="csrf_token" value="[^"]*"', "", body)  # the token is timestamped
        return response.status_code, body

    wrong_phone = answer(code, "13900000000")
    wrong_code = answer("ABCDEFGHJK", "13712345678")
    assert wrong_phone == wrong_code
    assert "没有与该查询码和手机号码相符的案件" in wrong_phone[1] and number not in wrong_phone[1]
    assert answer("", "")[0] == 200 and answer("x" * 500, "y" * 500)[0] == 200


def test_status_says_what_comes_next_as_the_case_moves(client, organisation, make_user, login, read):
    number, code = file_publicly(client, organisation)
    case_id = read(lambda s: s.scalar(select(Case.id).where(Case.number == number)))
    officer = make_user(Role.LIAISON_OFFICER)
    login(officer)
    version = read(lambda s: s.get(Case, case_id).version)
    assert client.post(f"/cases/{case_id}/actions/accept", data={"version": version, "severity": "general"}
                       ).status_code == 302
    client.post("/logout")
    page = client.post("/public/status", data={"tracking_code": code, "phone": "13712345678"}).get_data(as_text=True)
    assert "调解正在进行" in page and "十五日调解期限" in page and "受理" in page


def test_status_lookups_are_rate_limited(app, client, organisation):
    app.config["PUBLIC_STATUS_LIMIT"] = "3 per hour"
    for _ in range(3):
        assert client.post("/public/status", data={"tracking_code": "X", "phone": "1"}).status_code == 200
    response = client.post("/public/status", data={"tracking_code": "X", "phone": "1"})
    assert response.status_code == 429 and "操作过于频繁" in response.get_data(as_text=True)
    assert client.get("/public/status").status_code == 200  # reading the form is not limited


def test_the_public_pages_in_english(client, organisation):
    client.post("/locale", data={"locale": "en", "next": "/public/file"})
    page = client.get("/public/file").get_data(as_text=True)
    assert '<html lang="en">' in page and "How we use your personal information" in page
    assert "Send the application" in page
    page = client.get("/public/status").get_data(as_text=True)
    assert "Check the status of my case" in page and "Tracking code" in page


def test_with_several_stations_the_public_chooses_one(client, organisation, session, read):
    from tests import factories

    other = factories.OrganisationFactory()
    make_enterprise(session, other, "外地公司")
    page = client.get("/public/file").get_data(as_text=True)
    assert 'name="organisation_id"' in page and other.name in page
    number, _code = file_publicly(client, organisation, organisation_id=str(other.id))
    assert read(lambda s: s.scalar(select(Case.organisation_id).where(Case.number == number))) == other.id


def test_public_forms_need_the_csrf_token(app, client, organisation, read):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/public/file", data=public_form(organisation))
    assert response.status_code == 400 and count_cases(read) == 0
