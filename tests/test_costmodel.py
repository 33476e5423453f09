"""Cost model (bnncompare.costmodel) and ``bnncompare estimate``: known answers on a synthetic
run whose times follow a + b * units exactly up to a known noise, the held-out error ~ that
noise, the estimate's refusals, exit codes and --json keys."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from synthetic_runs import NUTS_PER_ITERATION, TRUE, size_run, write_run

from bnncompare import costmodel
from bnncompare.cli import main
from bnncompare.report import load_runs

NOISE = 0.05


def _frame(tmp_path, noise=NOISE, seed=0):
    path = write_run(tmp_path / f"run-{noise}-{seed}.json", size_run(noise=noise, seed=seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a synthetic run has no calibration
        return load_runs([path]), path


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return _frame(tmp_path_factory.mktemp("cost"))


def test_fit_affine_exact():
    u = np.array([1e3, 1e4, 1e5, 1e6])
    assert costmodel.fit_affine(u, 0.2 + 3e-6 * u) == pytest.approx((0.2, 3e-6), rel=1e-9)


def test_fit_terms_recovers_an_elementwise_term():
    """Work per weight and per unit width at depth 2 (P ~ w**2, W ~ w): both recovered."""
    w = np.array([8, 16, 32, 64, 128, 256], float)
    p, width = 2 * w**2, 2 * w + 11
    y = 0.01 + 1e-6 * p + 3e-5 * width
    assert costmodel.fit_terms([p, width], y) == pytest.approx([0.01, 1e-6, 3e-5], rel=1e-6)


def test_fit_affine_keeps_constants_non_negative():
    a, b = costmodel.fit_affine([1, 2, 3, 4], [4.0, 3.0, 2.0, 1.0])
    assert a >= 0 and b == 0


def test_recovers_a_and_b_without_noise(tmp_path):
    df, _ = _frame(tmp_path, noise=0.0)
    models = costmodel.work_models(df)
    for (method, phase), (a, b) in TRUE.items():
        m = next(v for k, v in models.items() if k[1:] == (method, phase, "time"))
        assert m.a == pytest.approx(a, rel=0.1)  # a is small beside the largest cells
        assert m.b == pytest.approx(b, rel=0.03)
        assert m.loo_worst < 0.03  # only the 1 % spread of rounds about each median


def test_held_out_error_is_about_the_noise(run):
    """Each cell's level is off by exp(N(0, 0.05)): leave-one-size-out errors are of that
    size (median about 0.67 sd, worst a few sd), not of a wrong model's."""
    table = costmodel.cost_model_table(run[0])
    time = table[table["quantity"] == "time"]
    assert len(time) == 4
    assert (time["loo_median_abs_log"] < 3 * NOISE).all(), time
    assert (time["loo_worst_abs_log"] < 6 * NOISE).all(), time
    assert np.allclose(time["loo_worst_factor"], np.exp(time["loo_worst_abs_log"]))


def test_memory_model_recovers_its_constants(run):
    models = costmodel.work_models(run[0])
    mem = [v for k, v in models.items() if k[3] == "peak_mb"]
    assert len(mem) == 4
    for m in mem:
        assert m.a == pytest.approx(0.5, rel=1e-3) and m.b == pytest.approx(4e-6, rel=1e-3)


def test_estimate_known_answer_inside_the_measured_range(run):
    """nn at a measured shape: the estimate is the true a + b * units within the noise."""
    est = costmodel.estimate(run[0], "nn", n_train=1000, n_features=8, n_classes=3,
                             hidden=(16, 16), num_samples=10, n_test=500)
    p = 8 * 16 + 16 + 16 * 16 + 16 + 16 * 3 + 3
    a, b = TRUE[("nn", "fit")]
    assert est.n_grad_evals == 100 and est.n_params == p
    assert est.fit_s == pytest.approx(a + b * 100 * 1000 * p, rel=3 * NOISE)
    assert est.fit_s_lo < est.fit_s < est.fit_s_hi
    a, b = TRUE[("nn", "predict")]
    assert est.predict_s == pytest.approx(a + b * 1 * 500 * p, rel=3 * NOISE)  # NN: 1 draw
    assert est.extrapolates == []
    assert est.params["num_epochs"] == 100  # the run's sweep settings


def test_estimate_nuts_grad_evals_per_iteration(run):
    est = costmodel.estimate(run[0], "nuts", n_train=300, n_features=8, n_classes=3,
                             hidden=(16, 16), params={"num_warmup": 100, "num_samples": 100})
    assert est.n_grad_evals == pytest.approx(200 * NUTS_PER_ITERATION, rel=0.03)
    assert est.params["num_samples"] == 100


def test_estimate_says_when_it_extrapolates(run):
    est = costmodel.estimate(run[0], "nn", n_train=100000, n_features=8, n_classes=3,
                             hidden=(256, 256))
    assert any(note.startswith("fit: work") for note in est.extrapolates)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"method": "svi"}, "no sweep cells of 'svi'"),
    ({"method": "nope"}, "unknown method"),
    ({"params": {"max_tree_depth": 7}}, "only at max_tree_depth=4"),
    ({"params": {"no_such_keyword": 1}}, "has no keyword"),
    ({"n_classes": 1}, "n_classes must be"),
    ({"num_samples": 500}, "exceeds the 50 draws"),
])
def test_estimate_refuses(run, kwargs, message):
    args = {"method": "nuts", "n_train": 300, "n_features": 8, "n_classes": 3,
            "hidden": (16, 16), **kwargs}
    with pytest.raises(costmodel.CostModelError, match=message):
        costmodel.estimate(run[0], args.pop("method"), **args)


def _cli(path, *extra):
    return ["estimate", str(path), "--method", "nuts", "--n-train", "1000", "--n-features",
            "8", "--n-classes", "3", "--hidden", "32x32", *extra]


def test_cli_json_keys(run, capsys):
    assert main(_cli(run[1], "--num-samples", "20", "--n-test", "200", "--json")) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"fit_s", "fit_s_lo", "fit_s_hi", "predict_s", "peak_mb", "params"} <= set(out)
    assert out["fit_s_lo"] <= out["fit_s"] <= out["fit_s_hi"]
    assert out["params"]["hidden_sizes"] == [32, 32]


def test_cli_text(run, capsys):
    assert main(_cli(run[1], "--param", "num_warmup=60")) == 0
    out = capsys.readouterr().out
    assert "fit:" in out and "predict:" in out and "peak memory:" in out
    assert "num_warmup=60" in out and "given: num_warmup" in out


@pytest.mark.parametrize("extra", [("--param", "max_tree_depth=9"), ("--param", "nokey"),
                                   ("--hidden", "abc")])
def test_cli_refusals_exit_2_with_one_line(run, capsys, extra):
    assert main(_cli(run[1], *extra)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bnncompare estimate: error:") and "\n" not in err


def test_cli_bad_file_exit_2(tmp_path, capsys):
    assert main(_cli(tmp_path / "missing.json")) == 2
    assert "missing.json" in capsys.readouterr().err
