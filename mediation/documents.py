"""Legal documents of a case (人民调解文书), rendered from Jinja2 to A4 PDF/A-3b by WeasyPrint.

Formats follow the Ministry of Justice's 人民调解文书格式 (2010), DOMAIN.md R26-R33 (and
R12 for the judicial-confirmation application, R20 for the payment-order note); templates
live in ``templates/documents/`` beside the package. This module knows nothing of Flask
or SQLAlchemy: callers pass one plain dict per document and get back HTML text or PDF
bytes. The context (any value may be None; it prints as a blank to fill in by hand, never
as "None"; money is Decimal yuan, dates are ``datetime.date``, times aware ``datetime``
shown in Asia/Shanghai)::

    organisation: {name, committee, short_name}
    case: {number, title, category (code: labour categories get the labour wording), category_label,
           workflow_label, facts, claims, amount_claimed,
           filed_at, accepted_at, closed_at, mediator, recorder, state_label, source_label,
           filed_by, retention_label (保管期限, optional), archived_at (立卷日期, optional)}
    parties: [{ref, role, role_label, kind: person|organisation|group, name, size, gender: M|F,
               ethnicity, age, occupation, phone, id_number, address, representative}]
    agreement: {kind: written|oral, number, version, text, copies, drafted_at, signed_at,
                effective_at, verification_code,
                terms: [{seq, obligor, obligee, text, amount, due_date}]}
    follow_up: {at, visitor, party_visited, note, performance}   (optional: method, satisfaction,
               lawsuit, escalation, measures)
    events: [{at, label, actor, note}]
    sessions: [{at, mode_label, participants: [str], place, minutes}]   (optional: rights_explained,
              verification, result)
    investigations: [{at, note, investigator}]   (optional: kind_label, place, participants, person)
    termination: {at, reason, referral: arbitration|litigation|payment_order|administrative|other}
    judicial: {applied_at, court}                               (judicial_confirmation_application)
    breach: {reported_at, note, term: {seq, obligor, obligee, text, amount, due_date}}
                                                                (payment_order_note)
    document: {kind, event_seq}   which issue this is; only there to make every digest unique
    documents: [{kind, title, context}]   only for "dossier": listed in the order given (R33,
               see ``DOSSIER_ORDER``); each context inherits the keys it lacks from the
               dossier's own context

Every PDF is verifiable (DESIGN.md §4): the SHA-256 ``content_digest`` of its context is in
the PDF's keywords (``mediation-digest:<hex>``), its short ``verification_code`` is printed
in the footer of every page, and an agreement also carries a QR code of
``<base>/verify/<code>`` (base: ``MEDIATION_VERIFY_BASE_URL``, default
``http://127.0.0.1:5000``). ``mediation.verification.verify_pdf`` checks a PDF against
the record.

Font (DESIGN.md §4 asks for the choice by measurement): see ``FONT_MEASUREMENTS``.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
import os
import re
import threading
from collections.abc import Iterator, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import cn2an
import jinja2
import segno
from markupsafe import Markup
from weasyprint import HTML
from weasyprint.css import ColorProfile
from weasyprint.pdf import fonts as weasy_pdf_fonts
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from mediation.errors import MediationError

__all__ = [
    "AGREEMENT_KINDS",
    "DEFAULT_VERIFY_BASE",
    "DIGEST_KEYWORD",
    "DOCUMENT_KINDS",
    "DOSSIER_ORDER",
    "PDF_VARIANT",
    "RECORD_KINDS",
    "DisallowedResource",
    "UnknownDocumentKind",
    "amount_in_capitals",
    "content_digest",
    "document_title",
    "dossier_rank",
    "harfbuzz_subset_available",
    "qr_svg",
    "render_html",
    "render_pdf",
    "verification_code",
    "verification_url",
    "verify_base_url",
]

DOCUMENT_KINDS: Final[tuple[str, ...]] = (
    "agreement",
    "oral_agreement",
    "follow_up",
    "dossier",
    "application",
    "acceptance_register",
    "investigation_record",
    "session_record",
    "rights_notice",
    "termination_notice",
    "judicial_confirmation_application",
    "payment_order_note",
)

_TITLES_ZH: Final[Mapping[str, str]] = {
    "agreement": "调解协议书",
    "oral_agreement": "口头协议登记表",
    "follow_up": "回访记录",
    "dossier": "卷宗",
    "application": "调解申请书",
    "acceptance_register": "受理登记表",
    "investigation_record": "调查记录",
    "session_record": "调解记录",
    "rights_notice": "当事人权利义务告知书",
    "termination_notice": "终止调解告知书",
    "judicial_confirmation_application": "司法确认申请书",
    "payment_order_note": "申请支付令告知书",
}
_TITLES_EN: Final[Mapping[str, str]] = {
    "agreement": "Mediation agreement",
    "oral_agreement": "Oral agreement register",
    "follow_up": "Follow-up record",
    "dossier": "Case dossier",
    "application": "Application for mediation",
    "acceptance_register": "Acceptance register",
    "investigation_record": "Investigation record",
    "session_record": "Mediation session record",
    "rights_notice": "Notice of the parties' rights and duties",
    "termination_notice": "Notice of termination of mediation",
    "judicial_confirmation_application": "Joint application for judicial confirmation",
    "payment_order_note": "Note on applying for a payment order",
}

#: R33 卷宗: the order of the documents in a dossier - application or register, notice of
#: rights and duties, (ID proof), investigation records, (evidence), session records,
#: agreement, performance (the payment-order note belongs to performance), follow-up
#: records, judicial-confirmation papers; the termination notice closes a failed case
#: just before the closing note, which the dossier template adds with the back cover.
DOSSIER_ORDER: Final[tuple[str, ...]] = (
    "application",
    "acceptance_register",
    "rights_notice",
    "investigation_record",
    "session_record",
    "agreement",
    "oral_agreement",
    "payment_order_note",
    "follow_up",
    "judicial_confirmation_application",
    "termination_notice",
)

#: Kinds issued once per event (each visit, session, breach is its own record): every one
#: goes into the dossier. Of the other kinds a later issue replaces the earlier one there
#: (a redrafted agreement), though both stay on file.
RECORD_KINDS: Final[frozenset[str]] = frozenset(
    {"investigation_record", "session_record", "follow_up", "payment_order_note"}
)

#: The agreements (R30, R31): they carry a QR code of their verification URL.
AGREEMENT_KINDS: Final[frozenset[str]] = frozenset({"agreement", "oral_agreement"})

#: PDF/A-3b: archival PDF (ISO 19005-3, level B), fonts embedded, sRGB output intent.
PDF_VARIANT: Final[str] = "pdf/a-3b"
#: The keyword that carries the content digest in a PDF's metadata (Info and XMP).
DIGEST_KEYWORD: Final[str] = "mediation-digest:"
DEFAULT_VERIFY_BASE: Final[str] = "http://127.0.0.1:5000"

TEMPLATE_ROOT: Final[Path] = Path(__file__).resolve().parent.parent / "templates"
ASSET_DIR: Final[Path] = TEMPLATE_ROOT / "documents"

# How the font was chosen (DESIGN.md §4). Measured here with bench/documents.py:
# WeasyPrint 70, harfbuzz-subset fast path, warm process, the shared FontConfiguration,
# median CPU time of 31 renders (2-core machine shared with other work, ±15 %):
#
#   font                 c01 agreement (1 page)   c26 dossier (10 pages)   agreement, fontTools fallback
#   AR PL UMing CN       0.084 s    59 KB         0.56 s   115 KB          0.6 s
#   Noto Serif CJK SC    0.114 s   187 KB         0.62 s   236 KB          5.2-8.3 s
#
# UMing: 3x smaller files (TrueType glyphs; Noto's are CFF), ~25 % less CPU per
# agreement, and if the harfbuzz-subset library ever goes missing it degrades to
# 0.6 s rather than Noto's 5-8 s. Its Ming (宋体-like) strokes look like a printed
# official form. Its cost: one weight, so headings are set by size and spacing
# (WeasyPrint does not fake bold). Noto Serif CJK SC stays second in font-family
# for any character UMing lacks (it is then embedded too), e.g. 𠮷 U+20BB7; HanaMinB
# (Debian fonts-hanazono, 花園明朝B) is the last resort for the rarer name characters of
# CJK Extensions B-F that neither has (𪚥 U+2A6A5), so no name prints as an empty box.
# A fallback face costs nothing until a character needs it.
FONT_FAMILY: Final[str] = '"AR PL UMing CN", "Noto Serif CJK SC", "HanaMinB", serif'
FONT_MEASUREMENTS: Final[Mapping[str, tuple[float, int]]] = {
    # family: (CPU seconds, PDF bytes) for the c01 agreement
    "AR PL UMing CN": (0.084, 59_400),
    "Noto Serif CJK SC": (0.114, 186_800),
}

SHANGHAI: Final[ZoneInfo] = ZoneInfo("Asia/Shanghai")


class UnknownDocumentKind(MediationError, ValueError):
    """The document kind is not one of DOCUMENT_KINDS (or a dossier nested in a dossier)."""


class DisallowedResource(MediationError, PermissionError):
    """A document tried to load a URL outside templates/documents/ (nothing is embedded)."""


# --------------------------------------------------------------------------- titles


def document_title(kind: str, locale: str = "zh_CN") -> str:
    """Title of a document kind, e.g. 调解协议书; English for a non-``zh`` locale; raises UnknownDocumentKind."""
    titles = _TITLES_ZH if locale.lower().replace("-", "_").startswith("zh") else _TITLES_EN
    try:
        return titles[kind]
    except KeyError:
        raise UnknownDocumentKind(f"unknown document kind {kind!r}; expected one of {DOCUMENT_KINDS}") from None


# --------------------------------------------------------------------------- digest


def _canonical(value: Any) -> Any:
    """Make ``value`` JSON-serialisable in a stable way (json.dumps ``default`` hook)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    raise TypeError(f"cannot put {type(value).__name__} into a document digest")


def content_digest(context: Mapping[str, Any]) -> str:
    """SHA-256 hex of the context as canonical JSON, agreement.verification_code left out; TypeError on odd types."""
    data = dict(context)
    agreement = data.get("agreement")
    if isinstance(agreement, Mapping) and "verification_code" in agreement:
        # The code is printed from the digest, so it cannot be part of it.
        data["agreement"] = {k: v for k, v in agreement.items() if k != "verification_code"}
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_canonical)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def verification_code(digest: str) -> str:
    """Short code from a hex digest: first 16 hex chars upper-cased as XXXX-XXXX-XXXX-XXXX; ValueError if not hex."""
    head = digest.strip()[:16]
    if len(head) < 16 or not re.fullmatch(r"[0-9a-fA-F]{16}", head):
        raise ValueError("a verification code needs a hex digest of at least 16 characters")
    head = head.upper()
    return "-".join(head[i : i + 4] for i in range(0, 16, 4))


def verify_base_url() -> str:
    """Base of verification URLs: MEDIATION_VERIFY_BASE_URL, else http://127.0.0.1:5000 (no trailing slash)."""
    return (os.environ.get("MEDIATION_VERIFY_BASE_URL") or DEFAULT_VERIFY_BASE).rstrip("/")


def verification_url(code: str, base: str | None = None) -> str:
    """``<base>/verify/<code>``, the page that checks a document (DESIGN.md §4); base as verify_base_url()."""
    return f"{(base or verify_base_url()).rstrip('/')}/verify/{code}"


@functools.lru_cache(maxsize=256)
def qr_svg(text: str) -> Markup:
    """An inline SVG QR code (segno, error level M, no quiet zone: the page margin is one) of ``text``."""
    qr = segno.make(text, error="m", micro=False)
    return Markup(qr.svg_inline(border=0, omitsize=True, svgclass=None, lineclass=None))


def dossier_rank(kind: str) -> int:
    """Position of a kind in the dossier (R33 卷宗 order, ``DOSSIER_ORDER``); unknown kinds go last."""
    try:
        return DOSSIER_ORDER.index(kind)
    except ValueError:
        return len(DOSSIER_ORDER)


# --------------------------------------------------------------------------- money


_CENT: Final[Decimal] = Decimal("0.01")


def amount_in_capitals(amount: Decimal | int) -> str:
    """Yuan (CNY) in capital numerals 大写, e.g. 9966 -> 玖仟玖佰陆拾陆元整; half-up to fen; ValueError if < 0."""
    try:
        value = Decimal(amount).quantize(_CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValueError(f"not an amount of money: {amount!r}") from exc
    if value < 0:
        raise ValueError(f"a negative amount has no capital form on an agreement: {amount!r}")
    return str(cn2an.an2cn(format(value, "f"), "rmb"))


# --------------------------------------------------------------------------- template filters


def _is_filled(value: Any) -> bool:
    """True unless the value is None, undefined or blank text: such fields print as hand-fill blanks."""
    if value is None or isinstance(value, jinja2.Undefined):
        return False
    if isinstance(value, str):
        return bool(value.strip())
    return True


def _finalize(value: Any) -> Any:
    """Print None as nothing, never as 'None'."""
    return "" if value is None else value


def _local(value: dt.datetime) -> dt.datetime:
    """An aware datetime in Asia/Shanghai; a naive one is taken to be Shanghai time already."""
    return value.astimezone(SHANGHAI) if value.tzinfo is not None else value


_BLANK_DATE: Final[Markup] = Markup(
    '<span class="blank short">&#160;</span>年<span class="blank short">&#160;</span>月'
    '<span class="blank short">&#160;</span>日'
)


def _cn_date(value: Any) -> str | Markup:
    """2026年3月2日; a blank to fill in by hand when missing."""
    if isinstance(value, dt.datetime):
        value = _local(value).date()
    if isinstance(value, dt.date):
        return f"{value.year}年{value.month}月{value.day}日"
    return _BLANK_DATE


def _cn_datetime(value: Any) -> str | Markup:
    """2026年3月2日 14时05分 (Asia/Shanghai); a date alone prints as a date."""
    if isinstance(value, dt.datetime):
        local = _local(value)
        return f"{local.year}年{local.month}月{local.day}日 {local.hour}时{local.minute:02d}分"
    return _cn_date(value)


def _yuan(value: Any) -> str:
    """9,966.00 (yuan, two places)."""
    if not _is_filled(value):
        return ""
    return f"{Decimal(value).quantize(_CENT, rounding=ROUND_HALF_UP):,}"


def _capitals(value: Any) -> str:
    """Template form of amount_in_capitals; blank for a missing amount."""
    return amount_in_capitals(value) if _is_filled(value) else ""


def _gender(value: Any) -> str:
    """M/F -> 男/女."""
    return {"M": "男", "F": "女"}.get(str(value), "") if _is_filled(value) else ""


_ROLE_LABELS: Final[Mapping[str, str]] = {"applicant": "申请人", "respondent": "被申请人", "third_party": "第三人"}


def _role_label(party: Any) -> str:
    """The party's role_label, else the standard label of its role (申请人 / 被申请人 / 第三人)."""
    if not isinstance(party, Mapping):
        return ""
    label = party.get("role_label")
    return str(label) if _is_filled(label) else _ROLE_LABELS.get(str(party.get("role")), "")


def _cn_ordinal(value: Any) -> str:
    """1 -> 一, 12 -> 十二 (term numbers)."""
    if not isinstance(value, int):
        return "" if value is None or isinstance(value, jinja2.Undefined) else str(value)
    return str(cn2an.an2cn(value, "low"))


def _paragraphs(value: Any) -> list[str]:
    """Split free text into non-empty paragraphs on line breaks."""
    if not _is_filled(value):
        return []
    return [line.strip() for line in str(value).splitlines() if line.strip()]


def _clause(value: Any) -> str:
    """Text without its closing full stop, for the template to end the sentence itself."""
    return str(value).strip().rstrip("。；;.，, ") if _is_filled(value) else ""


def _join(values: Any, sep: str = "、") -> str:
    """Join a list of names, skipping blanks."""
    if not values or isinstance(values, jinja2.Undefined):
        return ""
    return sep.join(str(v) for v in values if _is_filled(v))


def _title_of(kind: Any) -> str:
    return document_title(str(kind))


def _make_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_ROOT),
        # Everything that reaches a document comes from users: escape it all.
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(
        cn_date=_cn_date,
        cn_datetime=_cn_datetime,
        yuan=_yuan,
        capitals=_capitals,
        gender=_gender,
        cn_ordinal=_cn_ordinal,
        paragraphs=_paragraphs,
        join_names=_join,
        clause=_clause,
        role_label=_role_label,
        title_of=_title_of,
    )
    env.tests["filled"] = _is_filled
    return env


_ENV: Final[jinja2.Environment] = _make_environment()


# --------------------------------------------------------------------------- HTML


def _check_kind(kind: str) -> None:
    if kind not in DOCUMENT_KINDS:
        raise UnknownDocumentKind(f"unknown document kind {kind!r}; expected one of {DOCUMENT_KINDS}")


def _render_body(kind: str, context: Mapping[str, Any], anchor: str, verification: Mapping[str, Any]) -> Markup:
    """The <section> of one document; the dossier strings several together."""
    template = _ENV.get_template(f"documents/{kind}.html")
    return Markup(template.render({**context, "kind": kind, "anchor": anchor, "verification": verification}))


def _verification(kind: str, digest: str, verify_base: str | None) -> dict[str, Any]:
    """What a document prints to be checked: the digest, its code, and for an agreement the QR of its URL."""
    code = verification_code(digest)
    url = verification_url(code, verify_base)
    return {"digest": digest, "code": code, "url": url, "qr": qr_svg(url) if kind in AGREEMENT_KINDS else None}


def _document_date(kind: str, context: Mapping[str, Any]) -> Any:
    """The date a document bears, for the dossier's contents list (None if unknown)."""
    case = context.get("case") or {}
    agreement = context.get("agreement") or {}
    if kind == "application":
        return case.get("filed_at")
    if kind in ("acceptance_register", "rights_notice"):
        return case.get("accepted_at") or case.get("filed_at")
    if kind in ("agreement", "oral_agreement"):
        return agreement.get("signed_at") or agreement.get("drafted_at")
    if kind == "follow_up":
        return (context.get("follow_up") or {}).get("at")
    if kind == "termination_notice":
        return (context.get("termination") or {}).get("at")
    if kind == "judicial_confirmation_application":
        return (context.get("judicial") or {}).get("applied_at")
    if kind == "payment_order_note":
        return (context.get("breach") or {}).get("reported_at")
    records = context.get("sessions" if kind == "session_record" else "investigations") or []
    return records[0].get("at") if records else None


def _dossier_parts(context: Mapping[str, Any], verify_base: str | None) -> Iterator[dict[str, Any]]:
    """Each listed document of a dossier with its rendered body; sub-contexts inherit the dossier's keys.

    Each part prints its own verification code: the digest of its own context, the same
    as when it was issued on its own.
    """
    shared = {k: v for k, v in context.items() if k not in ("documents", "document")}
    for index, doc in enumerate(context.get("documents") or (), start=1):
        kind = str(doc.get("kind"))
        if kind == "dossier":
            raise UnknownDocumentKind("a dossier cannot contain a dossier")
        _check_kind(kind)
        own = doc.get("context") or {}
        sub = {**shared, **own}
        anchor = f"doc-{index}"
        yield {
            "kind": kind,
            "title": doc.get("title") or document_title(kind),
            "anchor": anchor,
            "date": doc.get("date") or _document_date(kind, sub),
            "body": _render_body(kind, sub, anchor, _verification(kind, content_digest(own), verify_base)),
        }


def render_html(
    kind: str, context: Mapping[str, Any], *, digest: str | None = None, verify_base: str | None = None
) -> str:
    """Self-contained HTML (CSS inline) of one document from the plain-dict case context.

    ``digest`` is the document's content digest (default: ``content_digest(context)``); it
    goes into the metadata and, as the verification code, into every page's footer.
    ``verify_base`` is the base of the QR code's URL (default ``verify_base_url()``).
    Raises UnknownDocumentKind; TypeError for a context value that has no digest form.
    """
    _check_kind(kind)
    verification = _verification(kind, digest or content_digest(context), verify_base)
    if kind == "dossier":
        extra: dict[str, Any] = {"parts": list(_dossier_parts(context, verify_base))}
    else:
        extra = {}
    body = _render_body(kind, {**context, **extra}, "doc-0", verification)
    base = _ENV.get_template("documents/base.html")
    return base.render(
        {**context, "kind": kind, "body": body, "verification": verification, "digest_keyword": DIGEST_KEYWORD}
    )


# --------------------------------------------------------------------------- PDF


class _TemplateAssetFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint is untyped
    """Serve only files under templates/documents/; refuse every other URL (no network, no file://etc)."""

    def __init__(self) -> None:
        # fail_on_errors: a refused URL stops the rendering instead of being skipped
        # with a log line, so a template bug cannot silently drop a seal or a logo.
        super().__init__(fail_on_errors=True)

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        """Return the asset's bytes; raise DisallowedResource for anything outside ASSET_DIR."""
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise DisallowedResource(f"documents embed nothing from {url!r}")
        path = Path(unquote(parts.path)).resolve()
        if not path.is_relative_to(ASSET_DIR) or not path.is_file():
            raise DisallowedResource(f"documents embed only their own assets, not {url!r}")
        return URLFetcherResponse(path.as_uri(), body=path.read_bytes())


_FETCHER: Final[_TemplateAssetFetcher] = _TemplateAssetFetcher()
_BASE_URL: Final[str] = ASSET_DIR.as_uri() + "/"

# One FontConfiguration for the process: building one reads the fontconfig cache
# (~30 ms) and its Pango font map caches the CJK faces between renders. Pango font
# maps are not documented as thread-safe, so renders take turns; a render is
# ~0.1 s of mostly GIL-holding Python, so the lock costs little parallelism.
_FONT_CONFIG: FontConfiguration | None = None
_RENDER_LOCK: Final[threading.Lock] = threading.Lock()


def _font_config() -> FontConfiguration:
    global _FONT_CONFIG
    if _FONT_CONFIG is None:
        _FONT_CONFIG = FontConfiguration()
    return _FONT_CONFIG


def harfbuzz_subset_available() -> bool:
    """True if WeasyPrint subsets fonts with libharfbuzz-subset >= 4.1 (fast path), not fontTools (seconds/doc)."""
    # The very test weasyprint.pdf.fonts.Font.subset makes (WeasyPrint 70), on the names
    # that module imported: libharfbuzz-subset loaded (ffi._dlopen(..., allow_fail=True))
    # and HarfBuzz >= 4.1.0 (for hb_set_add_sorted_array). Otherwise it falls back silently
    # but for a log line, and Noto Serif CJK then takes ~5 s a page.
    library = getattr(weasy_pdf_fonts, "harfbuzz_subset", None)
    harfbuzz = getattr(weasy_pdf_fonts, "harfbuzz", None)
    if not library or harfbuzz is None:
        return False
    return bool(harfbuzz.hb_version_atleast(4, 1, 0))


# The PDF/A output intent: WeasyPrint's own sRGB profile, read once. Asked for as
# ``output_intent="srgb"`` WeasyPrint 70 opens the ICC file on every render and never
# closes it (a ResourceWarning each time); given as a profile of our own it is not.
_OUTPUT_INTENT: Final[str] = "srgb-iec61966-2-1"
_COLOR_PROFILES: dict[str, ColorProfile] = {}


def _color_profiles() -> dict[str, ColorProfile]:
    if not _COLOR_PROFILES:
        icc = resources.files("weasyprint.pdf").joinpath("sRGB2014.icc").read_bytes()
        _COLOR_PROFILES[_OUTPUT_INTENT] = ColorProfile(
            io.BytesIO(icc), "sRGB2014.icc", "relative-colorimetric", (["r"], ["g"], ["b"])
        )
    return _COLOR_PROFILES


def _html_to_pdf(html: str) -> bytes:
    """Lay out and write the PDF/A-3b under the render lock; DisallowedResource if a URL was refused."""
    with _RENDER_LOCK:
        try:
            document = HTML(string=html, base_url=_BASE_URL, url_fetcher=_FETCHER)
            pdf = document.write_pdf(
                font_config=_font_config(),
                pdf_variant=PDF_VARIANT,
                output_intent=_OUTPUT_INTENT,
                color_profiles=_color_profiles(),
            )
        except FatalURLFetchingError as exc:
            # FatalURLFetchingError is a BaseException; give callers a normal error.
            raise DisallowedResource(str(exc.__cause__ or exc)) from exc
    assert isinstance(pdf, bytes)
    return pdf


def render_pdf(
    kind: str, context: Mapping[str, Any], *, digest: str | None = None, verify_base: str | None = None
) -> bytes:
    """A4 PDF/A-3b bytes of one document, fonts embedded as subsets, title, case number and language in
    the metadata, the digest in the keywords (see render_html); raises UnknownDocumentKind, DisallowedResource.
    """
    return _html_to_pdf(render_html(kind, context, digest=digest, verify_base=verify_base))
