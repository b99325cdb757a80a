"""My cases and the ledger: policy-filtered lists (issue 2, point 2)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mediation import policy, queries
from mediation.enums import Role
from mediation.models import Case, User
from mediation.services import file_case, fire
from tests import factories
from tests.web.conftest import act, case_version, make_enterprise

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _filing(enterprise_id: int | None = None, name: str = "李某") -> dict[str, object]:
    return {
        "workflow": "labour", "category": "wages", "filed_via": "walk_in", "facts": "欠薪", "claims": "付款",
        "enterprise_id": enterprise_id,
        "parties": [
            {"role": "applicant", "name": name},
            {"role": "respondent", "kind": "organisation", "name": "某公司"},
        ],
    }


def test_my_cases_has_the_sections_of_each_role(client, make_user, enterprise, file_case, login, read):
    liaison = make_user(Role.ENTERPRISE_LIAISON, enterprise=enterprise)
    registered = file_case(liaison)
    officer = make_user(Role.LIAISON_OFFICER)
    mine = file_case(officer)
    act(client, mine, "accept", case_version(read, mine), severity="general")
    queue = client.get("/").get_data(as_text=True)
    tier = queue.split("本层级待分派")[1].split("</section>")[0]
    accept = queue.split("已登记待受理")[1].split("</section>")[0]
    assert f"/cases/{mine}" in tier and f"/cases/{registered}" not in tier
    assert f"/cases/{registered}" in accept and f"/cases/{mine}" not in accept
    assert "第0日/共15日" in tier  # the statutory clock's day count
    assert "待我审签" not in queue  # only the chief signs off
    login(liaison)
    queue = client.get("/").get_data(as_text=True)
    assert "我提交的案件" in queue and "已登记待受理" not in queue and "本层级待分派" not in queue


def test_ledger_filters_by_state_and_searches_number_and_party_name(client, make_user, file_case, read):
    officer = make_user(Role.LIAISON_OFFICER)
    first = file_case(officer)
    second = file_case(officer, **{"parties-0-name": "黄某某等3名工人", "parties-0-size": "3"})
    act(client, second, "accept", case_version(read, second), severity="simple")
    page = client.get("/ledger").get_data(as_text=True)
    assert f"/cases/{first}" in page and f"/cases/{second}" in page and "共 2 件" in page
    page = client.get("/ledger?state=tier1").get_data(as_text=True)
    assert f"/cases/{second}" in page and f"/cases/{first}" not in page
    page = client.get("/ledger?q=黄某某").get_data(as_text=True)
    assert f"/cases/{second}" in page and f"/cases/{first}" not in page
    page = client.get("/ledger?q=第0001号").get_data(as_text=True)
    assert f"/cases/{first}" in page and f"/cases/{second}" not in page
    page = client.get("/ledger?q=%25").get_data(as_text=True)  # a LIKE wildcard is searched for, not obeyed
    assert "共 0 件" in page
    assert client.get("/ledger?state=nonsense&page=abc").status_code == 200


@pytest.mark.parametrize("role", list(Role))
def test_list_clause_agrees_with_policy_for_every_role(role, session, uow, organisation, make_user):
    """The SQL narrowing of the lists shows exactly the cases ``policy.can_view`` allows."""
    ent_a = make_enterprise(session, organisation, "甲公司")
    ent_b = make_enterprise(session, organisation, "乙公司")
    other_org = factories.OrganisationFactory()
    chief = make_user(Role.STATION_CHIEF)
    outsider = factories.UserFactory(role=Role.STATION_CHIEF, organisation=other_org)
    ids = []
    for ent in (ent_a.id, ent_b.id, None):
        with uow:
            ids.append(file_case(uow, chief.id, _filing(ent), now=NOW).case_id)
    with uow:
        ids.append(file_case(uow, outsider.id, _filing(), now=NOW).case_id)
    with uow:
        fire(uow, ids[0], "accept", chief.id, {"severity": "major"}, now=NOW)
    user = make_user(role, enterprise=ent_a if role in policy.ENTERPRISE_BOUND else None)
    session.expire_all()
    cases = session.query(Case).all()
    allowed = {c.id for c in cases if policy.can_view(user, c)}
    listed = {c.id for c in session.query(Case).filter(queries.visible_clause(user)).all()}
    assert listed == allowed
    session.commit()


def test_inactive_user_sees_no_case(session, make_user):
    user: User = make_user(Role.STATION_CHIEF, active=False)
    assert str(queries.visible_clause(user).compile()) in ("false", "0", "1 != 1")
    session.commit()
