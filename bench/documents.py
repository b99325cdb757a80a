"""Document rendering against a Latin baseline, in one warm process (DESIGN.md §4, issue 5).

Usage: ``python -m bench documents [--quick]`` (or ``python bench/documents.py [--quick]``).

Measured in one run, one warm process, the module's shared ``FontConfiguration``:

1. the two-page c26 agreement (PDF/A-3b, CJK subset fonts, QR code) against WeasyPrint
   rendering the same HTML with every CJK character replaced by Latin letters of about
   the same width, set in DejaVu Serif - the same page count, tables, QR code and
   PDF/A output, so the ratio is the cost of Chinese (shaping, the CJK font, its
   subsetting). Target: within 2x.
2. a 50-page dossier (cover, contents, every document kind, session records to fill
   the pages): seconds and seconds per page. Target (ours): a page of the dossier costs
   no more than 2x a page of the agreement, i.e. long documents scale linearly.
3. memory over 200 renders of the agreement: resident set size after warm-up and at
   the end. Target: flat - it grows by less than 10 MB (and 5 %) after warm-up.

Each line ends OK or MISSED; ``run`` returns False when a target is missed.
"""

from __future__ import annotations

import copy
import gc
import io
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pypdf import PdfReader  # noqa: E402

from mediation import documents  # noqa: E402
from tests.unit.test_documents import all_kinds_context, c26_context  # noqa: E402

AGREEMENT_TARGET = 2.0
DOSSIER_PAGE_TARGET = 2.0
DOSSIER_PAGES = 50
MEMORY_GROWTH_MB = 10.0
MEMORY_GROWTH_SHARE = 0.05

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
_LATIN_WORDS = ("lorem", "ipsum", "dolor", "sit", "amet", "elit", "sed", "magna", "aliqua", "minim")


def latin_twin(html: str) -> str:
    """``html`` with each CJK character replaced by Latin letters of about its width, set in DejaVu Serif.

    Everywhere, the stylesheet's page-number text included, so no CJK font is used at all;
    tags and attributes stay, so the layout (tables, blanks, QR code) is the same. A CJK
    character is about 1 em wide, two Latin letters about 1 em.
    """
    counter = iter(range(10**9))

    def word(match: re.Match[str]) -> str:
        n = next(counter)
        return _LATIN_WORDS[n % len(_LATIN_WORDS)][:2] + (" " if n % 3 == 2 else "")

    return _CJK.sub(word, html).replace(documents.FONT_FAMILY, '"DejaVu Serif", serif')


def pages(pdf: bytes) -> int:
    """Number of pages of a PDF."""
    return len(PdfReader(io.BytesIO(pdf)).pages)


def timed(render: Callable[[], bytes], runs: int) -> tuple[float, float, bytes]:
    """Median CPU and wall seconds over ``runs`` renders after one warm-up render; the last PDF."""
    pdf = render()
    cpu, wall = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        pdf = render()
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return statistics.median(cpu), statistics.median(wall), pdf


def rss_mb() -> float:
    """Resident set size of this process in MB (Linux /proc; 0 elsewhere)."""
    try:
        resident = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return resident * os.sysconf("SC_PAGE_SIZE") / 2**20


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def dossier_of(pages_wanted: int) -> tuple[dict[str, Any], int]:
    """A dossier context of about ``pages_wanted`` pages and its page count."""
    base = all_kinds_context()
    extra_sessions = 0
    for _ in range(4):  # converges in one or two steps: each extra session record is one page
        context = copy.deepcopy(base)
        parts = [{"kind": k, "title": documents.document_title(k), "context": copy.deepcopy(base)}
                 for k in documents.DOSSIER_ORDER if k != "oral_agreement"]
        session = {"kind": "session_record", "title": "调解记录", "context": copy.deepcopy(base)}
        at = parts.index(next(p for p in parts if p["kind"] == "session_record"))
        parts[at:at] = [copy.deepcopy(session) for _ in range(extra_sessions)]
        context["documents"] = parts
        count = pages(documents.render_pdf("dossier", context))
        if count == pages_wanted:
            break
        extra_sessions = max(0, extra_sessions + pages_wanted - count)
    return context, count


def run(quick: bool = False) -> bool:
    """Measure and print; True when every target is met."""
    runs = 5 if quick else 15
    renders = 60 if quick else 200
    warm = 20 if quick else 50
    print(f"documents: WeasyPrint, {documents.PDF_VARIANT}, harfbuzz-subset fast path "
          f"{documents.harfbuzz_subset_available()}, {runs} timed renders each")

    context = c26_context()
    html = documents.render_html("agreement", context)
    latin = latin_twin(html)
    cjk_cpu, cjk_wall, cjk_pdf = timed(lambda: documents._html_to_pdf(html), runs)
    lat_cpu, lat_wall, lat_pdf = timed(lambda: documents._html_to_pdf(latin), runs)
    ratio = cjk_cpu / lat_cpu
    same_size = pages(cjk_pdf) == pages(lat_pdf)
    print(f"  agreement c26 ({pages(cjk_pdf)} pages, {len(cjk_pdf) / 1000:.0f} KB): {cjk_cpu:.3f} s cpu "
          f"{cjk_wall:.3f} s wall; Latin twin ({pages(lat_pdf)} pages, {len(lat_pdf) / 1000:.0f} KB): "
          f"{lat_cpu:.3f} s cpu {lat_wall:.3f} s wall")
    agreement_ok = ratio <= AGREEMENT_TARGET and same_size
    print(f"  agreement / Latin baseline = {ratio:.2f}x (target <= {AGREEMENT_TARGET}x"
          f"{'' if same_size else ', page counts differ'}) {verdict(agreement_ok)}")
    html_only = statistics.median(
        _cpu(lambda: documents.render_html("agreement", context)) for _ in range(runs)
    )
    print(f"  (of which HTML from the template: {html_only * 1000:.1f} ms)")

    dossier, count = dossier_of(DOSSIER_PAGES if not quick else 20)
    d_cpu, d_wall, _ = timed(lambda: documents.render_pdf("dossier", dossier), 1 if quick else 3)
    per_page, agreement_per_page = d_cpu / count, cjk_cpu / pages(cjk_pdf)
    page_ratio = per_page / agreement_per_page
    dossier_ok = page_ratio <= DOSSIER_PAGE_TARGET
    print(f"  dossier ({count} pages): {d_cpu:.2f} s cpu {d_wall:.2f} s wall, {per_page * 1000:.0f} ms a page = "
          f"{page_ratio:.2f}x an agreement page (target <= {DOSSIER_PAGE_TARGET}x) {verdict(dossier_ok)}")

    gc.collect()
    samples: list[float] = []
    for i in range(1, renders + 1):
        documents.render_pdf("agreement", context)
        if i in (warm, renders) or i % 50 == 0:
            gc.collect()
            samples.append(rss_mb())
    after_warm, end = samples[0], samples[-1]
    growth = end - after_warm
    memory_ok = growth < MEMORY_GROWTH_MB and growth < MEMORY_GROWTH_SHARE * max(after_warm, 1.0)
    trail = " ".join(f"{s:.0f}" for s in samples)
    print(f"  memory over {renders} renders: {after_warm:.1f} MB after {warm} -> {end:.1f} MB "
          f"({growth:+.1f} MB; samples {trail} MB) {verdict(memory_ok)}")
    return agreement_ok and dossier_ok and memory_ok


def _cpu(call: Callable[[], object]) -> float:
    start = time.process_time()
    call()
    return time.process_time() - start


if __name__ == "__main__":
    sys.exit(0 if run(quick="--quick" in sys.argv[1:]) else 1)
