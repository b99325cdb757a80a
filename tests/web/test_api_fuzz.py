"""Fuzzing the JSON API with schemathesis against its own OpenAPI document (loaded over WSGI).

Every operation gets a bounded number of generated requests as a liaison officer of one
station, whose database also holds another station's case: no answer may be a 500,
break the document, or carry anything of the other station.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from mediation import api_tokens
from mediation.enums import Role
from tests import factories

#: Text only the other station's case holds; it must never come back.
FOREIGN = "外所当事人甲乙丙"
NOW = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)


@pytest.fixture
def fuzz_app(app, uow, session, make_user, client):
    """The app with one station's officer (token in ``app.config``) and another station's case."""
    officer = make_user(Role.STATION_CHIEF)
    other_org = factories.OrganisationFactory(name="青田县公安局别处派出所", short_name="别处")
    stranger = factories.UserFactory(role=Role.LIAISON_OFFICER, organisation=other_org)
    with uow:
        mine = api_tokens.create_token(uow, officer.id, "fuzz", NOW)
    with uow:
        theirs = api_tokens.create_token(uow, stranger.id, "other", NOW)
    filing = {
        "workflow": "labour", "category": "wages", "filed_via": "walk_in", "facts": FOREIGN, "claims": FOREIGN,
        "title": FOREIGN,
        "parties": [{"role": "applicant", "name": FOREIGN}, {"role": "respondent", "kind": "organisation",
                                                               "name": FOREIGN + "公司"}],
    }
    response = client.post("/api/v1/cases", json=filing, headers={"Authorization": f"Bearer {theirs.secret}"})
    assert response.status_code == 201
    app.config["FUZZ_AUTH"] = {"Authorization": f"Bearer {mine.secret}"}
    return app


def test_api_never_fails_breaks_its_document_or_leaks_another_station(fuzz_app):
    """Each operation of the document, ``max_examples`` generated requests each (schemathesis checks:
    no server error, status code, content type and body as documented), and no other station's data.

    ``positive_data_acceptance`` is left out: a request the document allows may still be refused
    for what no schema says (an ID number's check digit, a cursor not issued by the list, a state the
    case is not in), and such a refusal is the documented 422 or 409."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app)
    auth = fuzz_app.config["FUZZ_AUTH"]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8

    for operation in operations:

        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            response = case.call_and_validate(headers=auth, excluded_checks=[positive_data_acceptance])
            assert response.status_code < 500
            assert FOREIGN not in response.text

        check()
