"""The admin item pages share one layout: each shows its own fields, crumbs and cancel link."""

from __future__ import annotations

import pytest

from mediation.enums import Role


@pytest.mark.parametrize(
    ("path", "heading", "fields", "back"),
    [
        ("/admin/areas/new", "新建辖区", ["name", "organisation_id"], "/admin/areas"),
        ("/admin/enterprises/new", "新建企业", ["name", "organisation_id", "area_id"], "/admin/enterprises"),
        ("/admin/organisations/new", "新建", ["name", "short_name", "case_number_pattern"], "/admin/organisations"),
    ],
)
def test_new_item_page_has_its_fields_and_way_back(client, login, make_user, path, heading, fields, back):
    login(make_user(Role.ADMIN))
    response = client.get(path)
    assert response.status_code == 200, path
    html = response.get_data(as_text=True)
    assert heading in html
    for name in fields:
        assert f'name="{name}"' in html
    assert html.count(f'href="{back}"') >= 2  # crumbs and cancel


def test_ids_past_the_database_range_are_not_found_not_a_crash(client, login, make_user):
    """Found by probing: a 23-digit case id overflowed SQLite's INTEGER and answered 500."""
    login(make_user(Role.STATION_CHIEF))
    for path in ("/cases/99999999999999999999999", "/cases/2147483648", "/admin/users/99999999999999999999"):
        assert client.get(path).status_code == 404, path


def test_a_huge_area_id_on_filing_is_a_field_error_not_a_crash(uow, make_user):
    """Found by probing: area_id=99999999999999999999 on the filing form answered 500."""
    from mediation.errors import ValidationError
    from mediation.services import file_case

    officer = make_user(Role.LIAISON_OFFICER)
    filing = {
        "workflow": "labour", "category": "wages", "filed_via": "walk_in", "facts": "欠薪", "claims": "付清",
        "area_id": "99999999999999999999", "enterprise_id": "99999999999999999999",
        "parties": [{"role": "applicant", "name": "张某"}, {"role": "respondent", "name": "某公司"}],
    }
    with pytest.raises(ValidationError) as info, uow:
        file_case(uow, officer.id, filing)
    assert {"area_id", "enterprise_id"} <= set(info.value.errors)
