"""Filing a dispute: numbering, parties, validation (DOMAIN R26–R27, R34–R35)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from mediation.enums import Role
from mediation.errors import PermissionDenied, ValidationError
from mediation.models import Case, Event
from mediation.services import file_case

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def filing(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "workflow": "labour",
        "category": "wages",
        "filed_via": "walk_in",
        "facts": "拖欠三个月工资",
        "claims": "支付工资9966元",
        "amount_claimed": "9966",
        "parties": [
            {"role": "applicant", "name": "李某", "phone": "13800000101", "id_number": "510824196903150379"},
            {"role": "respondent", "kind": "organisation", "name": "某阀门有限公司"},
        ],
    }
    base.update(overrides)
    return base


def test_filed_case_gets_gap_free_number_per_year(uow, make_user, session):
    officer = make_user(Role.LIAISON_OFFICER)
    with uow:
        first = file_case(uow, officer.id, filing(), now=NOW)
    with uow:
        second = file_case(uow, officer.id, filing(), now=NOW)
    assert first.number == "（2026）温溪警调字第0001号"
    assert second.number == "（2026）温溪警调字第0002号"
    case = session.get(Case, first.case_id)
    assert case.amount_claimed == Decimal("9966.00")
    assert case.filed_at == NOW and case.filed_at.tzinfo is not None
    assert [p.ref for p in case.parties] == ["a1", "r1"]
    assert case.parties[0].gender.value == "M"  # 17th digit 7 is odd


def test_bad_filing_names_each_field_and_saves_nothing(uow, make_user, session):
    officer = make_user(Role.LIAISON_OFFICER)
    bad = filing(
        amount_claimed="12.345",
        parties=[
            {"role": "applicant", "name": "李某", "phone": "12345", "id_number": "510824196903150378"},
            {"role": "respondent", "name": ""},
        ],
    )
    with pytest.raises(ValidationError) as info, uow:
        file_case(uow, officer.id, bad, now=NOW)
    assert set(info.value.errors) >= {
        "amount_claimed", "parties.1.phone", "parties.1.id_number", "parties.2.name"
    }
    assert session.scalar(select(func.count()).select_from(Case)) == 0
    assert session.scalar(select(func.count()).select_from(Event)) == 0


def test_auditor_may_not_file(uow, make_user):
    auditor = make_user(Role.AUDITOR)
    with pytest.raises(PermissionDenied), uow:
        file_case(uow, auditor.id, filing(), now=NOW)
