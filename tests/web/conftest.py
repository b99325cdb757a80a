"""Fixtures of the web tests: the app on the test database, a client, logging in, reading back.

The message catalogues are compiled here when their ``.mo`` is missing or older than
the ``.po`` (the ``.mo`` files are not committed; ``make`` compiles them too).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from mediation.engine import Engine as WorkflowEngine
from mediation.models import Case, Enterprise, Event, Organisation, User
from web import TRANSLATIONS, create_app

if TYPE_CHECKING:
    from tests.conftest import Database

PASSWORD = "secret-pass"  # what tests.factories hashes for every user


def compile_catalogues(directory: Path = TRANSLATIONS) -> list[Path]:
    """Compile every ``messages.po`` under ``directory`` whose ``.mo`` is missing or stale."""
    done = []
    for po in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=po.parent.parent.name)
        fd, tmp = tempfile.mkstemp(dir=po.parent, suffix=".mo.part")
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog)
        os.chmod(tmp, 0o644)
        os.replace(tmp, mo)  # atomic, so parallel workers never read half a file
        done.append(mo)
    return done


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogues() -> None:
    """The zh_CN and en catalogues, compiled."""
    compile_catalogues()


@pytest.fixture
def app(database: Database, workflow_engine: WorkflowEngine, tmp_path: Path) -> Iterator[Flask]:
    """The app on the test database, CSRF off (one test turns it on)."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database.url,
            "WORKFLOW_ENGINE": workflow_engine,
            "WTF_CSRF_ENABLED": False,
            "DOCUMENT_CACHE_DIR": tmp_path / "documents",
        }
    )
    yield app
    app.extensions["mediation"].db_engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser without JavaScript."""
    return app.test_client()


def make_enterprise(session: Session, organisation: Organisation, name: str) -> Enterprise:
    """An enterprise of ``organisation`` (``tests.factories.EnterpriseFactory`` passes a
    relationship ``Enterprise`` does not have, so it is made here by hand)."""
    enterprise = Enterprise(organisation_id=organisation.id, name=name)
    session.add(enterprise)
    session.commit()
    return enterprise


@pytest.fixture
def enterprise(session: Session, organisation: Organisation) -> Enterprise:
    """温溪镇某阀门有限公司, an enterprise served by the station."""
    return make_enterprise(session, organisation, "青田县温溪镇某阀门有限公司")


@pytest.fixture
def other_enterprise(session: Session, organisation: Organisation) -> Enterprise:
    """Another enterprise of the same station."""
    return make_enterprise(session, organisation, "青田县温溪镇某鞋业有限公司")


@pytest.fixture
def login(client: FlaskClient) -> Callable[[User], TestResponse]:
    """Log ``user`` in through the form (the client keeps the session)."""

    def do(user: User) -> TestResponse:
        client.post("/logout")
        response = client.post("/login", data={"username": user.username, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    return do


@pytest.fixture
def read(database: Database) -> Callable[[Callable[[Session], Any]], Any]:
    """Run ``fn(session)`` in a short session of its own and return what it returns."""

    def do(fn: Callable[[Session], Any]) -> Any:
        with database.session_factory() as s:
            return fn(s)

    return do


def count_events(read: Callable[..., Any], case_id: int | None = None) -> int:
    """How many events there are (of one case)."""
    stmt = select(func.count()).select_from(Event)
    if case_id is not None:
        stmt = stmt.where(Event.case_id == case_id)
    return int(read(lambda s: s.scalar(stmt)))


def count_cases(read: Callable[..., Any]) -> int:
    """How many cases there are."""
    return int(read(lambda s: s.scalar(select(func.count()).select_from(Case))))


def get_case(read: Callable[..., Any], case_id: int) -> Case:
    """The case with its parties loaded."""

    def fn(s: Session) -> Case:
        case = s.get(Case, case_id)
        assert case is not None
        _ = list(case.parties), list(case.agreements), [list(a.obligations) for a in case.agreements]
        return case

    return read(fn)  # type: ignore[no-any-return]


def case_version(read: Callable[..., Any], case_id: int) -> int:
    """The case's current version."""
    return int(read(lambda s: s.get(Case, case_id).version))


def case_id_from(response: TestResponse) -> int:
    """The case id of a redirect to a case page."""
    match = re.search(r"/cases/(\d+)$", response.headers["Location"])
    assert match, response.headers.get("Location")
    return int(match.group(1))


def filing_form(**overrides: str) -> dict[str, str]:
    """A labour dispute with three parties: a group of 5 workers, the enterprise, the subcontractor."""
    data = {
        "workflow": "labour",
        "category": "wages",
        "filed_via": "walk_in",
        "facts": "2025年10月至12月工资未发，共计拖欠五名工人工资。",
        "claims": "支付拖欠工资",
        "amount_claimed": "49,830",
        "parties-0-role": "applicant",
        "parties-0-kind": "group",
        "parties-0-name": "刘某某等5名工人",
        "parties-0-size": "5",
        "parties-0-representative": "刘某某",
        "parties-0-phone": "13800000101",
        "parties-1-role": "respondent",
        "parties-1-kind": "organisation",
        "parties-1-name": "青田县温溪镇某阀门有限公司",
        "parties-1-representative": "法定代表人陈某",
        "parties-2-role": "third_party",
        "parties-2-kind": "person",
        "parties-2-name": "张某",
        "parties-2-gender": "M",
        "parties-2-ethnicity": "汉族",
        "parties-2-occupation": "包工头",
        "parties-2-id_number": "510824196903150379",
        "parties-2-phone": "13912345678",
        "parties-2-address": "青田县温溪镇",
        "parties-3-role": "applicant",
    }
    data.update(overrides)
    return data


@pytest.fixture
def file_case(client: FlaskClient, login: Callable[[User], TestResponse]) -> Callable[..., int]:
    """File the standard labour dispute as ``user`` through the form; returns the case id."""

    def do(user: User, **overrides: str) -> int:
        login(user)
        response = client.post("/cases/new", data=filing_form(**overrides))
        assert response.status_code == 302, response.get_data(as_text=True)
        return case_id_from(response)

    return do


def act(client: FlaskClient, case_id: int, trigger: str, version: int, **data: Any) -> TestResponse:
    """Post an action form."""
    return client.post(f"/cases/{case_id}/actions/{trigger}", data={"version": str(version), **data})

