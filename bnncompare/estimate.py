"""``bnncompare estimate RUN.json --method M --n-train N ...``: what a fit and a prediction will
cost on the run's machine, before paying for them (:func:`bnncompare.costmodel.estimate`).

Exit codes as every subcommand: 0 an estimate printed, 2 a run, method, setting or shape it
cannot speak for (one line on stderr).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

__all__ = ["add_parser", "parse_param", "run_estimate"]


def add_parser(sub) -> None:
    """The ``estimate`` subcommand's arguments, on the CLI's subparsers ``sub``."""
    est = sub.add_parser("estimate", help="predict fit and predict time and peak memory of a "
                                          "method on your shape, from a run's JSON")
    est.add_argument("run", type=Path, help="a benchmark JSON (bnncompare run's raw/*.json)")
    est.add_argument("--method", required=True, help="a method the run measured")
    est.add_argument("--n-train", type=int, required=True, help="training rows")
    est.add_argument("--n-features", type=int, required=True, help="input features")
    est.add_argument("--n-classes", type=int, required=True, help="classes")
    est.add_argument("--hidden", required=True,
                     help="hidden widths joined by x (50x50; none: softmax regression)")
    est.add_argument("--num-samples", type=int, default=None,
                     help="predictive draws S (default: the estimator's: every kept draw "
                          "of a method that draws at fit, else 100)")
    est.add_argument("--n-test", type=int, default=None, help="rows to predict (default: "
                                                              "--n-train)")
    est.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                     help="an estimator keyword over the run's sweep settings (repeatable), "
                          "e.g. num_epochs=300 or max_tree_depth=5")
    est.add_argument("--json", action="store_true", help="print one JSON object")


def parse_param(text: str) -> tuple[str, object]:
    """``"num_epochs=300" -> ("num_epochs", 300)``: the value as JSON where it parses (numbers,
    ``null``, ``true``), else as a string.

    Raises
    ------
    ValueError
        Without an ``=`` or a key.
    """
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"--param must look like KEY=VALUE, got {text!r}")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = {"none": None, "None": None}.get(value, value)
    return key.strip(), parsed


def run_estimate(args) -> int:
    """Print the estimate for the parsed ``args``; errors propagate as ``ValueError``."""
    from bnncompare.costmodel import estimate
    from bnncompare.profiles import parse_hidden
    from bnncompare.report.load import load_runs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "no calibration": not needed here
        df = load_runs([args.run])
    params = dict(parse_param(p) for p in args.param)
    result = estimate(df, args.method, n_train=args.n_train, n_features=args.n_features,
                      n_classes=args.n_classes, hidden=parse_hidden(args.hidden),
                      num_samples=args.num_samples, n_test=args.n_test, params=params)
    if args.json:
        print(json.dumps(result.as_json(), sort_keys=True))
        return 0
    print(_text(result, args))
    return 0


def _mb(value: float | None) -> str:
    return "not measured in this run" if value is None else f"{value:.3g} MiB"


def _text(r, args) -> str:
    given = {k for k, _ in (parse_param(p) for p in args.param)}
    keywords = ", ".join(f"{k}={v}" for k, v in r.params.items()
                         if k not in ("random_state", "device"))
    lines = [
        f"{r.method} on {r.machine} (from {args.run}):",
        f"  keywords: {keywords}",
        "    (the run's sweep settings" + (f"; given: {', '.join(sorted(given))})" if given
                                           else ")"),
        f"  shape: n_train={args.n_train}, n_features={args.n_features}, "
        f"n_classes={args.n_classes}, hidden={args.hidden}: P = {r.n_params:,} parameters",
        f"  fit:     {r.fit_s:.3g} s  [{r.fit_s_lo:.3g}, {r.fit_s_hi:.3g}]  "
        f"({r.n_grad_evals:,.0f} gradient evaluations)",
        f"  predict: {r.predict_s:.3g} s  [{r.predict_s_lo:.3g}, {r.predict_s_hi:.3g}]",
        f"  peak memory: fit {_mb(r.peak_mb_fit)}, predict {_mb(r.peak_mb_predict)}",
        "  intervals: the model's worst held-out error (one size left out) either side; fit's "
        "also spans the gradient evaluations per iteration the run measured",
    ]
    lines += [f"  extrapolates: {note}" for note in r.extrapolates]
    return "\n".join(lines)
