"""``python -m bench [NAME …] [--quick]``: run the benchmarks and print their ratios."""

from __future__ import annotations

import argparse
import importlib
import sys

BENCHMARKS = ("engine", "documents", "queries")


def main(argv: list[str] | None = None) -> int:
    """Run the named benchmarks (all by default); exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"some of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(BENCHMARKS)}")
    ok = True
    for name in args.names or BENCHMARKS:
        module = importlib.import_module(f"bench.{name}")
        ok = module.run(quick=args.quick) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
