"""``python -m bnncompare.instructions {count,compare}``: the instruction gate's commands.

``count --out FILE [--tree DIR] [NAME ...]`` counts the kernels of the code in DIR (default:
the current folder) under callgrind and writes a count file; exit 2 when it cannot (the reason
on one line). ``compare BASE HEAD [--limit F]`` prints one line per kernel and the verdict;
exit 1 when a kernel grew past its limit, 2 when nothing was comparable, 0 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bnncompare.instructions.count import CountError, count_tree, read_counts, write_counts
from bnncompare.instructions.kernels import KERNELS
from bnncompare.instructions.verdict import DEFAULT_LIMIT, compare_counts, exit_code, render

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bnncompare.instructions")
    sub = parser.add_subparsers(dest="command", required=True)
    count = sub.add_parser("count", help="count the kernels under callgrind")
    count.add_argument("--out", type=Path, required=True)
    count.add_argument("--tree", type=Path, default=Path.cwd())
    count.add_argument("--python", default=sys.executable)
    count.add_argument("--log", type=Path, help="keep valgrind's and the worker's output here")
    count.add_argument("names", nargs="*", metavar="NAME", help="kernels (default: all)")
    compare = sub.add_parser("compare", help="judge HEAD's counts against BASE's")
    compare.add_argument("base", type=Path)
    compare.add_argument("head", type=Path)
    compare.add_argument("--limit", type=float, default=DEFAULT_LIMIT,
                         help="default growth limit (kernels with a measured one keep it)")
    return parser


def _count(args) -> int:
    unknown = [n for n in args.names if n not in KERNELS]
    if unknown:
        print(f"instructions: unknown kernel(s) {unknown}; choose from {list(KERNELS)}")
        return 2
    try:
        if args.log:
            with open(args.log, "w") as log:
                counts = count_tree(args.tree.resolve(), args.python, args.names or None, log)
        else:
            counts = count_tree(args.tree.resolve(), args.python, args.names or None)
    except CountError as err:
        print(f"instructions: cannot count: {err}")
        return 2
    write_counts(args.out, counts)
    return 0


def _compare(args) -> int:
    try:
        base, head = read_counts(args.base), read_counts(args.head)
    except CountError as err:
        print(f"instructions: {err}")
        return 2
    rows = compare_counts(base, head, args.limit)
    print("\n".join(render(rows)))
    return exit_code(rows)


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit code."""
    args = _parser().parse_args(argv)
    return _count(args) if args.command == "count" else _compare(args)


if __name__ == "__main__":
    sys.exit(main())
