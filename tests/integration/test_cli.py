"""The ``mediation`` command (click): db upgrade, demo, serve, replay, sweep.

Commands that need the test database get its URL through ``MEDIATION_DATABASE_URL``
(the ``database`` fixture), so they run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from mediation import cli as cli_module
from mediation.cli import cli, hide_password
from mediation.demo import DEMO_PASSWORD, DEMO_USERS, ensure_demo_staff
from mediation.enums import Role
from mediation.models import Case, Organisation

from .test_replay import small_case, write_case


@pytest.fixture
def runner() -> CliRunner:
    """A click test runner."""
    return CliRunner()


@pytest.fixture
def on_test_database(database, monkeypatch, tmp_path):
    """Point the CLI at the test database (and the PDF cache at a temporary folder)."""
    monkeypatch.setenv("MEDIATION_DATABASE_URL", database.url)
    monkeypatch.setenv("MEDIATION_DOCUMENT_CACHE", str(tmp_path / "pdf-cache"))
    return database


def _no_traceback(result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_db_upgrade_migrates_a_new_sqlite_database_and_prints_its_url(runner, tmp_path, monkeypatch):
    """`mediation db upgrade` brings a new database to the newest schema and says which."""
    url = f"sqlite:///{tmp_path / 'new.db'}"
    monkeypatch.setenv("MEDIATION_DATABASE_URL", url)
    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert url in result.output
    again = runner.invoke(cli, ["db", "upgrade"])
    assert again.exit_code == 0, again.output


def test_database_urls_are_shown_without_their_password():
    """A password never reaches the terminal."""
    shown = hide_password("postgresql://mediator:s3cret@db.example:5432/mediation")
    assert "s3cret" not in shown and "mediator:***@db.example" in shown
    assert "s3cret" not in hide_password("postgresql://mediator:s3cret@[bad")


def test_unreachable_database_is_one_clear_line(runner):
    """An unreachable database gives a one-line message, no traceback, no password."""
    url = "postgresql+psycopg://mediator:s3cret@127.0.0.1:1/nowhere"
    result = runner.invoke(cli, ["db", "upgrade", "--database", url])
    assert result.exit_code == 1
    _no_traceback(result)
    assert "s3cret" not in result.output
    assert result.output.startswith("Error: cannot reach the database postgresql+psycopg://mediator:***@127.0.0.1:1")
    assert len(result.output.strip().splitlines()) == 1


def test_sweep_on_a_database_without_tables_says_to_upgrade(runner, tmp_path):
    """A command run before `db upgrade` says so instead of failing on a missing table."""
    result = runner.invoke(cli, ["sweep", "--database", f"sqlite:///{tmp_path / 'empty.db'}"])
    assert result.exit_code == 1
    _no_traceback(result)
    assert "run `mediation db upgrade` first" in result.output


def test_demo_loads_once_and_if_empty_then_does_nothing(runner, on_test_database, session):
    """`mediation demo` loads the station, a user per role and cases in every showcase state."""
    result = runner.invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    for user in DEMO_USERS:
        assert f"{user.role.value}" in result.output and f" {user.username} " in result.output
    assert DEMO_PASSWORD in result.output
    assert {u.role for u in DEMO_USERS} == set(Role)
    cases = session.scalar(select(func.count()).select_from(Case))
    states = set(session.scalars(select(Case.state).where(Case.title.startswith("【演示】"))))
    assert states >= {"registered", "tier1", "tier2", "suspended", "awaiting_signoff", "performing", "resolved"}
    session.rollback()

    again = runner.invoke(cli, ["demo", "--if-empty"])
    assert again.exit_code == 0, again.output
    assert "already has an organisation" in again.output
    assert session.scalar(select(func.count()).select_from(Case)) == cases
    assert session.scalar(select(func.count()).select_from(Organisation)) == 1


def test_replay_prints_one_ok_line_per_real_case(runner, on_test_database, cases_dir):
    """`mediation replay FOLDER`: one OK line per case file and exit status 0."""
    result = runner.invoke(cli, ["replay", str(cases_dir)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    expected = sorted(p.stem for p in cases_dir.glob("*.yaml"))
    assert [line.split()[0] for line in lines] == expected
    assert all(line.split()[1] == "OK" for line in lines), result.stdout


def test_replay_writes_every_document_as_pdf_under_out(runner, on_test_database, cases_dir, tmp_path):
    """`--out DIR` writes DIR/<case id>/<kind>-v<version>.pdf for each document."""
    out = tmp_path / "out"
    result = runner.invoke(cli, ["replay", str(cases_dir / "c01.yaml"), str(cases_dir / "c05.yaml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len([line for line in result.stdout.splitlines() if " OK " in line]) == 2
    expected = {
        "c01/agreement-v1.pdf", "c01/follow_up-v1.pdf", "c01/dossier-v1.pdf",
        "c05/oral_agreement-v1.pdf", "c05/follow_up-v1.pdf", "c05/dossier-v1.pdf",
    }
    written = {str(p.relative_to(out)) for p in out.rglob("*.pdf")}
    assert written >= expected  # the cases' other documents (register, records …) are written too
    assert {Path(name).parts[0] for name in written} == {"c01", "c05"}
    for name in written:
        assert (out / name).read_bytes().startswith(b"%PDF")


def test_replay_exits_non_zero_on_a_mismatching_case(runner, on_test_database, tmp_path):
    """A mismatch is reported with the case id and the step, and the exit status is 1."""
    case = small_case(id="t21")
    case["steps"].append({"day": 4, "do": "sign_off"})  # a tier-2 agreement needs no sign-off
    path = write_case(tmp_path, case)
    result = runner.invoke(cli, ["replay", str(path)])
    assert result.exit_code == 1
    _no_traceback(result)
    assert result.stdout.startswith("t21 MISMATCH step 5 (sign_off) on day 4 as station_chief: InvalidTransition")


def test_replay_of_a_missing_path_is_a_clear_error(runner, tmp_path):
    """A path that does not exist is named, with no traceback."""
    result = runner.invoke(cli, ["replay", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    _no_traceback(result)
    assert "nope.yaml" in result.output and "does not exist" in result.output


def test_replay_of_a_bad_case_file_names_the_file_and_field(runner, tmp_path):
    """A case file with a bad field is named with the field; nothing is replayed."""
    case = small_case(id="t22")
    case["steps"][1]["day"] = "tomorrow"
    path = write_case(tmp_path, case)
    result = runner.invoke(cli, ["replay", str(path), "--database", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 1
    _no_traceback(result)
    assert result.output.startswith("Error: t22.yaml: field steps.2.day: 'tomorrow' is not of type 'integer'")
    assert not (tmp_path / "x.db").exists()


def test_replay_with_a_bad_start_date_is_a_usage_error(runner, tmp_path):
    """--start must be YYYY-MM-DD."""
    path = write_case(tmp_path, small_case())
    result = runner.invoke(cli, ["replay", str(path), "--start", "2026-13-01"])
    assert result.exit_code == 2
    _no_traceback(result)
    assert "--start" in result.output


def test_sweep_now_acts_on_lapsed_clocks_once(runner, on_test_database, tmp_path):
    """`mediation sweep --now` records every lapse due by then and prints the cases; a second run finds none."""
    case = small_case(id="t23", steps=[{"day": 0, "do": "file"}, {"day": 0, "do": "accept", "severity": "general"}],
                      expect={"state": "tier2", "tiers": [2], "documents": []})
    replayed = runner.invoke(cli, ["replay", str(write_case(tmp_path, case))])
    assert replayed.exit_code == 0, replayed.output

    result = runner.invoke(cli, ["sweep", "--now", "2026-04-30T09:00"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Sweep at 2026-04-30 09:00:00 (Asia/Shanghai): 2 clock(s) acted on")
    assert "（2026）温溪警调字第0001号  statutory_period" in result.output
    assert "（2026）温溪警调字第0001号  tier2_service" in result.output

    again = runner.invoke(cli, ["sweep", "--now", "2026-05-01T09:00+08:00"])
    assert again.exit_code == 0 and "0 clock(s) acted on" in again.output


def test_sweep_with_a_bad_now_is_a_usage_error(runner):
    """--now must be ISO-8601."""
    result = runner.invoke(cli, ["sweep", "--now", "next tuesday"])
    assert result.exit_code == 2
    _no_traceback(result)
    assert "'next tuesday' is not an ISO-8601 date-time" in result.output


@pytest.fixture
def serving(runner, on_test_database, uow, monkeypatch) -> list[tuple[Any, dict[str, Any]]]:
    """`mediation serve` with a stand-in web app and gunicorn: the (factory, options) it would run;
    no queue, rate-limit storage or verification address set."""
    for name in ("MEDIATION_QUEUE_URL", "MEDIATION_RATELIMIT_STORAGE_URI", "MEDIATION_VERIFY_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    ensure_demo_staff(uow)
    app = object()
    monkeypatch.setitem(sys.modules, "web", SimpleNamespace(create_app=lambda: app))
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(cli_module, "run_gunicorn", lambda factory, options: calls.append((factory, options)))
    return calls


def test_serve_runs_the_web_app_under_gunicorn(runner, serving):
    """`mediation serve` prints the URL and demo logins, then runs web:create_app under gunicorn:
    one process of 8 threads while the rate limits are counted in memory."""
    result = runner.invoke(cli, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123/ with 1 worker process(es) of 8 threads" in result.output
    assert " chief " in result.output and DEMO_PASSWORD in result.output
    assert "Warning" not in result.output
    [(factory, options)] = serving
    assert options == {"bind": "127.0.0.1:8123", "workers": 1, "worker_class": "gthread", "threads": 8}
    assert factory() is sys.modules["web"].create_app()  # the web app's own factory


def test_serve_warns_that_several_processes_count_the_limits_alone(runner, serving):
    result = runner.invoke(cli, ["serve", "--host", "127.0.0.1", "--workers", "3"])
    assert result.exit_code == 0, result.output
    [warning] = [line for line in result.output.splitlines() if line.startswith("Warning")]
    assert "3 worker processes each count the rate limits alone" in warning
    assert serving[0][1]["workers"] == 3


@pytest.mark.parametrize(("storage", "workers", "processes", "warns"), [
    ("memory://", None, 1, False),
    ("memory://", 1, 1, False),
    ("memory://", 4, 4, True),
    ("redis://127.0.0.1:6379/1", None, 2, False),
    ("redis://127.0.0.1:6379/1", 6, 6, False),
])
def test_the_gunicorn_options_follow_the_rate_limit_storage(storage, workers, processes, warns):
    options, warning = cli_module.gunicorn_options("::", 5000, workers, storage)
    assert options == {"bind": "[::]:5000", "workers": processes, "worker_class": "gthread", "threads": 8}
    assert bool(warning) is warns
    if warns:
        assert f"up to {processes} times" in warning and "\n" not in warning


@pytest.mark.parametrize(("host", "base", "warns"), [
    ("0.0.0.0", None, True),
    ("192.168.1.10", None, True),
    ("0.0.0.0", "https://tiaojie.example.cn", False),
    ("127.0.0.1", None, False),
    ("localhost", None, False),
])
def test_serve_warns_when_the_qr_codes_would_point_at_this_computer(runner, serving, monkeypatch, host, base, warns):
    if base:
        monkeypatch.setenv("MEDIATION_VERIFY_BASE_URL", base)
    result = runner.invoke(cli, ["serve", "--host", host])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "MEDIATION_VERIFY_BASE_URL is not set" in line]
    assert len(lines) == (1 if warns else 0)


@pytest.mark.parametrize(("queue", "message"), [
    ("garbage", "Error: MEDIATION_QUEUE_URL: 'garbage' is not a queue URL"),
    ("redis://127.0.0.1:6379/abc", "Error: MEDIATION_QUEUE_URL: the Redis database 'abc'"),
    ("sqlite:////proc/q.db", "Error: MEDIATION_QUEUE_URL: the queue file sqlite:////proc/q.db cannot be opened"),
])
def test_serve_refuses_a_queue_it_cannot_use_before_serving(runner, serving, monkeypatch, queue, message):
    """The tester's `MEDIATION_QUEUE_URL=garbage mediation serve`: one line, exit 1, no "Serving", no gunicorn."""
    monkeypatch.setenv("MEDIATION_QUEUE_URL", queue)
    result = runner.invoke(cli, ["serve"])
    assert result.exit_code == 1
    _no_traceback(result)
    assert result.output.startswith(message) and result.output.count("\n") == 1, result.output
    assert serving == []


def test_serve_starts_with_a_redis_queue_nobody_answers_yet(runner, serving, monkeypatch):
    """Only the address is checked: the web app renders while the request waits until Redis answers."""
    monkeypatch.setenv("MEDIATION_QUEUE_URL", "redis://127.0.0.1:1/0")
    result = runner.invoke(cli, ["serve"])
    assert result.exit_code == 0, result.output
    assert len(serving) == 1


def test_serve_without_the_web_package_is_a_clear_error(runner, monkeypatch):
    """No web UI: a one-line error instead of an ImportError traceback."""
    monkeypatch.setitem(sys.modules, "web", None)
    result = runner.invoke(cli, ["serve"])
    assert result.exit_code == 1
    _no_traceback(result)
    assert "the web UI is not available" in result.output


def test_the_console_script_turns_an_unexpected_error_into_one_line(monkeypatch, capsys):
    """main(): the last line of defence prints one line and exits 1."""
    monkeypatch.setattr(sys, "argv", ["mediation", "sweep"])
    monkeypatch.delenv("MEDIATION_DEBUG", raising=False)

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("kaput")

    monkeypatch.setattr(cli_module, "_unit_of_work", boom)
    with pytest.raises(SystemExit) as info:
        cli_module.main()
    assert info.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err == "Error: unexpected RuntimeError: kaput (set MEDIATION_DEBUG=1 for details)"



def test_python_dash_m_mediation_is_the_same_command_line() -> None:
    done = subprocess.run([sys.executable, "-m", "mediation", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "replay" in done.stdout and "report" in done.stdout
