"""A fit that cannot be read as a growth law is reported as inconclusive, with its reason, in
the exponents table, the figure legend and the README's headline list; the fit-vs-draws
figure ticks every measured S and shows the time per gradient evaluation."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from test_report_tables import find, md_rows

from bnncompare.report import build_report, exponent_table, fit_power_law, load_runs
from bnncompare.report.complexity import (
    DRIFT_B_TOL,
    MAX_WIDTH,
    PowerLawFit,
    calibration_drift,
    inconclusive_reasons,
    sweep_series,
)
from bnncompare.report.figures import sweep_figure
from bnncompare.report.tables import fit_table

SPAN = 16.0  # the fixture's fit-vs-draws sweep: S = 50 .. 800
SLOWDOWN = 1.6  # conftest.disturbed_doc: the machine slowed 1.6x midway through that sweep


def fit(b=1.0, lo=0.95, hi=1.05, *, flat=False, span=SPAN, scatter=None, c1=1.0
        ) -> PowerLawFit:
    s_lo, s_hi = scatter or (lo, hi)
    return PowerLawFit(b=b, c0=1.0, c1=c1, b_lo=lo, b_hi=hi, naive_slope=b, n_points=5,
                       flat=flat, span=span, b_lo_scatter=s_lo, b_hi_scatter=s_hi)


# -- the rule -----------------------------------------------------------------------------

def test_a_tight_fit_inside_the_grid_is_conclusive():
    assert inconclusive_reasons(fit()) == []


@pytest.mark.parametrize(("b", "lo", "hi", "fragment"), [
    (4.0, 3.17, 4.0, "upper bound 4"),          # the new user's "S^4.00 [3.17, 4.00]"
    (1.2, 0.9, 4.0, "reaches the b-grid bound 4"),
    (1.0, 0.45, 1.47, f"wider than {MAX_WIDTH:g}"),
])
def test_edge_or_wide_interval_is_inconclusive(b, lo, hi, fragment):
    reasons = inconclusive_reasons(fit(b, lo, hi))
    assert any(fragment in r for r in reasons), reasons


def test_interval_just_narrower_than_the_limit_is_conclusive():
    assert inconclusive_reasons(fit(1.0, 0.51, 1.49)) == []


def test_a_flat_series_is_exempt_from_the_interval_rules():
    # no growing term: b is not identified, "does not grow measurably" is the finding
    assert inconclusive_reasons(fit(0.0, 0.0, 1.72, flat=True)) == []
    assert inconclusive_reasons(fit(0.0, 0.0, 4.0, c1=0.0)) == []


def test_counts_without_a_growing_term_read_as_no_growth():
    """The committed run's NUTS gradient evaluations vs n: scattered, not growing. The best
    curve is the constant (c1 = 0), so b is reported as 0 and nothing is inconclusive."""
    n = np.array([100, 300, 1000, 3000, 10_000, 30_000.0])
    result = fit_power_law(n, np.array([1490, 1470, 1469, 1481, 1443, 1449.0]), n_boot=100)
    assert (result.b, result.c1) == (0.0, 0.0)
    assert result.c0 == pytest.approx(1467, abs=10)
    assert inconclusive_reasons(result) == []


def test_scatter_of_the_medians_about_the_curve_counts():
    reasons = inconclusive_reasons(fit(0.17, 0.15, 0.18, scatter=(0.05, 4.0)))
    assert reasons == ["the medians scatter about the curve: interval [0.05, 4.00] reaches "
                       "the b-grid bound 4"]


@pytest.mark.parametrize(("shift", "inconclusive"), [(0.98, False), (1.02, True)])
def test_calibration_drift_threshold_is_in_units_of_b(shift, inconclusive):
    """A drift r over a span X can tilt b by log r / log X; the limit is DRIFT_B_TOL."""
    drift = SPAN ** (shift * DRIFT_B_TOL)
    reasons = inconclusive_reasons(fit(), drift=drift)
    assert bool(reasons) is inconclusive
    if inconclusive:
        assert reasons == [f"the run's calibration drifted {drift:.2f}x around it, enough to "
                           f"move b by {shift * DRIFT_B_TOL:.2f} (> {DRIFT_B_TOL:g})"]
    # the same drift over a series ten times wider is absorbed
    assert inconclusive_reasons(fit(span=SPAN * 10), drift=drift) == []


def test_non_monotone_rounds_from_a_busy_machine_hit_the_grid_bound():
    """Five sizes, the last one 9x slower for no reason of the algorithm: b runs to 4."""
    rng = np.random.default_rng(0)
    sizes = np.array([25, 50, 100, 200, 400.0])
    medians = np.array([1.0, 0.8, 1.1, 1.0, 9.0])
    t = (medians[:, None] * rng.uniform(0.95, 1.05, (5, 5))).ravel()
    result = fit_power_law(np.repeat(sizes, 5), t, n_boot=100)
    assert result.b == 4.0
    assert "b = 4.00 is the b-grid's upper bound 4" in inconclusive_reasons(result)


def test_zig_zag_medians_with_tight_rounds_are_inconclusive():
    rng = np.random.default_rng(0)
    sizes = np.array([25, 50, 100, 200, 400.0])
    medians = np.array([1.0, 1.6, 1.2, 2.2, 1.5])
    t = (medians[:, None] * rng.uniform(0.95, 1.05, (5, 5))).ravel()
    result = fit_power_law(np.repeat(sizes, 5), t, n_boot=100)
    assert result.b_hi - result.b_lo < 0.1            # the rounds alone look decisive
    assert any("scatter" in r for r in inconclusive_reasons(result))


def test_a_clean_power_law_has_a_scatter_interval_near_its_rounds_interval():
    rng = np.random.default_rng(1)
    sizes = np.geomspace(100, 10_000, 5)
    t = ((5.0 + sizes / 100)[:, None] * rng.uniform(0.95, 1.05, (5, 5))).ravel()
    result = fit_power_law(np.repeat(sizes, 5), t, n_boot=100)
    assert inconclusive_reasons(result) == []
    assert result.b_lo_scatter <= 1.0 <= result.b_hi_scatter


# -- a synthetic run with one disturbed series ----------------------------------------------

@pytest.fixture(scope="module")
def disturbed(tmp_path_factory, disturbed_doc, write_input):
    root = tmp_path_factory.mktemp("disturbed")
    path = write_input(root / "busy.json", disturbed_doc)
    result = build_report([path], root / "out", n_boot=100)
    return result, root / "out"


def draws_key(frame):
    return next(rows for key, rows in sweep_series(frame)
                if key[1] == "fit" and key[5] == "num_samples")


def test_fixture_slowdown_matches(disturbed_doc):
    calib = [b["stats"]["median"] for b in disturbed_doc["benchmarks"]
             if b["group"] == "calibration"]
    assert calib[2] / calib[0] == pytest.approx(SLOWDOWN, rel=1e-12)


def test_calibration_drift_around_each_series(disturbed):
    frame = disturbed[0]["frame"]
    assert calibration_drift(frame, draws_key(frame)) == pytest.approx(SLOWDOWN, rel=1e-12)
    others = [rows for key, rows in sweep_series(frame)
              if not (key[1] == "fit" and key[5] == "num_samples")]
    assert len(others) == 9
    assert all(calibration_drift(frame, rows) == pytest.approx(1.0, rel=1e-12)
               for rows in others)


def test_without_calibrations_around_it_a_series_has_no_drift(frame):
    # the committed fixture has one calibration: nothing to compare it with
    assert calibration_drift(frame, draws_key(frame)) == 1.0


def test_exponents_table_says_inconclusive_for_the_disturbed_series(disturbed):
    result, out = disturbed
    exps = result["exponents"]
    why = exps.set_index(["phase", "method", "axis"])["inconclusive"]
    shift = math.log(SLOWDOWN) / math.log(SPAN)
    assert why[("fit", "nuts", "num_samples")] == (
        f"the run's calibration drifted {SLOWDOWN:.2f}x around it, enough to move b by "
        f"{shift:.2f} (> {DRIFT_B_TOL:g})")
    # only the disturbed series names the drift; the overhead-bound NUTS fit vs n (naive
    # slope 0.12) is inconclusive by its interval, as in the undisturbed fixture
    others = why.drop(("fit", "nuts", "num_samples"))
    assert not others.str.contains("drifted").any()
    assert set(others[others != ""].index) == {("fit", "nuts", "n_train")}
    rows = md_rows((out / "tables" / "exponents.md").read_text(encoding="utf-8"))
    row = find(rows, Phase="fit", Method="nuts", Axis="num_samples")
    assert row["b [95% CI]"] == "inconclusive"
    assert row["Inconclusive because"] == why[("fit", "nuts", "num_samples")]
    assert row["Flag"] == "-"
    assert row["Calibration drift"] == f"{SLOWDOWN:.2f}"
    # work is a count, not a time: the drift does not touch it
    assert row["b work [95% CI]"] == "1.00 [1.00, 1.00]"
    assert sum(r["b [95% CI]"] == "inconclusive" for r in rows) == 2


def test_readme_headline_says_inconclusive_not_a_growth_law(disturbed):
    _, out = disturbed
    readme = (out / "README.md").read_text(encoding="utf-8")
    line = next(li for li in readme.splitlines() if li.startswith("- NUTS fit time vs S"))
    assert "**inconclusive**" in line and f"drifted {SLOWDOWN:.2f}x" in line
    assert "fit time grows as S^" not in readme
    assert "NN fit time grows as n^" in readme            # the undisturbed sweeps still read


def test_figure_legend_says_inconclusive_and_draws_no_fit(disturbed):
    result, _ = disturbed
    fig = sweep_figure(result["frame"], result["exponents"], phase="fit", axis="num_samples",
                       title="t", per_work=True)
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert len(texts) == 1
    assert "b inconclusive" in texts[0] and f"drifted {SLOWDOWN:.2f}x" in texts[0]
    assert "b=" not in texts[0]
    dashed = [ln for ax in fig.axes for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert dashed == []


def test_undisturbed_fixture_draws_the_fit(frame):
    exps = exponent_table(frame, n_boot=50)
    fig = sweep_figure(frame, exps, phase="fit", axis="num_samples", title="t", per_work=True)
    (text,) = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "b=1.0" in text and "inconclusive" not in text
    assert [ln.get_linestyle() for ln in fig.axes[0].get_lines()].count("--") == 1


# -- the fit-vs-draws figure and table --------------------------------------------------------

def test_every_measured_x_is_labelled(frame):
    fig = sweep_figure(frame, None, phase="fit", axis="num_samples", title="t", per_work=True)
    fig.canvas.draw()
    for ax in fig.axes:
        assert [t.get_text() for t in ax.get_xticklabels()] == ["50", "100", "200", "400",
                                                                "800"]
    fig = sweep_figure(frame, None, phase="fit", axis="n_train", title="t")
    fig.canvas.draw()
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == [
        "100", "300", "1000", "3000", "10000"]


def model_ms_per_eval(s: int) -> float:
    """The fixture's cost model of a NUTS fit: 0.5 s + 0.38 ms per leapfrog step, with
    255 steps per draw over 100 warm-up draws and S draws."""
    work = 255 * (100 + s)
    return 1e3 * (0.5 + work * 3.8e-4) / work


def test_time_per_gradient_evaluation_in_table_and_figure(frame):
    # rounds carry +-7 % noise around the model, so the median is within 7 % of it
    table = fit_table(frame)
    draws = table[table["axis"] == "num_samples"].sort_values("num_samples")
    expected = [model_ms_per_eval(s) for s in (50, 100, 200, 400, 800)]
    assert draws["ms_per_grad_eval"].to_numpy() == pytest.approx(expected, rel=0.07)
    fig = sweep_figure(frame, None, phase="fit", axis="num_samples", title="t", per_work=True)
    panel = fig.axes[1]
    assert "per gradient evaluation" in panel.get_ylabel()
    (container,) = panel.containers
    line = container.lines[0]
    assert list(line.get_xdata()) == [50, 100, 200, 400, 800]
    assert line.get_ydata() == pytest.approx(expected, rel=0.07)
    # and far from the whole fit time, which grows 4x over the same S
    assert max(line.get_ydata()) / min(line.get_ydata()) < 1.2


def test_report_loads_without_warnings(disturbed_doc, tmp_path, write_input):
    path = write_input(tmp_path / "busy.json", disturbed_doc)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = load_runs([path])
    assert (frame["phase"] == "calibration").sum() == 4
