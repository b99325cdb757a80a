"""The JSON API: token authentication, the browser's policy, JSON errors naming fields, paging, 409."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mediation import api_tokens
from mediation.enums import Role
from mediation.models import ApiToken
from tests import factories

from .conftest import make_enterprise

NOW = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)

FILING = {
    "workflow": "labour", "category": "wages", "filed_via": "walk_in",
    "facts": "2025年10月至12月工资未发", "claims": "支付拖欠工资", "amount_claimed": "49830.00",
    "parties": [
        {"role": "applicant", "kind": "person", "name": "刘某某", "id_number": "510824196903150379",
         "phone": "13800000101"},
        {"role": "respondent", "kind": "organisation", "name": "青田县温溪镇某阀门有限公司"},
    ],
}


@pytest.fixture
def token_for(uow):
    """Make an API token for ``user``; returns the Authorization header."""
    def make(user) -> dict[str, str]:
        with uow:
            made = api_tokens.create_token(uow, user.id, "test", NOW)
        return {"Authorization": f"Bearer {made.secret}"}
    return make


@pytest.fixture
def officer(make_user):
    return make_user(Role.LIAISON_OFFICER)


def test_without_a_token_the_api_answers_401_in_json_even_with_a_logged_in_session(client, officer, login):
    login(officer)  # a session cookie does not authenticate the API
    response = client.get("/api/v1/cases")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert client.get("/api/v1/cases", headers={"Authorization": "Bearer med_wrong"}).status_code == 401


def test_file_read_fire_and_a_stale_write_gets_409(client, officer, token_for, read):
    auth = token_for(officer)
    filed = client.post("/api/v1/cases", json=FILING, headers=auth)
    assert filed.status_code == 201, filed.get_json()
    case = filed.get_json()
    assert case["state"] == "registered" and case["version"] == 2
    assert case["parties"][0]["id_number"] == "510824196903150379"  # the officer sees it whole
    got = client.get(f"/api/v1/cases/{case['id']}", headers=auth).get_json()
    assert got["number"] == case["number"] and got["events"][0]["trigger"] == "file"
    fired = client.post(f"/api/v1/cases/{case['id']}/triggers/accept", headers=auth,
                        json={"expected_version": case["version"], "data": {"severity": "general"}})
    assert fired.status_code == 200, fired.get_json()
    assert fired.get_json()["to_state"] == "tier2"
    stale = client.post(f"/api/v1/cases/{case['id']}/triggers/record_visit", headers=auth,
                        json={"expected_version": case["version"], "data": {"note": "上门走访"}})
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "conflict"


def test_validation_errors_name_the_field(client, officer, token_for):
    auth = token_for(officer)
    bad = dict(FILING, parties=[dict(FILING["parties"][0], id_number="510824196903150378"), FILING["parties"][1]])
    response = client.post("/api/v1/cases", json=bad, headers=auth)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error" and "parties.1.id_number" in error["fields"]
    missing = client.post("/api/v1/cases", json={"category": "wages"}, headers=auth).get_json()["error"]
    assert {"facts", "parties", "filed_via"} <= set(missing["fields"])
    no_version = client.post("/api/v1/cases/1/triggers/accept", json={}, headers=auth).get_json()["error"]
    assert "expected_version" in no_version["fields"]


def test_the_api_shows_what_the_browser_shows_and_nothing_of_another_organisation(
        client, session, organisation, make_user, token_for):
    officer = make_user(Role.LIAISON_OFFICER)
    mine = client.post("/api/v1/cases", json=FILING, headers=token_for(officer)).get_json()
    other_org = factories.OrganisationFactory(name="另一派出所", short_name="另一")
    stranger = factories.UserFactory(role=Role.STATION_CHIEF, organisation=other_org)
    auth = token_for(stranger)
    assert client.get(f"/api/v1/cases/{mine['id']}", headers=auth).status_code == 404
    assert client.get("/api/v1/cases", headers=auth).get_json()["items"] == []
    fired = client.post(f"/api/v1/cases/{mine['id']}/triggers/accept", headers=auth,
                        json={"expected_version": mine["version"], "data": {"severity": "general"}})
    assert fired.status_code == 404
    # an auditor of the same station sees the case but the ID number masked, and may not act
    auditor = make_user(Role.AUDITOR)
    seen = client.get(f"/api/v1/cases/{mine['id']}", headers=token_for(auditor)).get_json()
    assert seen["parties"][0]["id_number"] != "510824196903150379" and "*" in seen["parties"][0]["id_number"]
    refused = client.post(f"/api/v1/cases/{mine['id']}/triggers/accept", headers=token_for(auditor),
                          json={"expected_version": mine["version"], "data": {"severity": "general"}})
    assert refused.status_code == 403
    # an enterprise liaison sees only their own enterprise's cases
    enterprise = make_enterprise(session, organisation, "某鞋业有限公司")
    liaison = make_user(Role.ENTERPRISE_LIAISON, enterprise=enterprise)
    assert client.get(f"/api/v1/cases/{mine['id']}", headers=token_for(liaison)).status_code == 404


def test_the_list_pages_with_a_cursor(client, officer, token_for):
    auth = token_for(officer)
    ids = [client.post("/api/v1/cases", json=FILING, headers=auth).get_json()["id"] for _ in range(5)]
    first = client.get("/api/v1/cases?limit=2", headers=auth).get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    seen = [c["id"] for c in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = client.get(f"/api/v1/cases?limit=2&cursor={cursor}", headers=auth).get_json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
    assert seen == sorted(ids, reverse=True)
    bad = client.get("/api/v1/cases?cursor=nonsense", headers=auth)
    assert bad.status_code == 422 and "cursor" in bad.get_json()["error"]["fields"]
    found = client.get("/api/v1/cases?q=刘某某", headers=auth).get_json()
    assert len(found["items"]) == 5


def test_a_revoked_token_is_refused(client, officer, uow, read):
    with uow:
        made = api_tokens.create_token(uow, officer.id, "revoke me", NOW)
    auth = {"Authorization": f"Bearer {made.secret}"}
    assert client.get("/api/v1/me", headers=auth).status_code == 200
    stored = read(lambda s: s.get(ApiToken, made.id))
    assert stored.token_hash == api_tokens.token_hash(made.secret) and made.secret not in stored.token_hash
    with uow:
        api_tokens.revoke_token(uow, officer.id, made.id, NOW)
    assert client.get("/api/v1/me", headers=auth).status_code == 401


def test_tokens_are_made_once_shown_and_revoked_in_the_ui(client, officer, login, read):
    login(officer)
    page = client.post("/account/tokens/", data={"name": "对接系统"})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    secret = text.split('id="new-token">')[1].split("<")[0]
    assert secret.startswith("med_")
    listing = client.get("/account/tokens/").get_data(as_text=True)
    assert "对接系统" in listing and secret not in listing
    token_id = read(lambda s: s.query(ApiToken).one().id)
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 302
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert client.post("/account/tokens/", data={"name": ""}).status_code == 400


def test_workflows_and_statistics(client, make_user, token_for):
    chief = make_user(Role.STATION_CHIEF)
    auth = token_for(chief)
    flows = client.get("/api/v1/workflows", headers=auth).get_json()["items"]
    assert {w["name"] for w in flows} >= {"labour", "neighbour"}
    assert client.get("/api/v1/workflows/labour", headers=auth).get_json()["initial"] == "registered"
    assert client.get("/api/v1/workflows/nope", headers=auth).status_code == 404
    got = client.get("/api/v1/statistics?month=2026-03", headers=auth)
    assert got.status_code == 200
    assert {f["key"] for f in got.get_json()["figures"]} >= {"received", "success_rate"}
    assert client.get("/api/v1/statistics?month=2026-13", headers=auth).status_code == 422
    officer = make_user(Role.LIAISON_OFFICER)
    assert client.get("/api/v1/statistics", headers=token_for(officer)).status_code == 403


def test_the_openapi_document_is_generated_and_served(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/cases/{case_id}/triggers/{trigger}" in doc["paths"]
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
