"""Every role sees one station's cases at most: the statistics narrow by that station first."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import sqlite

from mediation import policy
from mediation.enums import Role
from mediation.models import User


@pytest.mark.parametrize("role", list(Role))
def test_every_roles_visible_cases_are_its_own_stations(role: Role) -> None:
    user = User(id=5, role=role, organisation_id=7, enterprise_id=3, area_id=2, active=True)
    clause = policy.visible_clause(user)
    sql = str(clause.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    assert sql in ("0", "false") or "cases.organisation_id = 7" in sql, sql
    assert policy.station_of(user) == 7


def test_no_user_has_no_station() -> None:
    assert policy.station_of(None) is None
