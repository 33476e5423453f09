"""``bnncompare compare``: the gate's command line.

Usage::

    bnncompare compare BASE.json NEW.json [--also-base PATH]... [--also-new PATH]...
        [--threshold X] [--geomean-threshold X] [--alpha X] [--min-effect-ms X]
        [--flagged-out PATH] [--fail-on-work-change] [--skip-changed-workloads] [--paired]
        [--require-shared-workload] [--same-cpu-or-pass]

Exit status: 0 pass, 1 regression, 2 unusable input (one line on stderr).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence

from bnncompare.gate.checks import same_cpu
from bnncompare.gate.compare import compare
from bnncompare.gate.model import (
    ALPHA,
    GEOMEAN_THRESHOLD,
    MIN_EFFECT_S,
    THRESHOLD,
    GateInputError,
    GateResult,
    load_all,
)
from bnncompare.gate.render import format_result, write_flagged

__all__ = ["PROG", "main"]

PROG = "bnncompare compare"


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``bnncompare compare``; print the table and return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments after ``compare`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 pass, 1 regression, 2 unusable input or bad arguments.
    """
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage; return instead of exiting
        return exc.code if isinstance(exc.code, int) else 2
    try:
        base, new = load_all([args.base, *args.also_base]), load_all([args.new, *args.also_new])
        if args.same_cpu_or_pass and (why := same_cpu(base, new)):
            print(f"no comparable baseline: {why}; not gated")
            return 0
        result = compare(
            base,
            new,
            threshold=args.threshold,
            alpha=args.alpha,
            geomean_threshold=args.geomean_threshold,
            min_effect_s=args.min_effect_ms / 1000,
            fail_on_work_change=args.fail_on_work_change,
            skip_changed_workloads=args.skip_changed_workloads,
            require_shared_workload=args.require_shared_workload,
            paired=args.paired,
        )
        print(format_result(result))
        if args.flagged_out:
            _write_flagged_checked(result, args.flagged_out)
    except GateInputError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    return 0 if result.passed else 1


def _write_flagged_checked(result: GateResult, path: str) -> None:
    try:
        write_flagged(result, path)
    except OSError as exc:
        raise GateInputError(f"{path}: cannot write ({exc.strerror})") from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Compare two pytest-benchmark JSON runs; exit 1 on a regression.",
    )
    p.add_argument("base", metavar="BASE.json", help="reference run")
    p.add_argument("new", metavar="NEW.json", help="candidate run")
    p.add_argument("--also-base", action="append", default=[], metavar="PATH",
                   help="another run of the reference (same machine); rounds are pooled")
    p.add_argument("--also-new", action="append", default=[], metavar="PATH",
                   help="another run of the candidate (same machine); rounds are pooled")
    p.add_argument("--paired", action="store_true",
                   help="BASE/NEW runs given in the same order ran side by side in pairs: "
                        "judge every pair (see .ci/gate) instead of pooling rounds")
    p.add_argument("--skip-changed-workloads", action="store_true",
                   help="report benchmarks whose workload changed instead of refusing (exit 2)")
    p.add_argument("--require-shared-workload", action="store_true",
                   help="exit 2 unless some benchmark has the same recorded workload on both sides")
    p.add_argument("--same-cpu-or-pass", action="store_true",
                   help="pass, saying 'not gated', when BASE and NEW ran on different CPU models")
    p.add_argument(
        "--threshold",
        type=_number(1, None),
        default=THRESHOLD,
        help=f"per-benchmark median ratio limit, of normalised medians (raw with "
             f"--paired); default {THRESHOLD}, as .ci/gate",
    )
    p.add_argument(
        "--geomean-threshold",
        type=_number(1, None),
        default=GEOMEAN_THRESHOLD,
        help=f"suite-wide geometric-mean ratio limit (default {GEOMEAN_THRESHOLD})",
    )
    p.add_argument(
        "--alpha",
        type=_number(0, 1),
        default=ALPHA,
        help=f"Mann-Whitney U significance level (default {ALPHA})",
    )
    p.add_argument(
        "--min-effect-ms",
        type=_number(0, None, lo_ok=True),
        default=MIN_EFFECT_S * 1000,
        help=f"smallest median change that counts, ms (default {MIN_EFFECT_S * 1000:g})",
    )
    p.add_argument(
        "--flagged-out",
        metavar="PATH",
        help="write flagged node ids (plus calibration) here, one per line",
    )
    p.add_argument(
        "--fail-on-work-change",
        action="store_true",
        help="also fail when n_grad_evals changed with the same seed and versions",
    )
    return p


def _number(lo: float | None, hi: float | None, *, lo_ok: bool = False):
    """An argparse ``type`` accepting a float in (lo, hi), or [lo, hi) when ``lo_ok``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        low_bad = lo is not None and (value < lo if lo_ok else value <= lo)
        if low_bad or (hi is not None and value >= hi) or not math.isfinite(value):
            bounds = f"{'[' if lo_ok else '('}{lo}, {hi if hi is not None else 'inf'})"
            raise argparse.ArgumentTypeError(f"{text} is outside {bounds}")
        return value

    return parse
