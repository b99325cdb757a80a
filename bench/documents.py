"""Measure document rendering per font (DESIGN.md §4): seconds and bytes per PDF.

Usage: python bench/documents.py [--runs 15] [--fonttools]

Renders the c01 agreement and the c26 dossier from tests/unit/test_documents.py
with each candidate CJK font, in one warm process with the module's shared
FontConfiguration, and prints the median time and the PDF size. --fonttools also
times WeasyPrint's fallback subsetter (what happens without libharfbuzz-subset0).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mediation import documents  # noqa: E402
from tests.unit.test_documents import c01_context, c26_context, dossier_context  # noqa: E402

FONTS = ('"AR PL UMing CN"', '"Noto Serif CJK SC"')


def with_font(html: str, family: str) -> str:
    """The document's HTML with its body font swapped for ``family``."""
    return html.replace(documents.FONT_FAMILY, f"{family}, serif")


def measure(render: Callable[[], bytes], runs: int) -> tuple[float, float, int]:
    """Median wall and CPU seconds over ``runs`` renders after one warm-up, and the PDF's size in bytes.

    CPU time is the fairer comparison on a shared machine; wall time is what a user waits.
    """
    pdf = render()
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        pdf = render()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu), len(pdf)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--fonttools", action="store_true", help="also time the fontTools fallback (slow)")
    args = parser.parse_args()

    samples: dict[str, tuple[str, dict[str, Any]]] = {
        "agreement c01": ("agreement", c01_context()),
        "dossier c26": ("dossier", dossier_context(c26_context())),
    }
    assert documents.FONT_FAMILY in documents.render_html("agreement", c01_context())
    print(f"harfbuzz-subset fast path: {documents.harfbuzz_subset_available()}")
    for family in FONTS:
        for name, (kind, context) in samples.items():
            html = with_font(documents.render_html(kind, context), family)
            wall, cpu, size = measure(partial(documents._html_to_pdf, html), args.runs)
            print(f"{family:22} {name:22} {wall:6.3f} s wall {cpu:6.3f} s cpu {size / 1000:7.1f} KB")
        start = time.perf_counter()
        documents.render_html("agreement", c01_context())
        print(f"{'':22} {'(HTML only)':22} {time.perf_counter() - start:6.3f} s")

    if args.fonttools:
        from weasyprint.pdf import fonts as pdf_fonts

        pdf_fonts.harfbuzz_subset = None  # what WeasyPrint does when the library is missing
        for family in FONTS:
            html = with_font(documents.render_html("agreement", c01_context()), family)
            wall, cpu, size = measure(partial(documents._html_to_pdf, html), 1)
            print(
                f"{family:22} {'agreement c01 fontTools':22} {wall:6.3f} s wall {cpu:6.3f} s cpu {size / 1000:7.1f} KB"
            )


if __name__ == "__main__":
    main()
