"""pytest-benchmark harness: profile, one torch thread, provenance, shared data and timers.

Run with ``pytest benchmarks --benchmark-json out.json`` (``BNNCOMPARE_PROFILE=smoke|fast|full``,
default ``fast``). This directory only arranges and times calls into ``bnncompare``; the
workloads themselves live in the library (``bnncompare.methods``, ``bnncompare.peers``).
"""

from __future__ import annotations

import functools
import statistics

import pyro
import pytest
import torch

import bnncompare
from bnncompare import data
from bnncompare.evaluate import cost_summary, evaluate, predict_ms_per_example
from bnncompare.methods import make_method
from bnncompare.profiles import SEED, Cell, current_profile

PROFILE = current_profile()
#: benchmark params in JSON order; every fit/predict test takes all of them
AXES = "method,dataset,n_train,n_test,num_samples,hidden"


def pytest_configure(config):
    # One thread, set before any work, so times are per-core and comparable across machines;
    # recorded in machine_info below.
    torch.set_num_threads(1)
    # NUTS health is recorded in extra_info (r_hat_max, divergences); no need to warn as well.
    config.addinivalue_line("filterwarnings", "ignore:NUTS diagnostics:RuntimeWarning")


def pytest_collection_modifyitems(session, config, items):
    """Calibration (every kind) first, halfway and last, whatever subset was selected."""
    calibration = {}
    for item in items:
        if item.originalname == "test_calibration":
            calibration.setdefault(item.callspec.params["position"], []).append(item)
    rest = [item for item in items if item.originalname != "test_calibration"]
    half = len(rest) // 2
    items[:] = [*calibration.get("start", []), *rest[:half], *calibration.get("middle", []),
                *rest[half:], *calibration.get("end", [])]


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info.update(torch=torch.__version__, pyro=pyro.__version__,
                        torch_threads=torch.get_num_threads(), device="cpu",
                        profile=PROFILE.name, bnncompare=bnncompare.__version__)


def pytest_benchmark_update_json(config, benchmarks, output_json):
    """Peers: seconds per unit of work, and the ratio to bnncompare's own time on that task."""
    # an entry cut short by Ctrl-C has no units_per_round: leave it without ratios
    peers = [b for b in output_json["benchmarks"]
             if b["group"] == "peers" and "units_per_round" in b["extra_info"]]
    for entry in peers:
        entry["extra_info"]["s_per_unit"] = (entry["stats"]["median"]
                                             / entry["extra_info"]["units_per_round"])
    ours = {b["params"]["task"]: b["extra_info"]["s_per_unit"] for b in peers
            if b["params"]["method"] == "bnncompare"}
    for entry in peers:
        base = ours.get(entry["params"]["task"])
        if base:
            entry["extra_info"]["ratio_vs_bnncompare"] = entry["extra_info"]["s_per_unit"] / base


def cells(grid: list[Cell]):
    """``pytest.param`` per cell with a readable id: ``synthetic-nuts-n1000-t500-S50-16x16``."""
    return [pytest.param(*c, id=f"{c.dataset}-{c.method}-n{c.n_train}-t{c.n_test}"
                                f"-S{c.num_samples}-{c.hidden}") for c in grid]


def load_data(name: str, n_train: int, n_test: int) -> data.Dataset:
    """Session-wide dataset cache (fixed seed); only synthetic data is sized by the cell."""
    if name == "synthetic":
        return _load(name, n_train, n_test)
    return _load(name, None, None)


@functools.cache
def _load(name: str, n_train: int | None, n_test: int | None) -> data.Dataset:
    if name != "synthetic":
        return data.load_dataset(name, seed=SEED)
    return data.load_dataset(name, seed=SEED, n_train=n_train, n_test=n_test,
                             n_features=PROFILE.n_features, n_classes=PROFILE.n_classes)


@pytest.fixture(scope="session")
def profile():
    return PROFILE


@pytest.fixture(scope="session", autouse=True)
def _warm_up():
    """Fit and predict once with every method before anything is timed: the first call in a
    process pays torch's and Pyro's lazy initialisation (seen as a 15x first round)."""
    ds = load_data("iris", 0, 0)
    tiny = {"nn": {"num_epochs": 5}, "svi": {"num_steps": 5},
            "nuts": {"num_warmup": 3, "num_samples": 3, "max_tree_depth": 2}}
    for method, settings in tiny.items():
        make_method(method, hidden_sizes=(4,), random_state=SEED, **settings).fit(
            ds.x_train, ds.y_train).predict_proba(ds.x_test)


@pytest.fixture
def time_fit(benchmark):
    """Time ``fit`` with a fresh estimator per round; record quality, cost and theory."""

    def run(cell: Cell, *, axis: str, rounds: int, theory: float | None = None,
            theory_work: float | None = None):
        ds = load_data(cell.dataset, cell.n_train, cell.n_test)
        params = PROFILE.estimator_params(cell)
        benchmark.group = "fit"
        benchmark.extra_info.update(profile=PROFILE.name, axis=axis, seed=SEED)
        if theory is not None:  # sweeps only; single quality cells have no exponent
            benchmark.extra_info.update(theory_exponent=theory, theory_exponent_work=theory_work)
        est = benchmark.pedantic(lambda e: e.fit(ds.x_train, ds.y_train), rounds=rounds,
                                 setup=lambda: ((make_method(cell.method, **params),), {}))
        benchmark.extra_info.update(evaluate(est, ds, seed=SEED))
        benchmark.extra_info.update(cost_summary(est, benchmark.stats.stats.median))
        if axis == "none":  # quality cells: the test-time cost column of the quality table
            benchmark.extra_info["predict_ms_per_example"] = predict_ms_per_example(
                est, ds.x_test)
        return est

    return run


@functools.cache
def fitted_for_predict(method: str, dataset: str, n_train: int, hidden: str, nuts_draws: int):
    """One fitted estimator per (method, training data) reused by every predict cell: predict
    time depends on S, n and P, not on how the weights were obtained. The training rows do
    not depend on ``n_test`` (synthetic test rows come from their own random stream)."""
    cell = Cell(method, dataset, n_train, PROFILE.base_n_test, nuts_draws, hidden)
    ds = load_data(dataset, n_train, PROFILE.base_n_test)
    est = make_method(method, **PROFILE.estimator_params(cell, nuts_draws=nuts_draws))
    return est.fit(ds.x_train, ds.y_train)


@pytest.fixture
def time_predict(benchmark):
    """Time ``predict_proba`` (the model average over S draws) of a fitted estimator."""

    def run(cell: Cell, *, axis: str, theory: float, rounds: int):
        ds = load_data(cell.dataset, cell.n_train, cell.n_test)
        est = fitted_for_predict(cell.method, cell.dataset, cell.n_train, cell.hidden,
                                 max(PROFILE.num_samples_grid))
        est.set_params(num_predictive_samples=cell.num_samples)
        benchmark.group = "predict"
        benchmark.extra_info.update(profile=PROFILE.name, axis=axis, seed=SEED,
                                    theory_exponent=theory)
        benchmark.pedantic(est.predict_proba, args=(ds.x_test,), rounds=rounds,
                           warmup_rounds=1)
        benchmark.extra_info.update(evaluate(est, ds, seed=SEED))
        benchmark.extra_info["predict_ms_per_example"] = (
            1e3 * statistics.median(benchmark.stats.stats.data) / len(ds.x_test))

    return run
