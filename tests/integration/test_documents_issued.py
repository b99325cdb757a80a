"""Documents issued through the services on real cases, and checked (DOMAIN R12, R20, R24, R26-R33; DESIGN §4).

Every step goes through ``services.fire``; the documents are the ``Document`` rows the
workflow definitions name, rendered from their stored context (``archive.document_pdf``)
and checked with ``verification.verify_pdf``. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ContentStream, DictionaryObject
from sqlalchemy import select

from mediation.archive import document_pdf
from mediation.cli_documents import documents as documents_cli
from mediation.documents import (
    DOSSIER_ORDER,
    content_digest,
    document_title,
    render_pdf,
    verification_code,
)
from mediation.errors import DefinitionError
from mediation.models import Case, Document
from mediation.snapshots import from_stored
from mediation.verification import MAX_PDF_BYTES, document_for_code, pdf_digest, verify_pdf
from mediation.workflow import WORKFLOWS_DIR, parse_definition
from tests.web.test_public_verify import annotated, encrypted, overdrawn, resaved

from .journeys import DATA, Station, open_station

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Asia/Shanghai

INJURY_FILING: dict[str, Any] = {
    "category": "work_injury",
    "filed_via": "police_referral",
    "facts": "冲压工叶某操作冲床时左手被压伤住院，企业垫付了医疗费，家属要求一次性赔偿",
    "claims": "一次性赔偿30万元",
    "amount_claimed": "300000",
    "parties": [
        {"role": "applicant", "name": "叶某", "phone": "13800002601", "id_number": "520324198807220553",
         "gender": "M", "ethnicity": "汉族", "occupation": "冲压工", "address": "贵州省遵义市正安县"},
        {"role": "respondent", "kind": "organisation", "name": "青田县温溪镇某阀门制造有限公司",
         "representative": "郑某某", "phone": "13800002602", "address": "浙江省丽水市青田县温溪镇"},
    ],
}
TERMS_V1: list[dict[str, Any]] = [
    {"obligor": "r1", "obligee": "a1", "text": "公司支付一次性伤残就业补助金及停工留薪期工资差额",
     "amount": "80000", "due_on": "2026-03-20"},
    {"obligor": "r1", "obligee": "a1", "text": "公司协助申领工伤保险基金支付的待遇", "amount": None,
     "due_on": "2026-04-20"},
]
TERMS_V2: list[dict[str, Any]] = [{**TERMS_V1[0], "amount": "86000"}, TERMS_V1[1]]


@pytest.fixture
def station(uow: Any, session: Any, make_user: Any, organisation: Any) -> Station:
    return open_station(uow, session, make_user, organisation)


def at(days: int) -> datetime:
    return T0 + timedelta(days=days)


def issued(station: Station, case_id: int) -> list[Document]:
    """The case's documents in issue order, detached with their case loaded."""
    def load(s: Any) -> list[Document]:
        docs = list(s.scalars(select(Document).where(Document.case_id == case_id).order_by(Document.id)))
        for d in docs:
            _ = d.case.number
        return docs

    result: list[Document] = station.read(load)
    return result


def text_of(pdf: bytes) -> str:
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


def injury_case(station: Station) -> int:
    """A work-injury case carried from filing to resolution, with every kind of record on the way."""
    case_id = station.file("labour", now=at(0), **INJURY_FILING).case_id
    steps: list[tuple[str, dict[str, Any], int]] = [
        ("accept", {"severity": "general"}, 0),
        ("record_investigation", {"note": "调取考勤记录和医院诊断证明，核实受伤经过", "place": "青田县人民医院",
                                  "person": "主治医师王某", "participants": ["a1", "镇劳动保障所"]}, 1),
        ("record_visit", {"note": "上门走访叶某家属，了解诉求"}, 2),
        ("record_session", {"mode": "joint", "participants": ["a1", "r1", "镇综治中心"], "place": "温溪派出所调解室",
                            "minutes": "双方陈述意见，调解员释法说理", "rights_explained": True,
                            "verification": "核实受伤经过与医疗费单据", "result": "双方同意按工伤保险待遇标准协商"}, 3),
        ("draft_agreement", {"terms": TERMS_V1}, 4),
        ("draft_agreement", {"terms": TERMS_V2}, 5),
        ("sign", {}, 5),
        ("report_breach", {"term": 1, "note": "公司称资金紧张，未按期支付"}, 20),
        ("apply_judicial_confirmation", {}, 21),
        ("record_performance", {"term": 1}, 25),
        ("record_performance", {"term": 2}, 40),
        ("record_follow_up", {"note": "回访确认款项均已到位"}, 47),
    ]
    for trigger, data, day in steps:
        station.fire(case_id, trigger, data, now=at(day))
    assert station.case(case_id).state == "resolved"
    return case_id


@pytest.fixture
def injury(station: Station) -> tuple[Station, int]:
    return station, injury_case(station)


def test_every_document_is_issued_on_its_trigger(injury: tuple[Station, int]) -> None:
    """R26-R33, R12, R20: application, register and rights notice on acceptance; a record per investigation,
    visit and session; an agreement per draft; the payment-order note on a labour breach; the judicial-
    confirmation application; the follow-up record and the dossier at the end."""
    station, case_id = injury
    assert [(d.kind, d.version) for d in issued(station, case_id)] == [
        ("application", 1), ("acceptance_register", 1), ("rights_notice", 1),
        ("investigation_record", 1), ("investigation_record", 2), ("session_record", 1),
        ("agreement", 1), ("agreement", 2), ("payment_order_note", 1),
        ("judicial_confirmation_application", 1), ("follow_up", 1), ("dossier", 1),
    ]


def test_each_document_keeps_its_context_digest_and_a_unique_code(injury: tuple[Station, int]) -> None:
    """DESIGN §4: the digest is the content's (recomputed from the stored context), the code its first 16 hex."""
    station, case_id = injury
    docs = issued(station, case_id)
    for d in docs:
        assert content_digest(from_stored(d.context)) == d.digest, d.kind
        assert d.verification_code == verification_code(d.digest)
        assert d.title == document_title(d.kind)
    assert len({d.digest for d in docs}) == len(docs)
    agreements = [d for d in docs if d.kind == "agreement"]
    assert [d.context["agreement"]["verification_code"] for d in agreements] == [
        d.verification_code for d in agreements
    ]
    # The later documents cite the agreement in force (v2) by its own code.
    v2 = agreements[-1].verification_code
    for d in docs:
        if d.kind in ("payment_order_note", "judicial_confirmation_application", "follow_up"):
            assert d.context["agreement"]["verification_code"] == v2, d.kind


def test_records_hold_the_one_event_that_issued_them(injury: tuple[Station, int]) -> None:
    """R28, R29: each investigation, visit and session has its own record, not the whole history."""
    station, case_id = injury
    docs = issued(station, case_id)
    investigations = [d.context["investigations"] for d in docs if d.kind == "investigation_record"]
    assert [[(i["note"], i["kind_label"]) for i in inv] for inv in investigations] == [
        [("调取考勤记录和医院诊断证明，核实受伤经过", "调查核实")], [("上门走访叶某家属，了解诉求", "上门走访")],
    ]
    (first,), (second,) = investigations
    assert (first["place"], first["person"], first["participants"]) == ("青田县人民医院", "主治医师王某",
                                                                        ["叶某", "镇劳动保障所"])
    assert (second["place"], second["person"], second["participants"]) == (None, None, [])
    dossier = next(d for d in docs if d.kind == "dossier")
    assert [i["participants"] for i in dossier.context["investigations"]] == [["叶某", "镇劳动保障所"], []]
    (session,) = next(d.context["sessions"] for d in docs if d.kind == "session_record")
    assert session["participants"] == ["叶某", "青田县温溪镇某阀门制造有限公司", "镇综治中心"]
    assert session["place"] == "温溪派出所调解室" and session["mode_label"] == "面对面调解"
    assert (session["rights_explained"], session["verification"], session["result"]) == (
        True, "核实受伤经过与医疗费单据", "双方同意按工伤保险待遇标准协商")


def test_the_pdfs_carry_each_forms_fields(injury: tuple[Station, int], tmp_path: Path) -> None:
    """R26-R30, R12, R20 on the issued PDFs: number, parties, copies = parties + 1, 大写 amounts, Chinese dates."""
    station, case_id = injury
    docs = {(d.kind, d.version): d for d in issued(station, case_id)}
    number = docs[("application", 1)].case.number
    expected = {
        ("application", 1): ["调解申请书", "叶某", "自愿申请人民调解", "人民币300,000.00元（大写：叁拾万元整）",
                             "2026年3月2日"],
        ("acceptance_register", 1): ["受理登记表", "公安机关移送", "劳动争议（工伤）", "2026年3月2日"],
        ("rights_notice", 1): ["当事人权利义务告知书", "选择或者接受人民调解员", "十五日内未达成调解协议"],
        ("investigation_record", 1): ["调查记录", "地点青田县人民医院", "参加人叶某、镇劳动保障所",
                                      "被调查人主治医师王某"],
        ("investigation_record", 2): ["调查记录", "上门走访叶某家属", "上门走访", "2026年3月4日9时00分"],
        ("session_record", 1): ["调解记录", "面对面调解", "叶某、青田县温溪镇某阀门制造有限公司、镇综治中心",
                                "核实情况核实受伤经过与医疗费单据", "双方同意按工伤保险待遇标准协商",
                                "告知事项已告知当事人", "2026年3月5日9时00分"],
        ("agreement", 1): ["人民币80,000.00元（大写：捌万元整）", "本协议一式3份"],
        ("agreement", 2): ["人民币86,000.00元（大写：捌万陆仟元整）", "本协议一式3份", "2026年3月20日前履行完毕",
                           "申请人：叶某", "被申请人：青田县温溪镇某阀门制造有限公司"],
        ("payment_order_note", 1): ["申请支付令告知书", "第十六条", "人民币86,000.00元（大写：捌万陆仟元整）",
                                    "截至2026年3月22日"],
        ("judicial_confirmation_application", 1): ["司法确认申请书", "第三十三条", "2026年3月7日",
                                                   f"校验码{docs[('agreement', 2)].verification_code}"],
        ("follow_up", 1): ["回访记录", "回访确认款项均已到位", "协议共2项，已履行2项"],
    }
    for key, phrases in expected.items():
        text = text_of(document_pdf(docs[key], tmp_path))
        for phrase in [*phrases, number, f"校验码{docs[key].verification_code}"]:
            assert phrase in text, (key, phrase)


def test_the_dossier_holds_every_document_in_r33_order(injury: tuple[Station, int], tmp_path: Path) -> None:
    """R33 卷宗: application, register, rights notice, investigations, session, the agreement in force (not its
    draft), the payment-order note, the follow-up, the judicial-confirmation papers; closing note; back cover;
    the contents give each document's first page."""
    station, case_id = injury
    docs = issued(station, case_id)
    dossier = docs[-1]
    listed = [(d["kind"], d["context"].get("agreement", {}).get("version")) for d in dossier.context["documents"]]
    assert [k for k, _ in listed] == [
        "application", "acceptance_register", "rights_notice", "investigation_record", "investigation_record",
        "session_record", "agreement", "payment_order_note", "follow_up", "judicial_confirmation_application",
    ]
    assert [k for k, _ in listed] == sorted((k for k, _ in listed), key=DOSSIER_ORDER.index)
    assert ("agreement", 2) in listed and ("agreement", 1) not in listed
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(document_pdf(dossier, tmp_path))).pages]
    contents = pages[1]
    titles = [document_title(k) for k, _ in listed] + ["结案说明", "备考表"]
    found = re.findall(r"^\d+ (\S+)(?: \d{4}年\d{1,2}月\d{1,2}日)? (\d+)$", contents, re.MULTILINE)
    assert [t for t, _ in found] == titles
    for title, page in found:
        assert re.sub(r"\s+", "", title) in re.sub(r"\s+", "", pages[int(page) - 1]), (title, page)
    assert "达成书面调解协议" in re.sub(r"\s+", "", pages[-2])  # the closing note knows the agreement


def test_both_agreement_versions_stay_and_each_verifies(injury: tuple[Station, int], session: Any,
                                                        tmp_path: Path) -> None:
    """A changed agreement is a new version with its own code; the old one stays retrievable and genuine."""
    station, case_id = injury
    v1, v2 = [d for d in issued(station, case_id) if d.kind == "agreement"]
    assert (v1.version, v2.version) == (1, 2) and v1.verification_code != v2.verification_code
    for doc in (v1, v2):
        result = verify_pdf(session, document_pdf(doc, tmp_path), cache_dir=tmp_path)
        assert (result.status, result.document_id, result.version, result.kind) == ("genuine", doc.id,
                                                                                    doc.version, "agreement")
        assert result.case_number == doc.case.number
        found = document_for_code(session, doc.verification_code.lower())
        assert found is not None and found.id == doc.id


def edit_pdf_text(pdf: bytes, old: str, new: str) -> bytes:
    """``pdf`` with the text ``old`` changed to ``new`` in the page content streams (same font, same length):
    what a forger does with a PDF editor. Metadata and everything else stay."""
    assert len(old) == len(new)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    edits = 0
    for page in writer.pages:
        contents = page.get_contents()
        assert contents is not None
        data = contents.get_data()
        resources = page["/Resources"].get_object()
        assert isinstance(resources, DictionaryObject)
        fonts = resources["/Font"].get_object()
        assert isinstance(fonts, DictionaryObject)
        for ref in fonts.values():
            font = ref.get_object()
            if "/ToUnicode" not in font:
                continue
            cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
            cids = {bytes.fromhex(h).decode("utf-16-be"): c.lower().encode()
                    for c, h in re.findall(r"<([0-9a-fA-F]{4})>\s*<([0-9a-fA-F]+)>", cmap)}
            if not all(ch in cids for ch in old + new):
                continue
            gap = rb"(?:>\s*-?[\d.]*\s*<)?"  # WeasyPrint splits runs: <001b>0<0019>
            pattern = re.compile(gap.join(re.escape(cids[ch]) for ch in old))

            def swap(match: re.Match[bytes], cids: dict[str, bytes] = cids) -> bytes:
                out = match.group(0)
                for ch_old, ch_new in zip(old, new, strict=True):
                    if ch_old != ch_new:
                        out = out.replace(cids[ch_old], cids[ch_new], 1)
                return out

            data, n = pattern.subn(swap, data)
            edits += n
        stream = ContentStream(None, writer)
        stream.set_data(data)
        page.replace_contents(stream)
    assert edits, f"{old!r} is not in the PDF's text"
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_verify_pdf_tells_genuine_from_altered_and_unknown(injury: tuple[Station, int], session: Any,
                                                           tmp_path: Path) -> None:
    """DESIGN §4: the same text is genuine; an amount changed in the content stream, or a re-render of a changed
    context under the original's code, is altered; a PDF no document was issued as is unknown."""
    station, case_id = injury
    docs = issued(station, case_id)
    agreement = [d for d in docs if d.kind == "agreement"][-1]
    pdf = document_pdf(agreement, tmp_path)
    assert pdf_digest(pdf) == agreement.digest
    assert verify_pdf(session, pdf, cache_dir=tmp_path).status == "genuine"

    edited = edit_pdf_text(pdf, "86,000", "96,000")
    assert "96,000.00" in text_of(edited) and pdf_digest(edited) == agreement.digest
    altered = verify_pdf(session, edited, cache_dir=tmp_path)
    assert (altered.status, altered.document_id, altered.version) == ("altered", agreement.id, 2)

    context = from_stored(agreement.context)
    context["agreement"]["terms"][0]["amount"] = context["agreement"]["terms"][0]["amount"] * 2
    forged = render_pdf("agreement", context, digest=agreement.digest)
    assert f"校验码{agreement.verification_code}" in text_of(forged)
    assert verify_pdf(session, forged, cache_dir=tmp_path).status == "altered"

    # Metadata stripped: the printed code still finds the document.
    assert pdf_digest(resaved(pdf)) is None
    assert verify_pdf(session, resaved(pdf), cache_dir=tmp_path).status == "genuine"
    assert verify_pdf(session, resaved(edited), cache_dir=tmp_path).status == "altered"

    never_issued = render_pdf("agreement", context)  # its own digest: no document has it
    unknown = verify_pdf(session, never_issued, cache_dir=tmp_path)
    assert (unknown.status, unknown.document_id, unknown.case_number) == ("unknown", None, None)
    assert verify_pdf(session, b"%PDF-1.7 not really", cache_dir=tmp_path).status == "unknown"
    assert verify_pdf(session, b"", cache_dir=tmp_path).status == "unknown"


def test_every_issued_document_verifies_as_genuine(injury: tuple[Station, int], session: Any,
                                                   tmp_path: Path) -> None:
    """DESIGN §4: any issued document, fetched as users fetch it, checks out against the record."""
    station, case_id = injury
    for doc in issued(station, case_id):
        result = verify_pdf(session, document_pdf(doc, tmp_path), cache_dir=tmp_path)
        assert (result.status, result.document_id, result.kind) == ("genuine", doc.id, doc.kind)


def test_cli_documents_verify_prints_the_result_and_exits_0_only_for_genuine(
    injury: tuple[Station, int], database: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``mediation documents verify FILE.pdf``: one line, exit 0 for genuine, 1 for altered or unknown."""
    station, case_id = injury
    monkeypatch.setenv("MEDIATION_DOCUMENT_CACHE", str(tmp_path / "cache"))
    agreement = [d for d in issued(station, case_id) if d.kind == "agreement"][-1]
    genuine = tmp_path / "genuine.pdf"
    genuine.write_bytes(document_pdf(agreement, tmp_path / "cache"))
    altered = tmp_path / "altered.pdf"
    altered.write_bytes(edit_pdf_text(genuine.read_bytes(), "86,000", "96,000"))
    unknown = tmp_path / "unknown.pdf"
    unknown.write_bytes(render_pdf("agreement", {**from_stored(agreement.context), "case": {"number": "X"}}))
    runner = CliRunner()
    results = {path.stem: runner.invoke(documents_cli, ["verify", str(path), "--database", database.url])
               for path in (genuine, altered, unknown)}
    assert {k: r.exit_code for k, r in results.items()} == {"genuine": 0, "altered": 1, "unknown": 1}
    assert results["genuine"].output.startswith("genuine")
    assert agreement.case.number in results["genuine"].output and "调解协议书 v2" in results["genuine"].output
    assert results["altered"].output.startswith("altered") and results["unknown"].output.startswith("unknown")


def test_cli_documents_verify_sees_a_page_drawn_over_or_annotated_and_refuses_what_is_no_pdf(
    injury: tuple[Station, int], database: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The words kept but a white box drawn, or a note added: altered (1). A file that cannot be checked is
    said in one line as the web page says it, exit 3; pypdf's complaints about it are not printed."""
    station, case_id = injury
    monkeypatch.setenv("MEDIATION_DOCUMENT_CACHE", str(tmp_path / "cache"))
    agreement = [d for d in issued(station, case_id) if d.kind == "agreement"][-1]
    pdf = document_pdf(agreement, tmp_path / "cache")
    files = {
        "overdrawn": overdrawn(pdf), "annotated": annotated(pdf), "resaved": resaved(pdf),
        "not_pdf": b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "empty": b"", "truncated": pdf[: len(pdf) // 2],
        "encrypted": encrypted(pdf), "too_large": b"%PDF-1.7\n" + b"\0" * MAX_PDF_BYTES,
    }
    runner = CliRunner()
    results = {}
    for name, data in files.items():
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(data)
        results[name] = runner.invoke(documents_cli, ["verify", str(path), "--database", database.url])
    assert {k: r.exit_code for k, r in results.items()} == {
        "overdrawn": 1, "annotated": 1, "resaved": 0,
        "not_pdf": 3, "empty": 3, "truncated": 3, "encrypted": 3, "too_large": 3}
    for name in ("overdrawn", "annotated"):
        assert results[name].output.startswith("altered") and "page 1 looks different" in results[name].output
    assert results["resaved"].output.startswith("genuine")
    lines = {k: r.output for k, r in results.items() if r.exit_code == 3}
    assert lines == {"not_pdf": "not a PDF: this file is not a PDF\n", "empty": "empty: the file is empty\n",
                     "truncated": "unreadable: this PDF is damaged and could not be read\n",
                     "encrypted": "unreadable: this PDF is protected by a password and could not be read\n",
                     "too_large": "too large: the file is larger than 20 MB\n"}
    bad_database = runner.invoke(documents_cli, ["verify", str(tmp_path / "resaved.pdf"),
                                                 "--database", f"sqlite:///{tmp_path / 'empty.db'}"])
    assert bad_database.exit_code == 4 and "no tables yet" in bad_database.output


@pytest.mark.parametrize(
    ("category", "note"),
    [("wages", True), ("work_injury", True), ("contract_termination", True), ("labour_service_pay", False)],
)
def test_payment_order_note_only_for_labour_agreements_r20_covers(station: Station, category: str,
                                                                  note: bool) -> None:
    """R20 (劳动争议调解仲裁法 第16条): wages, work-injury costs, economic compensation or damages -> the worker
    may apply for a payment order on breach; a labour-service (劳务) agreement gets no such note."""
    case_id = station.drive_to("labour", "breached")
    fresh = station.file("labour", category=category).case_id
    for trigger in ("accept", "draft_agreement", "sign", "report_breach"):
        station.fire(fresh, trigger, DATA[trigger])
    assert ("payment_order_note" in station.documents(fresh)) is note
    assert "payment_order_note" in station.documents(case_id)  # the journeys' wages case


def test_neighbour_breach_gets_no_payment_order_note(station: Station) -> None:
    """R20 is a labour rule: the neighbour workflow names no payment-order note."""
    case_id = station.drive_to("neighbour", "breached")
    assert "payment_order_note" not in station.documents(case_id)


def test_a_case_taken_up_proactively_has_a_register_but_no_application(station: Station) -> None:
    """R27, R33 "application or register": a dispute the committee took up on its own has no 申请书."""
    case_id = station.file("labour", filed_via="proactive").case_id
    station.fire(case_id, "accept", DATA["accept"])
    assert station.documents(case_id) == ["acceptance_register", "rights_notice"]


def test_termination_issues_the_notice_with_the_referral_before_the_dossier(station: Station,
                                                                            tmp_path: Path) -> None:
    """R7 (人民调解法 第26条): a terminated case's parties are told of the other channels; the notice is filed
    last in the dossier, before the closing note."""
    case_id = station.drive_to("neighbour", "terminated")
    docs = issued(station, case_id)
    assert [d.kind for d in docs][-2:] == ["termination_notice", "dossier"]
    notice = docs[-2]
    assert notice.context["termination"]["referral"] == "arbitration"
    text = text_of(document_pdf(notice, tmp_path))
    assert "一方要求终止调解" in text and "仲裁" in text and "第二十六条" in text
    assert [d["kind"] for d in docs[-1].context["documents"]][-1] == "termination_notice"


# --------------------------------------------------------------- the definition schema


def _labour() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load((WORKFLOWS_DIR / "labour.yaml").read_text(encoding="utf-8"))
    return raw


@pytest.mark.parametrize(
    ("documents", "message"),
    [
        ([{"kind": "payment_order_note", "case": {"weather": "rain"}}], "cannot match on 'weather'"),
        ([{"kind": "payment_order_note", "case": {"category": ["wages", "holidays"]}}], "unknown category 'holidays'"),
        ([{"kind": "summons", "case": {"category": "wages"}}], "unknown document kind 'summons'"),
        (["payment_order_note", "payment_order_note"], "listed twice"),
        ([{"kind": "payment_order_note"}], "report_breach"),
    ],
)
def test_conditional_documents_are_checked_at_load_time(documents: list[Any], message: str) -> None:
    """A ``documents:`` entry may name case attributes to match; a wrong one is a DefinitionError naming the field."""
    raw = _labour()
    raw["triggers"]["report_breach"]["documents"] = documents
    with pytest.raises(DefinitionError) as info:
        parse_definition(raw, "", "labour.yaml")
    assert message in str(info.value) and "triggers.report_breach" in str(info.value)


def test_conditional_documents_match_the_case() -> None:
    """``documents_for`` keeps a conditional kind only for a case that matches (any listed value)."""
    from types import SimpleNamespace

    from mediation.enums import Category, IntakeSource

    definition = parse_definition(_labour(), "", "labour.yaml")
    breach, accept = definition.triggers["report_breach"], definition.triggers["accept"]
    assert breach.documents_for(SimpleNamespace(category=Category.WAGES)) == ("payment_order_note",)
    assert breach.documents_for(SimpleNamespace(category=Category.LABOUR_SERVICE_PAY)) == ()
    assert accept.documents_for(SimpleNamespace(filed_via=IntakeSource.WALK_IN)) == (
        "application", "acceptance_register", "rights_notice")
    assert accept.documents_for(SimpleNamespace(filed_via=IntakeSource.PROACTIVE)) == (
        "acceptance_register", "rights_notice")


def test_case_model_is_what_documents_for_reads() -> None:
    """The attributes a ``case:`` match names are Case columns (no typo in CASE_MATCH_KEYS)."""
    from mediation.workflow import CASE_MATCH_KEYS

    assert all(hasattr(Case, key) for key in CASE_MATCH_KEYS)
