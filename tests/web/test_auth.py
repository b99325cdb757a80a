"""Logging in and out, CSRF, and the language switch (issue 2, points 1 and 6)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from mediation.auth import authenticate, hash_password, needs_rehash
from mediation.enums import Role
from mediation.models import User
from tests.web.conftest import PASSWORD, act, case_id_from, count_events, filing_form


def test_login_page_is_chinese_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert "矛盾纠纷调处平台" in page
    assert "登录" in page


def test_login_page_leads_the_public_to_filing_status_and_verification(client):
    page = client.get("/login").get_data(as_text=True)
    for path, label in (("/public/file", "网上申请调解"), ("/public/status", "查询"), ("/verify", "文书核验")):
        assert f'href="{path}"' in page, path
        assert label in page
    for path in ("/public/file", "/public/status", "/verify"):
        assert client.get(path).status_code == 200, path


def test_pages_need_a_login(client):
    response = client.get("/ledger")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_user_logs_in_and_out(client, make_user):
    officer = make_user(Role.LIAISON_OFFICER, display_name="王警官")
    response = client.post("/login", data={"username": officer.username, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "王警官" in page and "联企民警" in page
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_shows_a_message_and_does_not_log_in(client, make_user):
    officer = make_user(Role.LIAISON_OFFICER)
    response = client.post("/login", data={"username": officer.username, "password": "wrong"})
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    unknown = client.post("/login", data={"username": "nobody", "password": "wrong"})
    assert "用户名或密码错误" in unknown.get_data(as_text=True)  # the same words: no hint which was wrong
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/ledger?state=registered", "/ledger?state=registered"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_login_goes_back_only_to_a_page_of_this_site(client, make_user, target, expected):
    officer = make_user(Role.LIAISON_OFFICER)
    response = client.post(f"/login?next={target}", data={"username": officer.username, "password": PASSWORD})
    assert response.headers["Location"] == expected


def test_deactivated_user_is_logged_out(client, make_user, login, database):
    officer = make_user(Role.LIAISON_OFFICER)
    login(officer)
    with database.engine.begin() as conn:
        conn.execute(update(User).where(User.id == officer.id).values(active=False))
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.post("/login", data={"username": officer.username, "password": PASSWORD}).status_code == 401


def test_post_without_csrf_token_is_rejected(app, make_user, file_case, client, read):
    """CSRF on every form: with the protection on, a POST without the token changes nothing."""
    officer = make_user(Role.LIAISON_OFFICER)
    case_id = file_case(officer)
    events = count_events(read, case_id)
    app.config["WTF_CSRF_ENABLED"] = True
    response = act(client, case_id, "accept", 2, severity="general")
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)
    assert count_events(read, case_id) == events
    assert client.post("/login", data={"username": officer.username, "password": PASSWORD}).status_code == 400


def test_posts_with_the_pages_csrf_token_are_accepted(app, make_user, read):
    app.config["WTF_CSRF_ENABLED"] = True
    chief = make_user(Role.STATION_CHIEF)
    client = app.test_client()

    def token(path: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)

    login = {"username": chief.username, "password": PASSWORD, "csrf_token": token("/login")}
    response = client.post("/login", data=login)
    assert response.status_code == 302
    response = client.post("/cases/new", data=filing_form(csrf_token=token("/cases/new")))
    assert response.status_code == 302
    case_id = case_id_from(response)
    response = act(client, case_id, "accept", 2, severity="major", csrf_token=token(f"/cases/{case_id}"))
    assert response.status_code == 302
    assert count_events(read, case_id) == 2


def test_language_switch_is_remembered_in_session_and_on_the_user(client, make_user, login, read):
    officer = make_user(Role.LIAISON_OFFICER)
    login(officer)
    response = client.post("/locale", data={"locale": "en", "next": "/ledger"})
    assert response.headers["Location"] == "/ledger"
    page = client.get("/ledger").get_data(as_text=True)
    assert '<html lang="en">' in page and "Ledger" in page and "Dispute Mediation" in page
    assert read(lambda s: s.get(User, officer.id).locale) == "en"
    # a new browser session of the same user starts in English
    other = client.application.test_client()
    other.post("/login", data={"username": officer.username, "password": PASSWORD})
    assert '<html lang="en">' in other.get("/").get_data(as_text=True)


def test_language_switch_works_before_logging_in(client):
    client.post("/locale", data={"locale": "en", "next": "/login"})
    assert "Log in" in client.get("/login").get_data(as_text=True)


def test_passwords_are_hashed_with_scrypt_and_old_hashes_upgraded(session, make_user):
    assert hash_password("x").startswith("scrypt:")
    from werkzeug.security import generate_password_hash

    user = make_user(Role.AUDITOR, password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256"))
    assert needs_rehash(user.password_hash)
    assert authenticate(session, user.username, PASSWORD) is user
    session.commit()
    assert not needs_rehash(user.password_hash)
    assert authenticate(session, user.username, "wrong") is None
    session.commit()


def test_wrong_passwords_are_limited_per_address_and_right_ones_are_not(client, make_user):
    officer = make_user(Role.LIAISON_OFFICER)
    for _ in range(12):  # right passwords never count
        assert client.post("/login", data={"username": officer.username, "password": PASSWORD}).status_code == 302
        client.post("/logout")
    for attempt in range(10):
        response = client.post("/login", data={"username": f"guess{attempt}", "password": "wrong"})
        assert response.status_code == 401
    response = client.post("/login", data={"username": officer.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "密码错误次数过多" in response.get_data(as_text=True)
    assert client.get("/login").status_code == 200  # reading the form is not limited
    other = client.application.test_client()
    response = other.post("/login", data={"username": officer.username, "password": PASSWORD},
                          environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert response.status_code == 302  # another address may still log in


def test_wrong_passwords_are_logged_but_never_lock_a_colleague_out_from_elsewhere(client, make_user, caplog):
    """Guesses at one account from one address do not stop its owner logging in from another."""
    officer = make_user(Role.LIAISON_OFFICER)
    with caplog.at_level("WARNING", logger="mediation.security"):
        for _ in range(10):
            response = client.post("/login", data={"username": officer.username, "password": "wrong"},
                                   environ_base={"REMOTE_ADDR": "10.0.1.1"})
            assert response.status_code == 401
    assert sum(officer.username in r.getMessage() and "10.0.1.1" in r.getMessage() for r in caplog.records) == 10
    response = client.post("/login", data={"username": officer.username, "password": "wrong"},
                           environ_base={"REMOTE_ADDR": "10.0.1.1"})
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "密码错误次数过多" in page and "管理员" in page
    response = client.post("/login", data={"username": officer.username, "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.0.1.2"})
    assert response.status_code == 302
