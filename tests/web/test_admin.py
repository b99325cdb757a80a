"""Administration: users, organisations, enterprises, areas (issue 4 A, point 2).

Bad input gets a message beside the field it names, nothing is half-saved and no page
answers 500 (DESIGN.md §5). Deactivating a user or setting a new password ends the
sessions they have open (the session version in the log-in cookie).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from mediation.enums import Role
from mediation.models import Area, Case, Enterprise, Organisation, User
from tests import factories
from tests.web.conftest import PASSWORD, make_enterprise


@pytest.fixture
def admin(make_user, login):
    """A logged-in administrator."""
    user = make_user(Role.ADMIN, display_name="管理员")
    login(user)
    return user


def count(read, model) -> int:
    return int(read(lambda s: s.scalar(select(func.count()).select_from(model))))


def error_of(page: str, field: str) -> str:
    """The error message shown beside the input ``field`` ('' when none)."""
    found = re.search(rf'id="{re.escape(field)}-error"[^>]*>([^<]*)<', page)
    return found.group(1) if found else ""


def new_user_form(organisation, **overrides: Any) -> dict[str, Any]:
    data = {
        "username": "wang.jg", "display_name": "王警官", "role": "liaison_officer",
        "organisation_id": str(organisation.id), "email": "wang@example.cn",
        "password": "long-enough-1", "password_confirm": "long-enough-1",
    }
    data.update(overrides)
    return data


def test_admin_creates_a_user_who_logs_in_with_a_scrypt_hash(client, admin, organisation, read, app):
    response = client.post("/admin/users/new", data=new_user_form(organisation))
    assert response.status_code == 302
    user = read(lambda s: s.scalar(select(User).where(User.username == "wang.jg")))
    assert user.password_hash.startswith("scrypt:") and user.role is Role.LIAISON_OFFICER
    assert user.email == "wang@example.cn" and user.active
    other = app.test_client()
    assert other.post("/login", data={"username": "wang.jg", "password": "long-enough-1"}).status_code == 302


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"username": ""}, "username", "此项为必填项"),
        ({"username": "has space"}, "username", "不含空格"),
        ({"username": "x" * 81}, "username", "过长"),
        ({"password": "short", "password_confirm": "short"}, "password", "8至128"),
        ({"password_confirm": "something-else"}, "password_confirm", "不一致"),
        ({"role": "emperor"}, "role", "不是可选的值"),
        ({"role": "enterprise_liaison"}, "enterprise_id", "必须属于某个企业"),
        ({"organisation_id": "abc"}, "organisation_id", "不是可选的值"),
        ({"organisation_id": "99999"}, "organisation_id", "不是可选的值"),
        ({"email": "not-an-address"}, "email", "不是有效的电子邮箱"),
        ({"display_name": "名" * 500}, "display_name", "过长"),
        ({"display_name": "   "}, "display_name", "此项为必填项"),
    ],
)
def test_bad_user_input_names_the_field_and_saves_nothing(client, admin, organisation, read, overrides, field,
                                                          message):
    before = count(read, User)
    response = client.post("/admin/users/new", data=new_user_form(organisation, **overrides))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in error_of(page, field), (field, error_of(page, field))
    assert "未保存" in page
    assert count(read, User) == before


def test_a_taken_user_name_is_refused_whatever_its_case(client, admin, organisation, make_user, read):
    make_user(Role.AUDITOR, username="Zhao")
    response = client.post("/admin/users/new", data=new_user_form(organisation, username="zhao"))
    assert response.status_code == 400
    assert "已被使用" in error_of(response.get_data(as_text=True), "username")


def test_an_enterprise_of_another_organisation_is_refused(client, admin, organisation, session, read):
    other = factories.OrganisationFactory()
    foreign = make_enterprise(session, other, "外地公司")
    response = client.post("/admin/users/new", data=new_user_form(
        organisation, role="enterprise_liaison", enterprise_id=str(foreign.id)))
    assert response.status_code == 400
    assert "不是可选的值" in error_of(response.get_data(as_text=True), "enterprise_id")
    assert read(lambda s: s.scalar(select(User).where(User.username == "wang.jg"))) is None


def test_script_in_a_name_is_shown_as_text(client, admin, organisation):
    response = client.post("/admin/users/new", data=new_user_form(organisation, display_name="<script>x()</script>"))
    assert response.status_code == 302
    page = client.get("/admin/users").get_data(as_text=True)
    assert "<script>x()</script>" not in page and "&lt;script&gt;" in page


def test_admin_edits_role_enterprise_area_email_and_assignments(client, admin, organisation, session, make_user,
                                                                 read):
    ent_a = make_enterprise(session, organisation, "甲公司")
    ent_b = make_enterprise(session, organisation, "乙公司")
    area = Area(organisation_id=organisation.id, name="东村")
    session.add(area)
    session.commit()
    user = make_user(Role.AUDITOR)
    form = {"display_name": "李民警", "role": "liaison_officer", "organisation_id": str(organisation.id),
            "email": "li@example.cn", "assigned_enterprises": [str(ent_a.id), str(ent_b.id)],
            "assigned_areas": [str(area.id)], "enterprise_id": str(ent_a.id)}
    assert client.post(f"/admin/users/{user.id}", data=form).status_code == 302

    def loaded(s):
        u = s.get(User, user.id)
        return u.role, u.email, u.enterprise_id, {e.name for e in u.assigned_enterprises}, [a.name for a in
                                                                                            u.assigned_areas]

    # An officer's own enterprise is not kept (only enterprise-bound roles have one); assignments are.
    assert read(loaded) == (Role.LIAISON_OFFICER, "li@example.cn", None, {"甲公司", "乙公司"}, ["东村"])
    form = dict(form, role="volunteer_mediator", area_id=str(area.id))
    assert client.post(f"/admin/users/{user.id}", data=form).status_code == 302
    assert read(lambda s: (s.get(User, user.id).area_id, list(s.get(User, user.id).assigned_areas))) == (area.id, [])
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "志愿调解员" in page and "东村" in page


def test_a_failed_edit_changes_nothing(client, admin, organisation, make_user, read):
    user = make_user(Role.AUDITOR, display_name="原名", email="old@example.cn")
    form = {"display_name": "新名", "role": "auditor", "organisation_id": str(organisation.id), "email": "bad"}
    response = client.post(f"/admin/users/{user.id}", data=form)
    assert response.status_code == 400
    assert read(lambda s: (s.get(User, user.id).display_name, s.get(User, user.id).email)) == ("原名", "old@example.cn")


def test_admin_cannot_take_away_their_own_role_or_deactivate_themselves(client, admin, organisation, read):
    form = {"display_name": "管理员", "role": "auditor", "organisation_id": str(organisation.id)}
    response = client.post(f"/admin/users/{admin.id}", data=form)
    assert response.status_code == 400
    assert "不能取消自己的管理员角色" in error_of(response.get_data(as_text=True), "role")
    response = client.post(f"/admin/users/{admin.id}/active", data={"active": "0"})
    assert response.status_code == 400 and "不能停用自己" in response.get_data(as_text=True)
    assert read(lambda s: (s.get(User, admin.id).role, s.get(User, admin.id).active)) == (Role.ADMIN, True)


def test_deactivating_a_user_ends_their_open_session(app, client, admin, make_user, read):
    officer = make_user(Role.LIAISON_OFFICER)
    theirs = app.test_client()
    assert theirs.post("/login", data={"username": officer.username, "password": PASSWORD}).status_code == 302
    assert theirs.get("/ledger").status_code == 200
    response = client.post(f"/admin/users/{officer.id}/active", data={"active": "0"})
    assert response.status_code == 302
    assert read(lambda s: s.get(User, officer.id).active) is False
    response = theirs.get("/ledger")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert theirs.post("/login", data={"username": officer.username, "password": PASSWORD}).status_code == 401
    # Activated again, they log in again; the old session stays ended.
    assert client.post(f"/admin/users/{officer.id}/active", data={"active": "1"}).status_code == 302
    assert theirs.post("/login", data={"username": officer.username, "password": PASSWORD}).status_code == 302


def test_a_new_password_ends_open_sessions_and_works(app, client, admin, make_user):
    officer = make_user(Role.LIAISON_OFFICER)
    theirs = app.test_client()
    theirs.post("/login", data={"username": officer.username, "password": PASSWORD})
    response = client.post(f"/admin/users/{officer.id}/password",
                           data={"password": "brand-new-pass", "password_confirm": "brand-new-pass"})
    assert response.status_code == 302
    assert theirs.get("/").status_code == 302  # the old session ended
    assert theirs.post("/login", data={"username": officer.username, "password": PASSWORD}).status_code == 401
    assert theirs.post("/login", data={"username": officer.username, "password": "brand-new-pass"}).status_code == 302


def test_a_bad_new_password_is_refused_beside_its_field(client, admin, make_user, read):
    officer = make_user(Role.LIAISON_OFFICER)
    before = read(lambda s: s.get(User, officer.id).password_hash)
    response = client.post(f"/admin/users/{officer.id}/password",
                           data={"password": "short", "password_confirm": "short"})
    assert response.status_code == 400
    assert "8至128" in error_of(response.get_data(as_text=True), "password")
    assert read(lambda s: s.get(User, officer.id).password_hash) == before


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("（{year}）温溪警调字第号", "必须包含流水号 {seq}"),
        ("{short_name}第{seq:04d}号", "必须包含年份 {year}"),
        ("（{year}）{name}第{seq}号", "花括号中只能是"),
        ("（{year}）第{seq号", "花括号不成对"),
        ("（{year}）第{seq:zz}号", "占位符格式有误"),
        ("", "此项为必填项"),
    ],
)
def test_a_case_number_pattern_must_make_numbers(client, admin, organisation, read, pattern, message):
    before = read(lambda s: s.get(Organisation, organisation.id).case_number_pattern)
    form = {"name": organisation.name, "short_name": "温溪", "committee_name": "委员会", "case_number_pattern": pattern}
    response = client.post(f"/admin/organisations/{organisation.id}", data=form)
    assert response.status_code == 400
    assert message in error_of(response.get_data(as_text=True), "case_number_pattern")
    assert read(lambda s: s.get(Organisation, organisation.id).case_number_pattern) == before


def test_a_new_pattern_numbers_the_next_case(client, admin, organisation, make_user, file_case, read):
    form = {"name": organisation.name, "short_name": "温溪", "committee_name": "温溪派出所人民调解委员会",
            "case_number_pattern": "温溪调〔{year}〕{seq:03d}号"}
    assert client.post(f"/admin/organisations/{organisation.id}", data=form).status_code == 302
    page = client.get(f"/admin/organisations/{organisation.id}").get_data(as_text=True)
    assert "温溪调〔2026〕001号" in page  # the example shown beside the pattern
    case_id = file_case(make_user(Role.STATION_CHIEF))
    assert re.fullmatch(r"温溪调〔\d{4}〕001号", read(lambda s: s.get(Case, case_id).number))


def test_admin_creates_an_organisation_enterprise_and_area(client, admin, read):
    form = {"name": "青田县公安局船寮派出所", "short_name": "船寮", "committee_name": "船寮派出所人民调解委员会",
            "case_number_pattern": "（{year}）{short_name}警调字第{seq:04d}号"}
    assert client.post("/admin/organisations/new", data=form).status_code == 302
    org_id = read(lambda s: s.scalar(select(Organisation.id).where(Organisation.short_name == "船寮")))
    assert client.post("/admin/areas/new", data={"name": "船寮村", "organisation_id": str(org_id)}).status_code == 302
    area_id = read(lambda s: s.scalar(select(Area.id).where(Area.name == "船寮村")))
    response = client.post("/admin/enterprises/new",
                           data={"name": "船寮某石材厂", "organisation_id": str(org_id), "area_id": str(area_id)})
    assert response.status_code == 302
    assert read(lambda s: s.scalar(select(Enterprise.area_id).where(Enterprise.name == "船寮某石材厂"))) == area_id
    for path in ("/admin/organisations", "/admin/enterprises", "/admin/areas"):
        page = client.get(path).get_data(as_text=True)
        assert "船寮" in page


def test_duplicate_names_and_foreign_areas_are_refused(client, admin, organisation, session, read):
    make_enterprise(session, organisation, "甲公司")
    other = factories.OrganisationFactory()
    foreign_area = Area(organisation_id=other.id, name="外地村")
    session.add(foreign_area)
    session.commit()
    before = count(read, Enterprise)
    response = client.post("/admin/enterprises/new", data={"name": "甲公司", "organisation_id": str(organisation.id)})
    assert response.status_code == 400 and "已有同名" in error_of(response.get_data(as_text=True), "name")
    response = client.post("/admin/enterprises/new", data={
        "name": "乙公司", "organisation_id": str(organisation.id), "area_id": str(foreign_area.id)})
    assert response.status_code == 400 and "不是可选的值" in error_of(response.get_data(as_text=True), "area_id")
    response = client.post("/admin/areas/new", data={"name": "", "organisation_id": str(organisation.id)})
    assert response.status_code == 400 and "必填" in error_of(response.get_data(as_text=True), "name")
    assert count(read, Enterprise) == before
    response = client.post("/admin/organisations/new", data={
        "name": organisation.name, "short_name": "重", "committee_name": "重", "case_number_pattern": "{year}{seq}"})
    assert response.status_code == 400 and "已被使用" in error_of(response.get_data(as_text=True), "name")


def test_unknown_ids_are_404_not_500(client, admin):
    for path in ("/admin/users/9999", "/admin/organisations/9999", "/admin/enterprises/9999", "/admin/areas/9999"):
        assert client.get(path).status_code == 404
    assert client.post("/admin/users/9999/active", data={"active": "0"}).status_code == 404


def test_administration_is_in_english_too(client, admin, organisation):
    client.post("/locale", data={"locale": "en", "next": "/admin/"})
    for path, words in (("/admin/", "Organisations"), ("/admin/users", "New user"),
                        (f"/admin/users/{admin.id}", "Reset the password"),
                        (f"/admin/organisations/{organisation.id}", "Case-number pattern"),
                        ("/admin/enterprises/new", "New enterprise"), ("/admin/areas/new", "New area")):
        page = client.get(path).get_data(as_text=True)
        assert '<html lang="en">' in page and words in page, path
