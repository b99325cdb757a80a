"""Error pages, layout and the message catalogues (issue 2, points 4, 6 and 7)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from mediation.enums import Role
from web import ROOT, TRANSLATIONS, labels


def test_unknown_page_gets_a_friendly_localized_404(client, make_user, login):
    login(make_user(Role.LIAISON_OFFICER))
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "未找到" in page and "Traceback" not in page and '<html lang="zh-CN">' in page


def test_wrong_method_gets_405_page(client):
    response = client.put("/login")
    assert response.status_code == 405
    page = response.get_data(as_text=True)
    assert "不接受" in page and "不支持此操作" in page
    assert "无权" not in page  # not the "no permission" page of a 403


def test_too_large_request_gets_413_page(client, app):
    app.config["MAX_CONTENT_LENGTH"] = 100
    response = client.post("/login", data={"username": "x" * 500, "password": "y"})
    assert response.status_code == 413


def test_server_error_page_has_no_traceback(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    response = client.get("/boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "出错" in page and "RuntimeError" not in page


def test_layout_is_local_and_labelled(client, make_user, login):
    login(make_user(Role.LIAISON_OFFICER))
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "http://" not in page and "https://" not in page  # no CDN, no outside fonts
    for nav in ("我的案件", "台账", "登记纠纷", "退出", "中文", "English"):
        assert nav in page
    for asset in ("/static/app.css", "/static/app.js"):
        with client.get(asset) as response:
            assert response.status_code == 200
    css = (ROOT / "web" / "static" / "app.css").read_text(encoding="utf-8")
    assert "@import" not in css and "url(" not in css


def _catalogue(locale: str):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=locale)


def test_every_message_of_the_interface_and_the_domain_is_translated_to_chinese():
    """Extract like babel.cfg does (web/, templates/, mediation/ with N_ and _l) and look each up."""
    method_map = [("web/**.py", "python"), ("mediation/**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.do"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "_l": None, "lazy_gettext": None}
    found = {
        (msgid if isinstance(msgid, str) else msgid[0])
        for _file, _line, msgid, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options, keywords=keywords
        )
    }
    zh = _catalogue("zh_CN")
    missing = sorted(m for m in found if not (zh.get(m) and zh.get(m).string and not zh.get(m).fuzzy))
    assert not missing, (
        "untranslated messages; run pybabel extract/update as babel.cfg says and translate:\n" + "\n".join(missing)
    )


def test_english_catalogue_exists_for_every_screen():
    assert Path(TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po").is_file()


def test_every_vocabulary_value_has_a_label():
    from mediation import enums

    pairs = [
        ("role", enums.Role), ("severity", enums.Severity), ("source", enums.IntakeSource),
        ("category", enums.Category), ("party_role", enums.PartyRole), ("party_kind", enums.PartyKind),
        ("gender", enums.Gender), ("mode", enums.SessionMode), ("referral", enums.Referral),
        ("agreement_kind", enums.AgreementKind), ("agreement_status", enums.AgreementStatus),
        ("clock_status", enums.ClockStatus),
    ]
    for vocabulary, enum_cls in pairs:
        assert set(labels.VOCABULARIES[vocabulary]) == {m.value for m in enum_cls}, vocabulary
