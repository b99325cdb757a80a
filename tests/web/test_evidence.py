"""Evidence (issue 4 B, point 2): files checked by content, kept by hash outside the web root,
downloaded only by those who may see the case; notes on the case. DOMAIN R33, R36."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from mediation import attachments
from mediation.enums import Role
from mediation.errors import ValidationError
from mediation.models import Attachment, Event
from tests.web.conftest import act, case_version, count_events

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def xlsx_bytes() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["姓名", "金额"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def docx_bytes(macro: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("_rels/.rels", "<Relationships/>")
        z.writestr("word/document.xml", "<w:document/>")
        if macro:
            z.writestr("word/vbaProject.bin", b"\x00" * 16)
    return out.getvalue()


@pytest.fixture
def store(app, tmp_path) -> Path:
    """Where the app keeps attachments in this test."""
    root = tmp_path / "attachments"
    app.config["ATTACHMENT_DIR"] = str(root)
    return root


@pytest.fixture
def case(client, make_user, enterprise, file_case, login, read):
    """A tier-2 labour case, the liaison who filed it and the officer who leads it."""
    liaison = make_user(Role.ENTERPRISE_LIAISON, enterprise=enterprise)
    case_id = file_case(liaison)
    officer = make_user(Role.LIAISON_OFFICER)
    login(officer)
    act(client, case_id, "accept", case_version(read, case_id), severity="general")
    return {"id": case_id, "liaison": liaison, "officer": officer}


def upload(client, read, case_id, data: bytes, name: str, description: str = ""):
    return client.post(
        f"/cases/{case_id}/attachments",
        data={"version": str(case_version(read, case_id)), "description": description,
              "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(
    ("data", "name", "mime"),
    [
        (PNG, "现场照片.png", attachments.PNG),
        (PDF, "工资表.pdf", attachments.PDF),
        (xlsx_bytes(), "考勤.xlsx", attachments.XLSX),
        (docx_bytes(), "情况说明.docx", attachments.DOCX),
    ],
)
def test_mediator_attaches_each_accepted_type_and_it_is_an_event(client, case, read, store, data, name, mime):
    case_id = case["id"]
    before = count_events(read, case_id)
    response = upload(client, read, case_id, data, name, description="证据")
    assert response.status_code == 302
    row = read(lambda s: s.scalars(select(Attachment)).one())
    assert (row.filename, row.content_type, row.size) == (name, mime, len(data))
    assert row.sha256 == hashlib.sha256(data).hexdigest() and row.uploaded_by_id == case["officer"].id
    path = attachments.blob_path(store, row.sha256)
    assert path.read_bytes() == data and "static" not in str(path)
    assert count_events(read, case_id) == before + 1
    event = read(lambda s: s.scalars(select(Event).where(Event.case_id == case_id).order_by(Event.seq.desc())).first())
    assert event.trigger == "attach" and event.data["attachment_id"] == row.id and event.data["filename"] == name
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert name in page and "上传证据材料" in page
    with client.get(f"/cases/{case_id}/attachments/{row.id}") as download:
        assert download.status_code == 200 and download.data == data and download.mimetype == mime
        assert download.headers["Content-Disposition"].startswith("attachment;")
        assert "sandbox" in download.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"MZ\x90\x00" + b"\x00" * 100, "证据.pdf"),  # an executable named .pdf
        (b"just text", "note.png"),
        (b"GIF89a" + b"\x00" * 50, "pic.gif"),
        (docx_bytes(macro=True), "宏.docx"),
        (b"", "empty.pdf"),
    ],
)
def test_type_is_checked_by_content_not_by_name_and_nothing_is_saved(client, case, read, store, data, name):
    case_id = case["id"]
    before = count_events(read, case_id)
    response = upload(client, read, case_id, data, name)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "未能上传" in page or "was not attached" in page
    assert count_events(read, case_id) == before
    assert read(lambda s: s.scalars(select(Attachment)).all()) == []


def test_a_png_named_pdf_is_kept_as_png_and_downloads_with_the_right_extension(client, case, read, store):
    upload(client, read, case["id"], PNG, "工资表.pdf")
    row = read(lambda s: s.scalars(select(Attachment)).one())
    assert row.content_type == attachments.PNG
    with client.get(f"/cases/{case['id']}/attachments/{row.id}") as response:
        assert response.mimetype == "image/png"
        assert "pdf.png" in response.headers["Content-Disposition"]


def test_file_over_the_limit_gets_a_friendly_413_and_nothing_is_saved(client, case, read, store, app):
    app.config["UPLOAD_MAX_BYTES"] = 1024
    case_id = case["id"]
    before = count_events(read, case_id)
    response = upload(client, read, case_id, PDF + b"0" * (300 * 1024), "大文件.pdf")
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "MB" in page and "Traceback" not in page
    assert count_events(read, case_id) == before


def test_the_domain_refuses_files_over_20_mb(uow, case, store):
    with uow, pytest.raises(ValidationError) as info:
        attachments.attach_file(uow, case["id"], case["officer"].id, "big.pdf", PDF + b"0" * attachments.MAX_BYTES,
                                store)
    assert "file" in info.value.errors


def test_download_is_only_for_users_who_may_see_the_case(
    client, case, read, store, login, make_user, other_enterprise
):
    upload(client, read, case["id"], PDF, "工资表.pdf")
    row = read(lambda s: s.scalars(select(Attachment)).one())
    url = f"/cases/{case['id']}/attachments/{row.id}"
    login(case["liaison"])
    with client.get(url) as response:
        assert response.status_code == 200
    login(make_user(Role.ENTERPRISE_LIAISON, enterprise=other_enterprise))
    assert client.get(url).status_code == 404
    login(make_user(Role.ADMIN))
    assert client.get(url).status_code in (302, 403, 404)
    client.post("/logout")
    assert client.get(url).status_code == 302  # to the log-in page
    # and the file is not under the static folder
    assert client.get(f"/static/{row.sha256}").status_code == 404


def test_attachment_of_another_case_is_not_found(client, case, read, store, file_case, login):
    upload(client, read, case["id"], PDF, "a.pdf")
    row = read(lambda s: s.scalars(select(Attachment)).one())
    other = file_case(case["liaison"])
    login(case["officer"])
    assert client.get(f"/cases/{other}/attachments/{row.id}").status_code == 404


def test_the_liaison_may_attach_evidence_and_add_notes_on_the_case_page(client, case, read, store, login):
    login(case["liaison"])
    page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert f"/cases/{case['id']}/attachments" in page and 'enctype="multipart/form-data"' in page
    assert "/actions/add_note#" in page
    assert upload(client, read, case["id"], PNG, "photo.png").status_code == 302
    response = act(client, case["id"], "add_note", case_version(read, case["id"]), note="企业已提供工资表原件")
    assert response.status_code == 302
    assert "企业已提供工资表原件" in client.get(f"/cases/{case['id']}").get_data(as_text=True)


def test_the_same_content_is_stored_once(client, case, read, store):
    upload(client, read, case["id"], PNG, "a.png")
    upload(client, read, case["id"], PNG, "b.png")
    rows = read(lambda s: s.scalars(select(Attachment)).all())
    assert len(rows) == 2 and rows[0].sha256 == rows[1].sha256
    assert len([p for p in store.rglob("*") if p.is_file()]) == 1


def test_clean_filename_drops_paths_and_control_characters():
    assert attachments.clean_filename("C:\\Users\\x\\工资表.pdf") == "工资表.pdf"
    assert attachments.clean_filename("../../etc/passwd") == "passwd"
    assert attachments.clean_filename("a\x00b\n.pdf") == "a_b_.pdf"
    assert attachments.clean_filename("") == "attachment"
    assert attachments.download_name("x.exe", attachments.PNG) == "x.exe.png"
