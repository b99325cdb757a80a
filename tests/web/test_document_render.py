"""Long documents rendered in the background (web.renders): the dossier's progress page, its JSON,
the download when done, a failure with its retry, the access policy, one render for many asks.

The queue is a SQLite file per test; the tests run its tasks themselves (``dequeue`` + ``execute``)
so each state can be looked at, and one test lets the app's own consumer thread do it.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from mediation import archive, tasks
from mediation.enums import Role
from mediation.models import Document
from mediation.services import UnitOfWork
from tests import factories
from tests.integration.journeys import Station, open_station
from web import create_app, renders


def queue_app(like: Flask, **config: Any) -> Flask:
    """An app configured like ``like`` (the suite's test app), with the queue settings of ``config``."""
    kept = ("TESTING", "SECRET_KEY", "DATABASE_URL", "WTF_CSRF_ENABLED", "DOCUMENT_CACHE_DIR", "QUEUE_URL",
            "NOTICE_LOG")
    return create_app({**{key: like.config[key] for key in kept},
                       "WORKFLOW_ENGINE": like.extensions["mediation"].engine, **config})


@pytest.fixture
def app(app: Flask, tmp_path: Path) -> Iterator[Flask]:
    """The suite's app, remade with a SQLite queue of its own that nobody consumes (the tests run its tasks)."""
    made = queue_app(app, QUEUE_URL=f"sqlite:///{tmp_path / 'queue.db'}", NOTICE_LOG=tmp_path / "notices.log")
    yield made
    made.extensions["mediation"].db_engine.dispose()


def queue_of(app: Flask) -> tasks.TaskQueue:
    queue: tasks.TaskQueue = app.extensions["task_queue"]
    return queue


def run_pending(app: Flask) -> int:
    huey, ran = queue_of(app).huey, 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        ran += 1
    return ran


@pytest.fixture
def station(uow: UnitOfWork, session: Any, make_user: Any, organisation: Any) -> Station:
    return open_station(uow, session, make_user, organisation)


@pytest.fixture
def closed(station: Station) -> dict[str, Any]:
    """A resolved labour case: its id, number and the ids of its dossier and agreement."""
    case_id = station.drive_to("labour", "resolved")

    def ids(s: Any) -> dict[str, int]:
        return dict(s.execute(select(Document.kind, Document.id).where(Document.case_id == case_id)).all())

    documents = station.read(ids)
    return {"id": case_id, "number": station.case(case_id).number, "dossier": documents["dossier"],
            "agreement": documents["oral_agreement"]}


def urls(case: dict[str, Any]) -> dict[str, str]:
    base = f"/cases/{case['id']}/documents/{case['dossier']}"
    return {"pdf": base + ".pdf", "page": base + "/render", "json": base + "/render.json"}


def title_of(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found, "no <title>"
    return found.group(1).strip()


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_dossier_not_cached_is_rendered_in_the_background_with_its_progress(
    app: Flask, client: FlaskClient, login: Callable[..., Any], station: Station, closed: dict[str, Any]
) -> None:
    login(station.user(Role.LIAISON_OFFICER))
    u = urls(closed)
    case_page = client.get(f"/cases/{closed['id']}").get_data(as_text=True)
    link = re.search(rf'<a href="{re.escape(u["pdf"])}"([^>]*)>', case_page)
    assert link and "download" not in link.group(1)  # the link may lead to a page, so it is not a download link

    asked = client.get(u["pdf"])
    assert asked.status_code == 303 and asked.headers["Location"].endswith(u["page"])

    page = client.get(u["page"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert title_of(html).startswith("正在生成卷宗 PDF… · ") and "排队等待后台处理" in html
    assert 'data-render-title="正在生成卷宗 PDF…"' in html  # render.js puts the ready heading in its place
    assert re.search(r'<progress max="100" aria-labelledby="render-stage">', html)  # indeterminate while queued
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in html
    assert '<script src="/static/render.js" defer></script>' in html
    assert f'data-render-status="{u["json"]}"' in html
    with client.get("/static/render.js") as script:
        assert script.status_code == 200

    queued = client.get(u["json"]).get_json()
    assert queued["state"] == "queued" and queued["percent"] == 0 and not queued["done"]
    assert queued["download"] == u["pdf"]

    assert run_pending(app) == 1
    done = client.get(u["json"]).get_json()
    assert done["state"] == "done" and done["done"] and done["percent"] == 100 and done["pages"] >= 2
    assert done["label"] == "已生成" and done["detail"] == f"共 {done['pages']} 页。"

    ready = client.get(u["page"]).get_data(as_text=True)
    assert title_of(ready).startswith("卷宗 PDF 已生成 · ")  # the title follows the state
    assert "卷宗 PDF 已生成" in ready and f'href="{u["pdf"]}"' in ready and 'http-equiv="refresh"' not in ready

    pdf = client.get(u["pdf"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert closed["number"] in pdf_text(pdf.data)


def test_the_progress_page_speaks_english(app, client, login, station, closed):
    login(station.user(Role.LIAISON_OFFICER))
    client.post("/locale", data={"locale": "en"})
    html = client.get(urls(closed)["page"]).get_data(as_text=True)
    assert "Preparing the case dossier PDF…" in html and "Waiting for a worker" in html


def test_the_progress_reports_the_pages_laid_out(app, client, login, station, closed):
    login(station.user(Role.LIAISON_OFFICER))
    u = urls(closed)
    client.get(u["pdf"])
    now = queue_of(app).clock()
    record(app, station, closed, tasks.RenderStatus("layout", 4, queued_at=now, updated_at=now))
    status = client.get(u["json"]).get_json()
    assert (status["state"], status["pages"], status["percent"]) == ("layout", 4, 40)
    assert status["label"] == "正在排版" and status["detail"] == "已排版 4 页。"
    html = client.get(u["page"]).get_data(as_text=True)
    assert '<progress max="100" value="40"' in html and "已排版 4 页。" in html


def record(app: Flask, station: Station, closed: dict[str, Any], status: tasks.RenderStatus) -> Document:
    """Store ``status`` as the render status of ``closed``'s dossier, as a worker would; the dossier."""
    dossier = _document(station, closed["dossier"])
    queue_of(app)._put(tasks.status_key(dossier.kind, dossier.digest), status)
    return dossier


def _document(station: Station, document_id: int) -> Document:
    def load(s: Any) -> Document:
        doc = s.get(Document, document_id)
        s.expunge(doc)
        return doc

    found: Document = station.read(load)
    return found


def test_a_cached_dossier_downloads_at_once_and_short_documents_never_wait(app, client, login, station, closed,
                                                                          tmp_path):
    login(station.user(Role.LIAISON_OFFICER))
    agreement = client.get(f"/cases/{closed['id']}/documents/{closed['agreement']}.pdf")
    assert agreement.status_code == 200 and agreement.mimetype == "application/pdf"
    archive.document_pdf(_document(station, closed["dossier"]), tmp_path / "documents")  # already rendered
    pdf = client.get(urls(closed)["pdf"])
    assert pdf.status_code == 200 and closed["number"] in pdf_text(pdf.data)
    assert queue_of(app).check() == 0
    page = client.get(f"/cases/{closed['id']}/documents/{closed['agreement']}/render")
    assert page.status_code == 302 and page.headers["Location"].endswith(f"{closed['agreement']}.pdf")


def test_asking_again_while_it_renders_starts_one_render(app, client, login, station, closed):
    login(station.user(Role.LIAISON_OFFICER))
    u = urls(closed)
    for url in (u["pdf"], u["pdf"], u["page"], u["json"], u["page"]):
        assert client.get(url).status_code in (200, 303)
    client.post(u["page"])  # a retry while it waits changes nothing either
    assert queue_of(app).check() == 1
    assert run_pending(app) == 1


def test_a_failed_render_shows_a_plain_reason_and_a_retry(app, client, login, station, closed, monkeypatch):
    login(station.user(Role.LIAISON_OFFICER))
    u = urls(closed)
    client.get(u["pdf"])

    def broken(*_args: Any, **_kwargs: Any) -> bytes:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(archive, "render_pdf", broken)
    run_pending(app)
    failed = client.get(u["json"]).get_json()
    assert failed["state"] == "failed" and failed["failed"] and not failed["done"]
    assert failed["message"] == "无法生成PDF；管理员可在日志中查看详情。"  # the error itself is only in the log
    html = client.get(u["page"]).get_data(as_text=True)
    assert title_of(html).startswith("卷宗 PDF 生成失败 · ")
    assert "无法生成PDF" in html and "No space left on device" not in html and "OSError" not in html
    assert re.search(rf'<form method="post" action="{re.escape(u["page"])}"', html)
    assert 'name="csrf_token"' in html and "重试" in html
    assert 'http-equiv="refresh"' not in html

    monkeypatch.undo()
    retried = client.post(u["page"])
    assert retried.status_code == 302 and retried.headers["Location"].endswith(u["page"])
    assert client.get(u["json"]).get_json()["state"] == "queued"
    assert run_pending(app) == 1
    assert client.get(u["json"]).get_json()["state"] == "done"


def test_the_retry_needs_the_csrf_token(app, station, closed):
    app = queue_app(app, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    user = station.user(Role.LIAISON_OFFICER)
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page)
    assert token
    client.post("/login", data={"username": user.username, "password": "secret-pass", "csrf_token": token.group(1)})
    assert client.post(urls(closed)["page"]).status_code == 400
    assert queue_of(app).check() == 0
    app.extensions["mediation"].db_engine.dispose()


def test_a_render_that_stalled_is_shown_as_failed_with_a_retry(app, client, login, station, closed):
    """A worker died while laying out: five minutes without a report, the page offers the retry."""
    login(station.user(Role.LIAISON_OFFICER))
    u = urls(closed)
    client.get(u["pdf"])
    queue = queue_of(app)
    queue.huey.storage.flush_queue()  # taken by the worker that died
    started = time.time()
    record(app, station, closed, tasks.RenderStatus("layout", 3, queued_at=started, updated_at=started))
    queue.clock = lambda: started + tasks.STALE_AFTER + 5
    status = client.get(u["json"]).get_json()
    assert status["failed"] and "可能已被停止" in status["message"]
    client.post(u["page"])
    assert queue.check() == 1


def test_a_render_waiting_long_in_the_queue_still_says_waiting(app, client, login, station, closed):
    """Busy or stopped workers: the render waits however long it takes, and the retry queues nothing."""
    login(station.user(Role.LIAISON_OFFICER))
    u = urls(closed)
    client.get(u["pdf"])
    queue = queue_of(app)
    queue.clock = lambda: time.time() + tasks.STALE_AFTER * 4
    status = client.get(u["json"]).get_json()
    assert status["state"] == "queued" and not status["failed"]
    assert status["label"] == "排队等待后台处理" and "后台进程可能正忙或未运行" in status["detail"], status
    html = client.get(u["page"]).get_data(as_text=True)
    assert 'http-equiv="refresh"' in html and "重试" not in html
    client.post(u["page"])
    assert queue.check() == 1


def test_the_status_json_answers_401_when_logged_out(app, client, station, closed):
    """The page's script cannot follow a redirect to the log-in page: it gets 401 and reloads the page."""
    u = urls(closed)
    answer = client.get(u["json"])
    assert answer.status_code == 401 and answer.get_json()["error"] == "login_required"
    page = client.get(u["page"])
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_one_page_is_singular_in_english(app, client, login, station, closed):
    login(station.user(Role.LIAISON_OFFICER))
    u = urls(closed)
    client.get(u["pdf"])
    record(app, station, closed, tasks.RenderStatus("done", 1))
    assert client.get(u["json"]).get_json()["detail"] == "共 1 页。"
    client.post("/locale", data={"locale": "en"})
    assert client.get(u["json"]).get_json()["detail"] == "1 page."
    record(app, station, closed, tasks.RenderStatus("done", 12))
    assert client.get(u["json"]).get_json()["detail"] == "12 pages."


def test_another_organisations_user_gets_404_everywhere(app, client, login, station, closed):
    stranger = factories.UserFactory(role=Role.STATION_CHIEF, organisation=factories.OrganisationFactory())
    login(stranger)
    u = urls(closed)
    for url in (u["pdf"], u["page"]):
        assert client.get(url).status_code == 404, url
    answer = client.get(u["json"])
    assert answer.status_code == 404 and answer.get_json()["error"] == "not_found"
    assert client.post(u["page"]).status_code == 404
    assert queue_of(app).check() == 0


def test_a_pdf_that_cannot_be_written_is_a_plain_failure_and_a_503(app, client, login, station, closed, caplog):
    """The tester's state: the cache entry is a folder. Staff see a plain reason, never the server's
    paths; the log has the error and the real cache folder; the download is a 503 page."""
    login(station.user(Role.LIAISON_OFFICER))
    u = urls(closed)
    cache = Path(app.config["DOCUMENT_CACHE_DIR"])
    dossier = _document(station, closed["dossier"])
    archive.cache_path(dossier, cache).mkdir(parents=True)
    client.get(u["pdf"])
    run_pending(app)
    failed = client.get(u["json"]).get_json()
    assert failed["failed"] and failed["message"] == "无法将PDF写入文书存储；管理员可在日志中查看详情。"
    html = client.get(u["page"]).get_data(as_text=True)
    assert "无法将PDF写入文书存储" in html and str(cache) not in html and "Errno" not in html
    assert "IsADirectoryError" in caplog.text
    assert not list(cache.glob("*.part"))

    caplog.clear()  # a document rendered while the request waits (the agreement), its cache entry a folder too
    agreement = _document(station, closed["agreement"])
    archive.cache_path(agreement, cache).mkdir(parents=True)
    answer = client.get(f"/cases/{closed['id']}/documents/{closed['agreement']}.pdf")
    assert answer.status_code == 503
    text = answer.get_data(as_text=True)
    assert "暂时无法准备该文书" in text and str(cache) not in text and "Errno" not in text
    assert "IsADirectoryError" in caplog.text and str(cache) in caplog.text
    assert not list(cache.glob("*.part"))


def test_a_dossier_rendered_elsewhere_but_missing_here_logs_the_real_cache(app, client, login, station, closed,
                                                                           caplog):
    login(station.user(Role.LIAISON_OFFICER))
    u = urls(closed)
    client.get(u["pdf"])
    run_pending(app)
    dossier = _document(station, closed["dossier"])
    archive.cache_path(dossier, app.config["DOCUMENT_CACHE_DIR"]).unlink()  # as if on another host's cache
    pdf = client.get(u["pdf"])
    assert pdf.status_code == 200
    assert f"document {dossier.id} was rendered but is not in {app.config['DOCUMENT_CACHE_DIR']}" in caplog.text
    assert "not in None" not in caplog.text


def test_ids_past_the_database_range_are_404_on_every_render_route(app, client, login, station, closed):
    login(station.user(Role.LIAISON_OFFICER))
    huge = "99999999999999999999999"
    for case_id, document_id in ((closed["id"], huge), (huge, closed["dossier"]), (huge, huge)):
        base = f"/cases/{case_id}/documents/{document_id}"
        answer = client.get(base + "/render.json")
        assert answer.status_code == 404 and answer.get_json()["error"] == "not_found", base
        assert client.get(base + "/render").status_code == 404, base
        assert client.post(base + "/render").status_code == 404, base
        assert client.get(base + ".pdf").status_code == 404, base
    assert client.get(f"/cases/{closed['id']}/documents/abc/render.json").status_code == 404
    assert queue_of(app).check() == 0


def test_a_queue_that_cannot_be_reached_renders_while_the_request_waits(app, station, closed):
    app = queue_app(app, QUEUE_URL="redis://127.0.0.1:1/0")
    client = app.test_client()
    client.post("/login", data={"username": station.user(Role.LIAISON_OFFICER).username, "password": "secret-pass"})
    u = urls(closed)
    pdf = client.get(u["pdf"])
    assert pdf.status_code == 200 and closed["number"] in pdf_text(pdf.data)
    assert client.get(u["page"]).status_code == 200  # cached now: the page says it is ready
    app.extensions["mediation"].db_engine.dispose()


def test_the_apps_own_consumer_thread_renders_it(app, station, closed):
    """The embedded default: the serving process starts a consumer; the page's JSON goes to done by itself."""
    app = queue_app(app, QUEUE_CONSUMER=True)
    try:
        assert not queue_of(app).consuming  # building the app starts nothing: the server does
        assert renders.start_consumer(app) and queue_of(app).consuming
        client = app.test_client()
        client.post("/login", data={"username": station.user(Role.LIAISON_OFFICER).username,
                                    "password": "secret-pass"})
        u = urls(closed)
        assert client.get(u["pdf"]).status_code in (200, 303)
        deadline = time.monotonic() + 90
        while (status := client.get(u["json"]).get_json())["state"] not in ("done", "failed"):
            assert time.monotonic() < deadline, status
            time.sleep(0.2)
        assert status["state"] == "done"
        pdf = client.get(u["pdf"])
        assert pdf.status_code == 200 and closed["number"] in pdf_text(pdf.data)
    finally:
        renders.stop_consumer(app)
        app.extensions["mediation"].db_engine.dispose()
    assert not queue_of(app).consuming


def test_a_testing_app_keeps_its_queue_in_memory_and_consumes_nothing(database, workflow_engine, monkeypatch):
    monkeypatch.setenv("MEDIATION_QUEUE_URL", "redis://127.0.0.1:1/0")  # ignored by a testing app
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": database.url,
                      "WORKFLOW_ENGINE": workflow_engine})
    queue = queue_of(app)
    assert queue.location.startswith("memory") and not queue.consuming
    app.extensions["mediation"].db_engine.dispose()


@pytest.mark.parametrize("value", ["0", "false", "No", "OFF"])
def test_the_consumer_may_be_turned_off(app, monkeypatch, value):
    monkeypatch.setenv("MEDIATION_QUEUE_CONSUMER", value)
    made = queue_app(app, TESTING=False)
    try:
        assert made.config["QUEUE_CONSUMER"] is False and not renders.start_consumer(made)
    finally:
        made.extensions["mediation"].db_engine.dispose()


def test_the_notice_log_may_be_named(app, monkeypatch, tmp_path):
    monkeypatch.setenv("MEDIATION_NOTICE_LOG", str(tmp_path / "elsewhere.log"))
    made = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": app.config["DATABASE_URL"],
                       "WORKFLOW_ENGINE": app.extensions["mediation"].engine})
    try:
        assert queue_of(made).work.notice_log == tmp_path / "elsewhere.log"
    finally:
        made.extensions["mediation"].db_engine.dispose()
