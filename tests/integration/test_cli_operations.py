"""``mediation audit verify``, ``mediation deliver`` and ``mediation workflows …`` (issue 3)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from mediation.cli import cli
from mediation.enums import Role
from mediation.services import file_case, fire

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def runner(database, monkeypatch) -> CliRunner:
    monkeypatch.setenv("MEDIATION_DATABASE_URL", database.url)
    return CliRunner()


@pytest.fixture
def case_id(uow, make_user) -> int:
    officer = make_user(Role.LIAISON_OFFICER)
    with uow:
        filed = file_case(uow, officer.id, {
            "workflow": "labour", "category": "wages", "filed_via": "walk_in", "facts": "欠薪", "claims": "付清",
            "parties": [{"role": "applicant", "name": "张某"}, {"role": "respondent", "name": "某公司"}],
        }, now=NOW)
    with uow:
        fire(uow, filed.case_id, "accept", officer.id, {"severity": "general"}, now=NOW)
    return filed.case_id


def test_audit_verify_passes_then_names_the_edited_case(runner, database, case_id):
    ok = runner.invoke(cli, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    with database.engine.begin() as conn:
        if database.dialect == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("UPDATE events SET reason = 'x' WHERE case_id = :c AND seq = 2"), {"c": case_id})
    bad = runner.invoke(cli, ["audit", "verify"])
    assert bad.exit_code == 1
    assert "（2026）温溪警调字第0001号" in bad.output and "edited" in bad.output


def test_postgres_refuses_to_update_or_delete_an_event(database, case_id):
    """Issue 3: on PostgreSQL a trigger refuses UPDATE and DELETE on the events table."""
    if database.dialect != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    from sqlalchemy.exc import DBAPIError

    for statement in ("UPDATE events SET reason = 'x'", "DELETE FROM events"):
        with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as conn:
            conn.execute(text(statement))


def test_deliver_reports_what_it_delivered(runner, case_id, tmp_path):
    result = runner.invoke(cli, ["deliver", "--log", str(tmp_path / "n.log"), "--now", "2026-03-02T10:00+08:00"])
    assert result.exit_code == 0, result.output
    assert "2 notice(s) delivered" in result.output
    again = runner.invoke(cli, ["deliver", "--log", str(tmp_path / "n.log")])
    assert "0 notice(s) delivered" in again.output


def test_workflows_list_show_check(runner, case_id):
    listed = runner.invoke(cli, ["workflows", "list"])
    assert listed.exit_code == 0 and "labour@1 (newest)" in listed.output and "tier2 1" in listed.output
    shown = runner.invoke(cli, ["workflows", "show", "labour@1"])
    assert shown.exit_code == 0 and "statutory_period" in shown.output and "sign_off" in shown.output
    assert runner.invoke(cli, ["workflows", "show", "nothing"]).exit_code == 1
    assert runner.invoke(cli, ["workflows", "show", "labour@x"]).exit_code == 2
    checked = runner.invoke(cli, ["workflows", "check"])
    assert checked.exit_code == 0, checked.output


def test_workflows_migrate_refuses_an_unknown_version_with_a_message(runner, case_id):
    result = runner.invoke(cli, ["workflows", "migrate", "--from", "labour@1", "--to", "labour@9"])
    assert result.exit_code == 1 and "No such workflow version" in result.output
    assert "Traceback" not in result.output
