"""Public document verification (文书核验, issue 5 point 4; DESIGN.md §4): ``/verify``, no login.

Anyone holding a document types the code printed on it, opens the QR code of an
agreement (``<base>/verify/<code>``), or uploads the PDF received. The answer says
genuine, altered or unknown, and whether a newer version replaced the document; it
names the document (kind, case number, version, date), never a party or an amount.
The documents are issued through the services (``tests.integration.journeys``); runs
on SQLite and on PostgreSQL (``-m db``).
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.annotations import FreeText
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

from mediation import archive, tasks
from mediation.archive import document_pdf
from mediation.documents import qr_svg, render_html, render_pdf, verification_url
from mediation.models import Attachment, Document
from mediation.snapshots import from_stored
from mediation.verification import MAX_PAGES, pdf_digest
from tests.integration.journeys import TERMS, Station, open_station
from web.uploads import FORM_OVERHEAD

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Asia/Shanghai
#: The redraft: the first instalment raised from 5000 to 6000 yuan.
TERMS_V2 = [{**TERMS[0], "text": "支付拖欠工资6000元", "amount": "6000"}, TERMS[1]]
#: What must never appear in an answer: the parties of ``journeys.FILINGS["labour"]``, an ID number, the terms.
PERSONAL = ("李某", "某阀门有限公司", "装配车间工人", "王某", "510824196903150379", "13800000101",
            "支付拖欠工资", "5000", "4966", "9966")


@dataclass(frozen=True)
class Issued:
    """A labour case whose agreement was drafted twice: version 1 (superseded) and version 2, with their PDFs."""

    case_number: str
    v1: Document
    v2: Document
    pdf_v1: bytes
    pdf_v2: bytes


def documents_of(station: Station, case_id: int, kind: str) -> list[Document]:
    """The case's documents of ``kind`` by version, their case loaded (usable once the session is closed)."""
    def load(s: Any) -> list[Document]:
        docs = list(s.scalars(select(Document).where(Document.case_id == case_id, Document.kind == kind)
                              .order_by(Document.version)))
        for doc in docs:
            _ = doc.case.number
        return docs

    found: list[Document] = station.read(load)
    return found


@pytest.fixture
def issued(app: Flask, uow: Any, session: Any, make_user: Any, organisation: Any) -> Issued:
    station: Station = open_station(uow, session, make_user, organisation)
    case_id = station.file("labour", now=T0).case_id
    station.fire(case_id, "accept", {"severity": "general"}, now=T0 + timedelta(days=1))
    station.fire(case_id, "draft_agreement", {"terms": TERMS}, now=T0 + timedelta(days=3))
    station.fire(case_id, "draft_agreement", {"terms": TERMS_V2}, now=T0 + timedelta(days=5))

    v1, v2 = documents_of(station, case_id, "agreement")
    cache = app.config["DOCUMENT_CACHE_DIR"]
    return Issued(v1.case.number, v1, v2, document_pdf(v1, cache), document_pdf(v2, cache))


def upload(client: FlaskClient, data: bytes | None, filename: str = "协议书.pdf", **form: str) -> TestResponse:
    """Post ``data`` as the file field. The body is built in memory: the test client would spool a body over
    500 KB to a temporary file it never closes."""
    fields = MultiDict(form)
    if data is not None:
        fields.add("pdf", FileStorage(io.BytesIO(data), filename, content_type="application/pdf"))
    boundary, body = encode_multipart(fields)
    return client.post("/verify/upload", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def check_code(client: FlaskClient, code: str) -> TestResponse:
    return client.post("/verify", data={"code": code})


def answer_of(page: str) -> str:
    """The answer section's text (tags dropped, whitespace squeezed), '' when the page shows none."""
    found = re.search(r'<section class="panel verify-result".*?</section>', page, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0))) if found else ""


def record_of(page: str) -> dict[str, str]:
    """The answer's table of the document: column heading → cell text; {} when the answer names none."""
    table = re.search(r'<table class="verify-record">.*?</table>', page, re.S)
    if table is None:
        return {}
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", table.group(0))
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", table.group(0), re.S)]
    return dict(zip(heads, cells, strict=True))


def error_of(page: str, field: str) -> str:
    found = re.search(rf'id="{re.escape(field)}-error"[^>]*>([^<]*)<', page)
    return found.group(1) if found else ""


def assert_nothing_personal(page: str) -> None:
    for text in PERSONAL:
        assert text not in page, text


def fullwidth(text: str) -> str:
    """``text`` typed with a Chinese input method: letters, digits and dashes in their full-width forms."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_a_genuine_pdf_is_named_without_anything_personal(client: FlaskClient, issued: Issued) -> None:
    response = upload(client, issued.pdf_v2)
    page = response.get_data(as_text=True)
    answer = answer_of(page)
    assert response.status_code == 200
    assert "文书真实" in answer and "逐字一致" in answer and "已被取代" not in answer
    assert record_of(page) == {"文书": "调解协议书", "案件编号": issued.case_number, "版本": "2",
                               "出具日期": "2026-03-07", "校验码": issued.v2.verification_code}  # day 5, Beijing
    assert_nothing_personal(page)


def test_an_earlier_version_is_genuine_but_superseded(client: FlaskClient, issued: Issued) -> None:
    page = upload(client, issued.pdf_v1).get_data(as_text=True)
    answer = answer_of(page)
    assert "文书真实" in answer and "此版本已被取代" in answer and "第 2 版" in answer and "2026-03-07" in answer
    record = record_of(page)
    assert (record["版本"], record["出具日期"], record["校验码"]) == ("1", "2026-03-05", issued.v1.verification_code)


def test_a_pdf_whose_text_was_changed_is_altered(client: FlaskClient, issued: Issued) -> None:
    """A forger's re-render of a changed agreement under the original's digest and code: same code, other text."""
    context = from_stored(issued.v2.context)
    context["agreement"]["terms"][0]["amount"] = "60000"
    forged = render_pdf("agreement", context, digest=issued.v2.digest)
    response = upload(client, forged)
    page = response.get_data(as_text=True)
    answer = answer_of(page)
    assert response.status_code == 200
    assert "文书已被改动" in answer and "文书真实" not in answer
    assert issued.v2.verification_code in answer and issued.case_number in answer
    assert "60000" not in page and "60,000" not in page
    assert_nothing_personal(page)


# --- attacks that leave the words alone: a page that shows something else -----------------------

#: What a forger draws at the end of page 1: a white box over the clauses, then a line where the amount was.
OVERDRAWING = b"\nq 1 1 1 rg 0 300 595 250 re f 0 0 0 RG 2 w 100 420 m 480 420 l S Q\n"
#: The note a forger adds on page 1 as a FreeText annotation: shown by every viewer, no part of the text.
FORGED_NOTE = "金额改为 人民币 999,999 元"


def written(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def overdrawn(pdf: bytes) -> bytes:
    """``pdf`` with ``OVERDRAWING`` appended to page 1's content stream; metadata, text and all else kept."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    page = writer.pages[0]
    contents = page.get_contents()
    assert contents is not None
    stream = DecodedStreamObject()
    stream.set_data(contents.get_data() + OVERDRAWING)
    page[NameObject("/Contents")] = writer._add_object(stream.flate_encode())
    return written(writer)


def annotated(pdf: bytes) -> bytes:
    """``pdf`` with a FreeText annotation saying ``FORGED_NOTE`` on page 1."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.add_annotation(0, FreeText(text=FORGED_NOTE, rect=(60, 300, 420, 340), font_size="14pt"))
    return written(writer)


def resaved(pdf: bytes) -> bytes:
    """``pdf`` re-saved by pypdf page by page (every object renumbered and rewritten, the metadata dropped)."""
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    return written(writer)


def encrypted(pdf: bytes) -> bytes:
    """``pdf`` encrypted with an empty user password (it opens without one in any viewer)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")  # AES needs the cryptography package
    return written(writer)


@pytest.mark.parametrize("attack", [overdrawn, annotated], ids=["white-box-and-drawing", "freetext-annotation"])
def test_a_page_drawn_over_or_annotated_is_altered_although_its_words_match(client: FlaskClient, issued: Issued,
                                                                           attack: Any) -> None:
    forged = attack(issued.pdf_v2)
    assert pdf_digest(forged) == issued.v2.digest  # the forger kept the digest and every word of the text
    assert [p.extract_text() for p in PdfReader(io.BytesIO(forged)).pages] == [
        p.extract_text() for p in PdfReader(io.BytesIO(issued.pdf_v2)).pages]
    response = upload(client, forged)
    page = response.get_data(as_text=True)
    answer = answer_of(page)
    assert response.status_code == 200 and "文书已被改动" in answer and "文书真实" not in answer
    assert "第 1 页文字虽相同，但页面显示的内容与存档不符" in answer and issued.case_number in answer
    assert "999,999" not in page
    assert "文书已被改动" in answer_of(upload(client, resaved(forged)).get_data(as_text=True))  # metadata dropped


def test_a_pdf_re_saved_page_by_page_is_still_genuine(client: FlaskClient, issued: Issued) -> None:
    """Renumbered objects, recompressed streams, no metadata (the code on the page finds the document)."""
    copy = resaved(issued.pdf_v2)
    assert copy != issued.pdf_v2 and pdf_digest(copy) is None
    answer = answer_of(upload(client, copy).get_data(as_text=True))
    assert "文书真实" in answer and issued.v2.verification_code in answer


def test_a_copy_encrypted_with_an_empty_password_is_refused_as_before(client: FlaskClient, issued: Issued) -> None:
    """An encrypted copy was never compared (it is refused as protected); the fingerprint changes nothing there."""
    response = upload(client, encrypted(issued.pdf_v2))
    assert response.status_code == 400 and "无法读取" in error_of(response.get_data(as_text=True), "pdf")


def test_pypdf_warnings_about_a_damaged_upload_are_not_logged(client: FlaskClient, issued: Issued,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="mediation")
    upload(client, issued.pdf_v2[: len(issued.pdf_v2) // 2])
    assert not [r for r in caplog.records if r.name.startswith("pypdf") and r.levelno >= logging.WARNING]


def test_a_pdf_no_document_was_issued_as_is_unknown(client: FlaskClient, issued: Issued) -> None:
    context = from_stored(issued.v2.context)
    context["case"]["number"] = "（2026）温溪警调字第9999号"
    never_issued = render_pdf("agreement", context)
    answer = answer_of(upload(client, never_issued).get_data(as_text=True))
    assert "无法识别的文书" in answer and issued.case_number not in answer and "9999" not in answer


def test_the_code_alone_names_the_document_it_was_issued_for(client: FlaskClient, issued: Issued) -> None:
    response = check_code(client, issued.v2.verification_code)
    page = response.get_data(as_text=True)
    answer = answer_of(page)
    assert response.status_code == 200
    assert "该校验码的文书已出具" in answer and "不能证明" in answer  # a code does not prove the words
    assert "调解协议书" in answer and issued.case_number in answer and "2026-03-07" in answer
    assert_nothing_personal(page)
    superseded = answer_of(check_code(client, issued.v1.verification_code).get_data(as_text=True))
    assert "此版本已被取代" in superseded


@pytest.mark.parametrize("typed", [
    lambda c: c.lower(),
    lambda c: c.replace("-", ""),
    lambda c: " ".join(c.split("-")).lower(),
    lambda c: f"  {c[:9]} - {c[10:]}  ",
    fullwidth,
    lambda c: fullwidth(c.lower()).replace("－", "　"),
], ids=["lower", "no-dashes", "spaces", "stray-spaces", "full-width", "full-width-lower-ideographic-space"])
def test_a_code_is_found_however_it_is_typed(client: FlaskClient, issued: Issued, typed: Any) -> None:
    code = issued.v2.verification_code
    response = check_code(client, typed(code))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and issued.case_number in answer_of(page)
    assert f'value="{code}"' in page  # the field shows the code as printed


def test_an_unknown_code_says_so(client: FlaskClient, issued: Issued) -> None:
    response = check_code(client, "0000-0000-0000-0000")
    answer = answer_of(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "校验码不存在" in answer and "0000-0000-0000-0000" in answer and issued.case_number not in answer


@pytest.mark.parametrize(("typed", "message"), [
    ("", "请输入文书上印的校验码"),
    ("   ", "请输入文书上印的校验码"),
    ("1A2B-3C4D", "16位字母"),
    ("GHIJ-KLMN-OPQR-STUV", "16位字母"),
    ("1A2B-3C4D-5E6F-7A8B-9C0D", "16位字母"),
    ("x" * 5000, "16位字母"),
    ("<script>alert(1)</script>", "16位字母"),
])
def test_a_malformed_code_is_a_field_error(client: FlaskClient, organisation: Any, typed: str, message: str) -> None:
    response = check_code(client, typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in error_of(page, "code")
    assert answer_of(page) == "" and "<script>alert(1)" not in page


@pytest.mark.parametrize("wrap", [
    lambda c: c + " " * 150,
    lambda c: "\u200b" + c[:4] + "\u200c" + c[4:] + "\u2060\ufeff",
    lambda c: "\ufeff  " + c.lower() + "\u200d" * 120 + "\n",
], ids=["150-trailing-spaces", "zero-width-inside", "bom-and-120-zero-width-joiners"])
def test_invisible_characters_and_surrounding_spaces_are_dropped_before_the_length_check(
        client: FlaskClient, issued: Issued, wrap: Any) -> None:
    code = issued.v2.verification_code
    response = check_code(client, wrap(code))
    assert response.status_code == 200 and issued.case_number in answer_of(response.get_data(as_text=True))
    assert client.get(f"/verify/{code}%E2%80%8B").status_code == 200  # a QR link pasted with a zero-width space


def test_zero_width_characters_alone_are_an_empty_code(client: FlaskClient, organisation: Any) -> None:
    response = check_code(client, "\u200b\ufeff  ")
    assert response.status_code == 400 and "请输入文书上印的校验码" in error_of(response.get_data(as_text=True), "code")


def test_the_qr_code_opens_the_page_with_the_code_filled_in_and_the_answer(client: FlaskClient,
                                                                          issued: Issued) -> None:
    code = issued.v2.verification_code
    url = verification_url(code)
    # The agreement's QR code is the one of this URL (what mediation.documents prints).
    assert str(qr_svg(url)) in render_html("agreement", from_stored(issued.v2.context), digest=issued.v2.digest)
    path = urlsplit(url).path
    assert path == f"/verify/{code}"
    response = client.get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and f'value="{code}"' in page
    assert "该校验码的文书已出具" in answer_of(page) and issued.case_number in answer_of(page)
    assert_nothing_personal(page)
    assert client.get(path.lower()).status_code == 200
    bad = client.get("/verify/not-a-code")
    assert bad.status_code == 400 and "16位字母" in error_of(bad.get_data(as_text=True), "code")
    unknown = client.get("/verify/0000-0000-0000-0000")
    assert unknown.status_code == 200 and "校验码不存在" in answer_of(unknown.get_data(as_text=True))


def test_the_blank_page_and_the_links_to_it(client: FlaskClient, organisation: Any) -> None:
    response = client.get("/verify")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "文书核验" in page and answer_of(page) == ""
    assert 'action="/verify"' in page and 'action="/verify/upload"' in page and 'enctype="multipart/form-data"' in page
    for public_page in ("/public/status", "/public/file"):
        assert 'href="/verify"' in client.get(public_page).get_data(as_text=True), public_page
    assert client.get("/verify/upload").headers["Location"] == "/verify"


@pytest.mark.parametrize(("data", "filename", "status", "message"), [
    (None, None, 400, "请选择文书的PDF文件"),
    (b"", "空.pdf", 400, "文件是空的"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "照片.pdf", 400, "不是PDF文件"),
    (b"<html>%PDF-1.7</html>", "网页.pdf", 400, "不是PDF文件"),
    (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage", "坏.pdf", 400, "无法读取"),
])
def test_an_upload_that_cannot_be_checked_is_a_field_error(client: FlaskClient, organisation: Any,
                                                           data: bytes | None, filename: str | None,
                                                           status: int, message: str) -> None:
    response = upload(client, data, filename or "")
    page = response.get_data(as_text=True)
    assert response.status_code == status and message in error_of(page, "pdf"), error_of(page, "pdf")
    assert answer_of(page) == "" and "Traceback" not in page


def test_a_damaged_copy_of_a_real_pdf_is_refused_or_answered_never_a_500(client: FlaskClient,
                                                                          issued: Issued) -> None:
    half = issued.pdf_v2[: len(issued.pdf_v2) // 2]
    response = upload(client, half)
    assert response.status_code == 400 and "无法读取" in error_of(response.get_data(as_text=True), "pdf")
    flipped = bytearray(issued.pdf_v2)
    for i in range(len(flipped) // 3, len(flipped), 97):
        flipped[i] ^= 0x5A
    response = upload(client, bytes(flipped))
    assert response.status_code in (200, 400) and "文书真实" not in answer_of(response.get_data(as_text=True))


def test_a_file_over_the_limit_gets_a_field_error_and_413(app: Flask, client: FlaskClient, issued: Issued) -> None:
    app.config["UPLOAD_MAX_BYTES"] = 1024 * 1024  # 1 MB here; 20 MB in production
    over = issued.pdf_v2 + b"\0" * (1024 * 1024)  # over the file limit, within the request's room for the form
    response = upload(client, over)
    page = response.get_data(as_text=True)
    assert response.status_code == 413 and "文件超过 1 MB" in error_of(page, "pdf")
    huge = b"%PDF-1.7\n" + b"\0" * (1024 * 1024 + FORM_OVERHEAD)  # over the request limit: refused before the view
    response = upload(client, huge)
    page = response.get_data(as_text=True)
    assert response.status_code == 413 and "文件超过 1 MB" in error_of(page, "pdf") and "文书核验" in page


def test_a_code_form_too_large_is_answered_on_the_code_field(app: Flask, client: FlaskClient,
                                                             organisation: Any) -> None:
    """3 MB in the code field (over the 2 MB request limit; no file sent): nothing about a PDF."""
    response = check_code(client, "A" * 3 * 1024 * 1024)
    page = response.get_data(as_text=True)
    assert response.status_code == 413 and "校验码只有16位字母和数字" in error_of(page, "code")
    assert error_of(page, "pdf") == "" and "PDF" not in error_of(page, "code") and "文书核验" in page


def test_an_upload_too_large_for_another_field_does_not_blame_the_pdf(app: Flask, client: FlaskClient,
                                                                       issued: Issued) -> None:
    response = upload(client, issued.pdf_v2, extra="x" * 2 * 1024 * 1024)
    page = response.get_data(as_text=True)
    assert response.status_code == 413 and "超过服务器允许的大小" in error_of(page, "pdf")
    assert "MB" not in error_of(page, "pdf") and answer_of(page) == ""
    app.config["UPLOAD_MAX_BYTES"] = 1024 * 1024
    response = upload(client, None, extra="x" * (1024 * 1024 + FORM_OVERHEAD))  # over the request limit, no file
    page = response.get_data(as_text=True)
    assert response.status_code == 413 and "超过服务器允许的大小" in error_of(page, "pdf")


def test_nothing_uploaded_is_kept(app: Flask, client: FlaskClient, issued: Issued, read: Any, tmp_path: Path) -> None:
    context = from_stored(issued.v2.context)
    context["agreement"]["terms"][0]["amount"] = "70000"
    forged = render_pdf("agreement", context, digest=issued.v2.digest)
    count = lambda s: (s.scalar(select(func.count()).select_from(Document)),  # noqa: E731
                       s.scalar(select(func.count()).select_from(Attachment)))
    before = read(count)
    assert "文书已被改动" in answer_of(upload(client, forged).get_data(as_text=True))
    assert read(count) == before
    stored = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert stored and all(p.read_bytes() != forged for p in stored)


def test_code_lookups_and_uploads_share_one_rate_limit(app: Flask, client: FlaskClient, issued: Issued) -> None:
    app.config["PUBLIC_VERIFY_LIMIT"] = "4 per hour"
    assert check_code(client, issued.v2.verification_code).status_code == 200
    assert check_code(client, "nonsense").status_code == 400  # a malformed code counts too
    assert client.get(f"/verify/{issued.v1.verification_code}").status_code == 200
    assert upload(client, issued.pdf_v2).status_code == 200
    for refused in (check_code(client, issued.v2.verification_code), upload(client, issued.pdf_v2),
                    client.get(f"/verify/{issued.v2.verification_code}")):
        page = refused.get_data(as_text=True)
        assert refused.status_code == 429 and "操作过于频繁" in page and "Traceback" not in page
        assert issued.case_number not in page
    assert client.get("/verify").status_code == 200  # reading the form is not limited
    other_address = client.post("/verify", data={"code": issued.v2.verification_code},
                                environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other_address.status_code == 200


def test_the_page_in_english(client: FlaskClient, issued: Issued) -> None:
    client.post("/locale", data={"locale": "en", "next": "/verify"})
    page = client.get("/verify").get_data(as_text=True)
    assert '<html lang="en">' in page and "Verify a document" in page and "How verification works" in page
    answer = answer_of(upload(client, issued.pdf_v1).get_data(as_text=True))
    assert "Genuine" in answer and "Mediation agreement" in answer and "This version has been superseded." in answer
    answer = answer_of(client.get(f"/verify/{issued.v2.verification_code}").get_data(as_text=True))
    assert "This code was issued" in answer and issued.case_number in answer
    response = check_code(client, "12")
    assert "16 letters (A–F) and digits" in error_of(response.get_data(as_text=True), "code")
    response = upload(client, b"not a pdf", "x.pdf")
    assert "This file is not a PDF" in error_of(response.get_data(as_text=True), "pdf")


def test_the_forms_need_the_csrf_token(app: Flask, client: FlaskClient, issued: Issued) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    refused = check_code(client, issued.v2.verification_code)
    assert refused.status_code == 400 and issued.case_number not in refused.get_data(as_text=True)
    refused = upload(client, issued.pdf_v2)
    assert refused.status_code == 400 and "文书真实" not in refused.get_data(as_text=True)
    page = client.get("/verify").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/verify", data={"code": issued.v2.verification_code, "csrf_token": token})
    assert response.status_code == 200 and issued.case_number in answer_of(response.get_data(as_text=True))
    response = upload(client, issued.pdf_v2, csrf_token=token)
    assert response.status_code == 200 and "文书真实" in answer_of(response.get_data(as_text=True))


# --- uploads that must not cost the server much ------------------------------------------------

def junk_pdf(pages: int, *, base: bytes | None = None, keywords: str | None = None, text_kb: int = 64) -> bytes:
    """``pages`` pages (after those of ``base``) sharing one content stream of about ``text_kb`` KB of text
    that pypdf must parse to extract (the reviewer's attack: a small file, slow pages); ``keywords`` set
    as the document information's keywords (a digest, to be taken for an issued document)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(base))) if base is not None else PdfWriter()
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica")}))
    stream = DecodedStreamObject()
    stream.set_data(b"BT /F1 12 Tf 10 10 Td " + b"(Not a document) Tj 0 1 Td " * (text_kb * 1024 // 28) + b"ET")
    contents = writer._add_object(stream.flate_encode())
    for _ in range(pages):
        page = writer.add_blank_page(595, 842)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
        page[NameObject("/Contents")] = contents
    if keywords is not None:
        writer.add_metadata({"/Keywords": keywords})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def extractions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every page whose text pypdf extracts from now on (the upload's or the issued PDF's): the costly step."""
    calls: list[int] = []
    extract = PageObject.extract_text

    def counted(page: PageObject, *args: Any, **kwargs: Any) -> str:
        calls.append(page.page_number if page.page_number is not None else -1)
        return extract(page, *args, **kwargs)

    monkeypatch.setattr(PageObject, "extract_text", counted)
    return calls


def test_a_pdf_of_many_junk_pages_is_answered_from_its_first_and_last_page(
        client: FlaskClient, issued: Issued, extractions: list[int]) -> None:
    """300 slow pages without a code (the most any document has): unknown, after reading two pages."""
    response = upload(client, junk_pdf(MAX_PAGES))
    assert response.status_code == 200 and "无法识别的文书" in answer_of(response.get_data(as_text=True))
    assert sorted(extractions) == [0, MAX_PAGES - 1]


@pytest.mark.parametrize("pages", [MAX_PAGES + 1, 5000])
def test_a_pdf_of_more_pages_than_any_document_without_a_code_is_a_field_error(
        client: FlaskClient, issued: Issued, extractions: list[int], pages: int) -> None:
    response = upload(client, junk_pdf(pages))
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and answer_of(page) == ""
    assert "超过 300 页" in error_of(page, "pdf") and "没有本系统所出具文书的校验码" in error_of(page, "pdf")
    assert extractions == []  # past the cap no page is read: the code is looked for in the metadata only


def test_pages_added_to_a_genuine_pdf_make_it_altered_without_reading_any(
        client: FlaskClient, issued: Issued, extractions: list[int]) -> None:
    """The issued agreement and 250 slow pages, its digest kept: the page counts differ, so no text is read."""
    issued_pages = len(PdfReader(io.BytesIO(issued.pdf_v2)).pages)
    padded = junk_pdf(250, base=issued.pdf_v2)
    assert pdf_digest(padded) == issued.v2.digest
    response = upload(client, padded)
    answer = answer_of(response.get_data(as_text=True))
    assert response.status_code == 200 and "文书已被改动" in answer and "文书真实" not in answer
    assert f"该PDF共 {issued_pages + 250} 页" in answer and f"共 {issued_pages} 页" in answer
    assert issued.case_number in answer
    assert extractions == []
    over = upload(client, junk_pdf(MAX_PAGES, base=issued.pdf_v2))  # past the cap: not even counted to the end
    answer = answer_of(over.get_data(as_text=True))
    assert over.status_code == 200 and "页数多于其校验码对应的已出具文书" in answer and issued.case_number in answer
    assert extractions == []


def test_a_page_far_longer_than_the_issued_one_is_not_read(client: FlaskClient, issued: Issued,
                                                          extractions: list[int]) -> None:
    """As many pages as the agreement, under its digest, each with a 1 MB content stream: altered after reading
    the issued first page only (the uploaded one is over four times its length)."""
    issued_pages = len(PdfReader(io.BytesIO(issued.pdf_v2)).pages)
    heavy = junk_pdf(issued_pages, keywords=f"mediation-digest:{issued.v2.digest}", text_kb=1024)
    response = upload(client, heavy)
    answer = answer_of(response.get_data(as_text=True))
    assert response.status_code == 200 and "文字与存档不符" in answer and issued.case_number in answer
    assert extractions == [0]  # the issued PDF's first page; the upload's was never parsed


def test_a_genuine_pdf_is_read_once(client: FlaskClient, issued: Issued, extractions: list[int]) -> None:
    """Each page of the upload and of the issued PDF is read once: no second pass over the upload."""
    pages = len(PdfReader(io.BytesIO(issued.pdf_v2)).pages)
    assert "文书真实" in answer_of(upload(client, issued.pdf_v2).get_data(as_text=True))
    assert sorted(extractions) == sorted([*range(pages), *range(pages)])


@dataclass(frozen=True)
class Dossier:
    """A resolved case's dossier (卷宗, a long document), not rendered, and a PDF that claims to be it."""

    document: Document
    case_number: str
    claimed: bytes


@pytest.fixture
def dossier(app: Flask, uow: Any, session: Any, make_user: Any, organisation: Any) -> Dossier:
    station: Station = open_station(uow, session, make_user, organisation)
    [doc] = documents_of(station, station.drive_to("labour", "resolved", now=T0), "dossier")
    assert tasks.renders_in_background(doc.kind)
    assert not archive.is_cached(doc, app.config["DOCUMENT_CACHE_DIR"])
    queue = app.extensions["task_queue"]
    queue.huey.delete(tasks.status_key(doc.kind, doc.digest))  # as if its render had never been asked for
    queue.huey.flush()
    return Dossier(doc, doc.case.number, junk_pdf(3, keywords=f"mediation-digest:{doc.digest}", text_kb=1))


def test_an_uncached_dossier_is_not_rendered_in_the_request_but_queued(
        app: Flask, client: FlaskClient, dossier: Dossier, monkeypatch: pytest.MonkeyPatch,
        extractions: list[int]) -> None:
    def no_render(*args: Any, **kwargs: Any) -> bytes:
        raise AssertionError("a dossier was rendered inside a public request")

    monkeypatch.setattr(archive, "render_pdf", no_render)
    response = upload(client, dossier.claimed)
    page = response.get_data(as_text=True)
    answer = answer_of(page)
    assert response.status_code == 200
    assert "暂时无法比对您的PDF" in answer and "请过几分钟后重新上传" in answer
    assert "文书真实" not in answer and "文书已被改动" not in answer
    assert record_of(page)["文书"] == "卷宗" and record_of(page)["案件编号"] == dossier.case_number
    assert extractions == []
    queue = app.extensions["task_queue"]
    assert queue.render_status(dossier.document).state == tasks.QUEUED and queue.check() == 1
    upload(client, dossier.claimed)  # asking again queues nothing more
    assert queue.check() == 1


def test_a_cached_dossier_is_compared(app: Flask, client: FlaskClient, dossier: Dossier,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Once its PDF is in the cache (here: the claimed PDF stands for it), a dossier is compared as any document."""
    path = archive.cache_path(dossier.document, app.config["DOCUMENT_CACHE_DIR"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(dossier.claimed)
    monkeypatch.setattr(archive, "render_pdf", lambda *a, **k: pytest.fail("rendered although cached"))
    answer = answer_of(upload(client, dossier.claimed).get_data(as_text=True))
    assert "文书真实" in answer and dossier.case_number in answer
    answer = answer_of(upload(client, junk_pdf(4, keywords=f"mediation-digest:{dossier.document.digest}",
                                               text_kb=1)).get_data(as_text=True))
    assert "该PDF共 4 页，而其校验码对应的已出具文书共 3 页" in answer
