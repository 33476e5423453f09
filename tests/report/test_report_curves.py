"""Quality vs compute: curve points, the Pareto front (known answers on hand-made points), the
curve figure, ``tables/pareto`` and the headline, from a synthetic benchmark JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from bnncompare import METHODS
from bnncompare.report import build_report, load_runs
from bnncompare.report.curves import (
    curve_points,
    front_headline,
    pareto_front,
    pareto_table,
    step_front,
)
from bnncompare.report.figures import curve_figure
from bnncompare.report.tables import quality_table

#: three registered methods (whatever they are called) and one that is not installed
A, B, C = list(METHODS)[:3]
PLUGIN = "zz_plugin"

#: (method, budget or None for the quality cell, fit seconds, grad evals, tv_test, nll)
POINTS = [
    (A, "x0.5", 0.2, 100, 0.050, 0.30),
    (A, None, 0.4, 200, 0.040, 0.25),
    (A, "x2", 0.8, 400, 0.045, 0.24),   # more epochs, further from the posterior
    (B, "x0.5", 3.0, 1000, 0.030, 0.20),
    (B, None, 6.0, 2000, 0.035, 0.21),   # dominated by B x0.5
    (C, "x0.5", 5.0, 3000, 0.020, 0.22),
    (C, None, 20.0, 6000, 0.010, 0.19),
    (PLUGIN, None, 30.0, 0, 0.015, 0.18),  # no gradient evaluations: left out of that panel
]


def _bench(method, budget, seconds, work, tv, nll, dataset="iris", reference=True):
    params = {"method": method, "dataset": dataset, "hidden": "4"}
    extra = {"axis": "none", "profile": "fast", "nll": nll, "accuracy": 0.9,
             "n_grad_evals": work, "seed": 0}
    if reference:
        extra.update(tv_test=tv, tv_ood=2 * tv, agreement_test=1 - tv, agreement_ood=0.5)
    if budget is not None:
        params["budget"] = budget
        extra["axis"] = "budget"
    suffix = f"-{budget}" if budget else ""
    name = f"test_quality{'_curve' if budget else ''}[{dataset}-{method}{suffix}-4]"
    return {"group": "fit", "name": name, "params": params, "extra_info": extra,
            "stats": {"median": seconds, "data": [seconds]}}


def curve_doc(reference: bool = True) -> dict:
    benches = [{"group": "calibration", "name": "test_calibration[start]", "params": {},
                "extra_info": {}, "stats": {"median": 1.0, "data": [1.0]}}]
    benches += [_bench(*p, reference=reference) for p in POINTS]
    # a second dataset without a reference: its curves fall back to test NLL
    benches += [_bench(m, b, s, w, t, n, dataset="digits", reference=False)
                for m, b, s, w, t, n in POINTS[:3]]
    return {"machine_info": {"node": "box", "profile": "fast"}, "benchmarks": benches}


@pytest.fixture(scope="module")
def curve_json(tmp_path_factory):
    path = tmp_path_factory.mktemp("curves") / "curves.json"
    path.write_text(json.dumps(curve_doc()), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def points(curve_json):
    return curve_points(load_runs([curve_json]))


def test_pareto_front_known_answer():
    cost = [1.0, 2.0, 3.0, 4.0, 0.5, 2.0, 5.0]
    loss = [0.5, 0.3, 0.4, 0.1, 0.9, 0.3, 0.1]
    # 3.0/0.4 is beaten by 2.0/0.3; 5.0/0.1 by 4.0/0.1; the two 2.0/0.3 points tie and stay
    assert pareto_front(cost, loss).tolist() == [True, True, False, True, True, True, False]


def test_step_front_is_the_best_loss_within_each_cost():
    x, y = step_front([1.0, 3.0, 0.5, 4.0, 2.0], [0.5, 0.4, 0.9, 0.1, 0.3], x_max=10.0)
    assert x.tolist() == [0.5, 1.0, 2.0, 4.0, 10.0]
    assert y.tolist() == [0.9, 0.5, 0.3, 0.1, 0.1]


def test_curve_points_read_budgets_and_quality_cells(points):
    iris = points[points["dataset"] == "iris"]
    assert len(iris) == len(POINTS)
    first = iris[iris["method"] == A]
    assert first["budget"].tolist() == ["x0.5", "x1", "x2"]  # quality cell = x1, by factor
    assert first["factor"].tolist() == [0.5, 1.0, 2.0]
    assert first["fit_s"].tolist() == [0.2, 0.4, 0.8]
    assert list(dict.fromkeys(iris["method"])) == [A, B, C, PLUGIN]  # registry order


def test_pareto_table_lists_the_front(points):
    table = pareto_table(points)
    iris = table[table["dataset"] == "iris"]
    assert list(zip(iris["method"], iris["budget"], strict=True)) == [
        (A, "x0.5"), (A, "x1"), (B, "x0.5"), (C, "x0.5"), (C, "x1")]
    assert set(iris["metric"]) == {"tv_test"}
    assert iris["value"].tolist() == [0.050, 0.040, 0.030, 0.020, 0.010]
    assert iris["n_grad_evals"].tolist() == [100, 200, 1000, 3000, 6000]
    digits = table[table["dataset"] == "digits"]  # no reference: test NLL, all three on it
    assert set(digits["metric"]) == {"nll"}
    assert digits["value"].tolist() == [0.30, 0.25, 0.24]


def test_headline_names_the_best_method_per_decade_of_fit_time(points):
    lines = front_headline(pareto_table(points))
    iris = next(li for li in lines if " on iris:" in li)
    label = {m: METHODS[m].method_label() for m in (A, B, C)}
    assert iris == (
        "Closest to the reference posterior (TV on test rows) for a given fit time on iris: "
        f"below 1 s: {label[A]} x1 (TV 0.040); below 10 s: {label[C]} x0.5 (TV 0.020); "
        f"closest overall: {label[C]} x1 (TV 0.010) at 20 s (tables/pareto.md).")
    digits = next(li for li in lines if " on digits:" in li)
    assert digits.startswith("Lowest test NLL (no reference posterior stored)")
    assert digits.endswith(f"best overall: {label[A]} x2 (NLL 0.240) at 0.8 s "
                           "(tables/pareto.md).")


def test_curve_figure_draws_each_method_and_the_front(curve_json):
    fig = curve_figure(load_runs([curve_json]))
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in axes] == [
        "digits: vs fit time", "digits: vs gradient evaluations",
        "iris: vs fit time", "iris: vs gradient evaluations"]
    seconds, work = axes[2], axes[3]
    steps = [ln for ln in seconds.lines if ln.get_drawstyle() == "steps-post"]
    assert len(steps) == 1
    np.testing.assert_allclose(steps[0].get_xdata(), [0.2, 0.4, 3.0, 5.0, 20.0, 45.0])
    np.testing.assert_allclose(steps[0].get_ydata(), [0.05, 0.04, 0.03, 0.02, 0.01, 0.01])
    # one line per method through its budgets; the plugin's 0 grad evals drop out on the right
    def filled(ax):
        return [len(ln.get_xdata()) for ln in ax.lines if ln.get_marker() == "o"
                and ln.get_markerfacecolor() != "white" and len(ln.get_xdata())]

    assert filled(seconds) == [3, 2, 2, 1]
    assert filled(work) == [3, 2, 2]
    assert "TV to the reference posterior" in seconds.get_ylabel()
    assert "test NLL" in axes[0].get_ylabel()


def test_quality_table_adds_reference_columns_only_when_recorded(curve_json, tmp_path):
    table = quality_table(load_runs([curve_json]))
    means = [c for c in table.columns if not c.endswith(("_lo", "_hi"))]
    assert means[-6:] == ["tv_test", "tv_ood", "agreement_test", "agreement_ood", "n_seeds",
                          "n_params"]
    assert {"tv_test_lo", "tv_test_hi", "agreement_ood_lo"} <= set(table.columns)
    # the quality cells (x1) only, not the curve cells
    iris = table[table["dataset"] == "iris"].set_index("method")
    assert iris.loc[C, "tv_test"] == 0.010 and iris.loc[C, "agreement_ood"] == 0.5
    assert len(iris) == 4
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(curve_doc(reference=False)), encoding="utf-8")
    assert "tv_test" not in quality_table(load_runs([plain])).columns


def test_report_writes_the_curves_figure_pareto_table_and_headline(curve_json, tmp_path):
    result = build_report([curve_json], tmp_path / "out", n_boot=10)
    assert "quality_vs_compute.png" in {p.name for p in result["figures"]}
    csv = pd.read_csv(tmp_path / "out" / "tables" / "pareto.csv")
    assert csv["value"].round(3).tolist() == [0.30, 0.25, 0.24, 0.05, 0.04, 0.03, 0.02, 0.01]
    md = (tmp_path / "out" / "tables" / "pareto.md").read_text(encoding="utf-8")
    header = [c.strip() for c in md.splitlines()[2].strip("|").split("|")]
    assert header == ["Dataset", "Method", "Budget", "Budget setting", "Fit s", "Grad evals",
                      "Loss", "Value", "Seeds", "Converged"]
    readme = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    assert "- Closest to the reference posterior (TV on test rows) for a given fit time on " \
           "iris: below 1 s:" in readme
    assert "[pareto](tables/pareto.md)" in readme
    # the quality line leads with the distance to the posterior of the quality cells (x1)
    best = METHODS[C].method_label()
    assert ("Held-out quality on iris over 1 method seed(s): TV to the reference posterior "
            f"(test rows): {best} 0.01 (one seed: not compared)") in readme


def test_fit_table_shows_the_budget_of_curve_cells(curve_json, frame):
    from bnncompare.report.tables import fit_table

    table = fit_table(load_runs([curve_json]))
    first = table[(table["method"] == A) & (table["dataset"] == "iris")]
    # sorted by axis ("budget" before "none"), then budget: the quality cell has none
    assert first["budget"].fillna("-").tolist() == ["x0.5", "x2", "-"]
    assert "budget" not in fit_table(frame).columns  # a run without curve cells


def test_unconverged_points_are_hollow_and_off_the_front(tmp_path):
    """C's quality cell (the closest point, TV 0.010) diverged: drawn hollow, kept in the
    Pareto table flagged, never the "closest" answer."""
    doc = curve_doc()
    for bench in doc["benchmarks"]:
        if bench["params"].get("method") == C and "budget" not in bench["params"] \
                and bench["params"].get("dataset") == "iris":
            bench["extra_info"]["divergences"] = 3
    path = tmp_path / "diverged.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    df = load_runs([path])
    table = pareto_table(curve_points(df))
    iris = table[table["dataset"] == "iris"]
    flagged = iris[~iris["converged"].astype(bool)]
    assert flagged[["method", "budget"]].values.tolist() == [[C, "x1"]]
    lines = front_headline(table)
    iris_line = next(li for li in lines if " on iris:" in li)
    assert "closest overall" in iris_line and f"{METHODS[C].method_label()} x1" not in iris_line
    fig = curve_figure(df)
    seconds = next(ax for ax in fig.axes if ax.get_title() == "iris: vs fit time")
    hollow = [ln for ln in seconds.lines if ln.get_marker() == "o"
              and ln.get_markerfacecolor() == "white" and len(ln.get_xdata())]
    assert [list(ln.get_xdata()) for ln in hollow] == [[20.0]]
    steps = next(ln for ln in seconds.lines if ln.get_drawstyle() == "steps-post")
    assert 20.0 not in list(steps.get_xdata())
