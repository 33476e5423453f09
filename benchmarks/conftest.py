"""pytest-benchmark harness: profile, one torch thread, provenance, shared data and timers.

Run with ``pytest benchmarks --benchmark-json out.json [--profile smoke|fast|full]
[--methods nn,svi]``. The profile (``BNNCOMPARE_PROFILE`` is only the option's default) becomes
one :class:`~bnncompare.profiles.Profile` object on ``config``; ``pytest_generate_tests`` builds
each sweep's cells from it and the registry. This directory only arranges and times calls into
``bnncompare``; the workloads themselves live in the library.
"""

from __future__ import annotations

import functools
import inspect
import os
import statistics
import subprocess

import pyro
import pytest
import torch

import bnncompare
from bnncompare import data
from bnncompare.evaluate import cost_summary, evaluate, grid_entropy, predict_ms_per_example
from bnncompare.memory import PeakMemory
from bnncompare.methods import METHODS, make_method
from bnncompare.profiles import SEED, Cell, Profile, default_profile_name, get_profile

_PROFILE_KEY = pytest.StashKey[Profile]()


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """Benchmarks run in one process: the test suite's ``-n 2`` (pyproject ``addopts``, for
    pytest-xdist) is switched off here, since pytest-benchmark disables itself under xdist and
    two timed processes would share the cores they are timing."""
    if hasattr(config.option, "numprocesses"):
        config.option.numprocesses = 0
        config.option.distload = False
        config.option.dist = "no"
    # a sweep started from inside an xdist worker (the test suite's subprocess runs) inherits
    # its PYTEST_XDIST_* variables, which make pytest-benchmark disable every benchmark
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        os.environ.pop(name, None)


def pytest_addoption(parser):
    group = parser.getgroup("bnncompare")
    group.addoption("--profile", default=None,
                    help="smoke | fast | full (default: $BNNCOMPARE_PROFILE or fast)")
    group.addoption("--methods", default=None,
                    help="comma-separated registered methods (default: all)")
    group.addoption("--seeds", default=None, type=int,
                    help="method seeds per quality cell (default: the profile's)")
    group.addoption("--device", default="cpu", choices=("cpu", "cuda"),
                    help="where the estimators run (default: cpu); cuda timings synchronise")
    group.addoption("--no-peak-memory", action="store_true",
                    help="do not measure peak memory (to time the cells without it)")
    group.addoption("--dataset", action="append", default=None, dest="bnn_datasets",
                    help="a quality dataset: a name or a .csv/.npz path (repeatable; replaces "
                         "the profile's quality datasets)")
    group.addoption("--hidden", default=None,
                    help="the quality cells' net, e.g. 50x50 (default: the profile's)")
    group.addoption("--label-column", default=None,
                    help="the label column of the --dataset CSV files (default: the last)")


def pytest_configure(config):
    # One thread, set before any work, so times are per-core and comparable across machines;
    # recorded in machine_info below.
    torch.set_num_threads(1)
    name = config.getoption("--profile") or default_profile_name()
    try:
        profile = get_profile(name, config.getoption("--methods"), config.getoption("--seeds"))
        if config.option.bnn_datasets or config.getoption("--hidden"):
            profile = profile.with_datasets(config.option.bnn_datasets,
                                            hidden=config.getoption("--hidden"),
                                            label_column=config.getoption("--label-column"))
        config.stash[_PROFILE_KEY] = profile
    except ValueError as err:
        raise pytest.UsageError(str(err)) from None
    if config.getoption("--device") == "cuda" and not torch.cuda.is_available():
        raise pytest.UsageError("--device cuda: torch sees no CUDA device")
    config.addinivalue_line("markers", "cells(kind): parametrise over the profile's cells")
    # Method health is recorded in extra_info (r_hat_max, divergences); no need to warn as well.
    config.addinivalue_line("filterwarnings", "ignore:NUTS diagnostics:RuntimeWarning")


def profile_of(config) -> Profile:
    """The run's one profile object."""
    return config.stash[_PROFILE_KEY]


def pytest_generate_tests(metafunc):
    """``@pytest.mark.cells("fit")``: one test per cell of ``Profile.<kind>_cells()``; the
    test's own arguments name the axes it receives (and so its JSON ``params``)."""
    marker = metafunc.definition.get_closest_marker("cells")
    if marker is None:
        return
    cells = getattr(profile_of(metafunc.config), f"{marker.args[0]}_cells")()
    axes = [a for a in inspect.signature(metafunc.function).parameters if a in Cell.__annotations__]
    for cell in cells:
        assert list(cell.params()) == axes, (cell, axes)  # a cell must match its test's axes
    metafunc.parametrize(axes, [list(c.params().values()) for c in cells],
                         ids=[c.id for c in cells])


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    """Drop a benchmark cut short before its first round (Ctrl-C or a time limit's SIGINT
    mid-cell) before pytest-benchmark writes the JSON: its empty stats would make the writer
    fail (``min()`` of no rounds) and lose every finished cell with it."""
    bench = getattr(session.config, "_benchmarksession", None)
    if bench is not None:
        bench.benchmarks[:] = [b for b in bench.benchmarks if b.stats.data]
    yield


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


def device_of(config) -> str:
    """``"cpu"`` or ``"cuda"`` (``--device``)."""
    return config.getoption("--device")


def pytest_benchmark_update_machine_info(config, machine_info):
    profile = profile_of(config)
    machine_info.update(torch=torch.__version__, pyro=pyro.__version__,
                        torch_threads=torch.get_num_threads(), device=device_of(config),
                        profile=profile.name, methods=list(profile.method_names),
                        bnncompare=bnncompare.__version__)
    if device_of(config) == "cuda":  # the gate refuses to compare runs of different devices
        machine_info.update(cuda_device_name=torch.cuda.get_device_name(0),
                            cuda_version=torch.version.cuda, cuda_driver=_cuda_driver())


def _cuda_driver() -> str | None:
    """The NVIDIA driver version (nvidia-smi), or None where it cannot be asked."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip().splitlines()[0] if out.strip() else None


def synchronised(fn, device: str):
    """``fn`` followed by ``torch.cuda.synchronize()`` on CUDA, so the timed call includes the
    kernels it queued (CUDA launches return before the work is done)."""
    if device != "cuda":
        return fn

    def call(*args, **kwargs):
        out = fn(*args, **kwargs)
        torch.cuda.synchronize()
        return out

    return call


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


@functools.cache
def load_data(name: str, n_train: int | None = None, n_test: int | None = None,
              n_features: int = 8, n_classes: int = 3,
              label_column: str | None = None) -> data.Dataset:
    """Session-wide dataset cache (fixed seed); only synthetic data is sized by the cell.
    ``name`` may be a file's path (a user's quality dataset)."""
    if name != "synthetic":
        kwargs = {} if label_column is None else {"label_column": label_column}
        return data.load_dataset(name, seed=SEED, **kwargs)
    return data.load_dataset(name, seed=SEED, n_train=n_train, n_test=n_test,
                             n_features=n_features, n_classes=n_classes)


def cell_data(profile: Profile, cell: Cell) -> data.Dataset:
    """The dataset of ``cell``: synthetic rows sized by the cell (or the profile's base); a
    quality dataset loaded from where its setting says (a user's file by its path)."""
    if cell.dataset != "synthetic":
        setting = next((q for q in profile.quality if q.dataset == cell.dataset), None)
        if setting is not None and setting.source is not None:
            return load_data(setting.source, label_column=setting.label_column)
        return load_data(cell.dataset)
    return load_data("synthetic", cell.n_train or profile.base_n_train,
                     cell.n_test or profile.base_n_test, profile.n_features, profile.n_classes)


def workload(params: dict, ds: data.Dataset, **more) -> dict:
    """Everything besides ``params`` that changes a cell's work: the exact estimator keywords
    and data sizes (the gate's benchmark identity)."""
    estimator = {k: list(v) if isinstance(v, tuple) else v for k, v in sorted(params.items())}
    return {"estimator": estimator, "n_train": int(ds.n_train), "n_test": int(ds.n_test),
            "n_features": int(ds.n_features), "n_classes": int(ds.n_classes), **more}


def budget_setting(method: str, params: dict) -> str:
    """The keywords that set ``method``'s compute budget, as fitted: ``"num_epochs=150"``
    (those ``scale_budget`` changes; empty for a method without a budget axis)."""
    cls = METHODS[method]
    full = {**cls().get_params(), **params}
    keys = [k for k, v in cls.scale_budget(full, 2.0).items() if full.get(k) != v]
    return ", ".join(f"{k}={full[k]}" for k in keys)


@pytest.fixture(scope="session")
def profile(request) -> Profile:
    return profile_of(request.config)


@pytest.fixture(scope="session", autouse=True)
def _warm_up(profile, device):
    """Fit and predict once with every method before anything is timed: the first call in a
    process pays torch's and Pyro's lazy initialisation (seen as a 15x first round)."""
    ds = load_data("iris")
    for method in profile.method_names:
        settings = {**METHODS[method].settings_for("test"), "hidden_sizes": (4,),
                    "activation": "tanh", "random_state": SEED}
        est = make_method(method, **settings, device=device).fit(ds.x_train, ds.y_train)
        est.predict_proba(ds.x_test)


@pytest.fixture(scope="session")
def device(request) -> str:
    return device_of(request.config)


@pytest.fixture(scope="session")
def peak_memory(request, device):
    """The session's :class:`~bnncompare.memory.PeakMemory`: ``mark`` (reset the kernel's
    peak resident set) in each round's setup, ``harvest`` (read it) in its teardown, both
    outside the timed call; ``--no-peak-memory`` turns it off."""
    enabled = not request.config.getoption("--no-peak-memory")
    with PeakMemory(device, enabled=enabled) as mem:
        yield mem


def record_peak(benchmark, mem: PeakMemory) -> None:
    """``extra_info["peak_mb"]``: the largest peak over the cell's measured calls (MiB above
    the baseline taken just before each; every fit round, a predict cell's warm-up round),
    and ``peak_memory``, what was measured."""
    peak = mem.take()
    if peak == peak:  # NaN: not measured (--no-peak-memory, or no /proc)
        benchmark.extra_info["peak_mb"] = peak
        benchmark.extra_info["peak_memory"] = mem.kind


@pytest.fixture
def time_fit(benchmark, profile, device, peak_memory):
    """Time ``fit`` with a fresh estimator per round; record quality, cost and theory."""

    def run(cell: Cell, *, axis: str, rounds: int, theory: float | None = None,
            theory_work: float | None = None):
        ds = cell_data(profile, cell)
        params = profile.fit_params(cell)
        benchmark.group = "fit"
        benchmark.extra_info.update(profile=profile.name, axis=axis, seed=SEED,
                                    method_seed=params["random_state"],
                                    workload=workload(params, ds))
        if theory is not None:  # sweeps only; single quality cells have no exponent
            benchmark.extra_info.update(theory_exponent=theory, theory_exponent_work=theory_work)
        fit = synchronised(lambda e: e.fit(ds.x_train, ds.y_train), device)
        first = [True]

        def setup():
            est = make_method(cell.method, **params, device=device)
            # freed heap pages are returned before the first round only: the round after
            # pays for faulting them in again (~3 %), the later rounds run as before
            peak_memory.mark(trim=first.pop() if first else False)
            return (est,), {}

        est = benchmark.pedantic(fit, rounds=rounds, setup=setup,
                                 teardown=lambda *_: peak_memory.harvest())
        record_peak(benchmark, peak_memory)
        benchmark.extra_info.update(evaluate(est, ds, seed=SEED))
        benchmark.extra_info.update(cost_summary(est, benchmark.stats.stats.median))
        if axis == "none":  # quality cells: the test-time cost column of the quality table
            benchmark.extra_info["predict_ms_per_example"] = predict_ms_per_example(
                est, ds.x_test)
            if ds.n_features == 2:  # the entropy map over the plane of a 2-D dataset
                benchmark.extra_info.update(grid_entropy(est, ds))
        if axis in ("none", "budget"):  # a point of the quality-vs-compute curve
            benchmark.extra_info["budget_setting"] = budget_setting(cell.method, params)
        return est

    return run


@functools.cache
def fitted_for_predict(profile: Profile, method: str, dataset: str, hidden: str,
                       device: str = "cpu", draws: int | None = None):
    """One fitted estimator per (method, training data) reused by every predict cell: predict
    time depends on S, n and P, not on how the weights were obtained. The training rows do
    not depend on ``n_test`` (synthetic test rows come from their own random stream). A method
    that draws at fit makes the largest S of the grid, or ``draws`` (the model-size cells: their
    one S, so a wide net's sampler is not run for draws no cell reads).
    Returns the estimator and its fit keywords."""
    cell = (Cell(method, dataset, hidden, num_samples=draws) if draws is not None else
            Cell(method, dataset, hidden, n_test=profile.base_n_test,
                 num_samples=max(profile.num_samples_grid)))
    params = profile.fit_params(cell)
    train = cell_data(profile, Cell(method, dataset, hidden))
    est = make_method(method, **params, device=device).fit(train.x_train, train.y_train)
    return est, params


@pytest.fixture
def time_predict(benchmark, profile, device, peak_memory):
    """Time ``predict_proba`` (the model average over S draws) of a fitted estimator."""

    def run(cell: Cell, *, axis: str, rounds: int):
        ds = cell_data(profile, cell)
        est, params = fitted_for_predict(profile, cell.method, cell.dataset, cell.hidden,
                                         device, cell.num_samples if axis == "n_params"
                                         else None)
        est.set_params(num_predictive_samples=cell.num_samples)
        # a method whose draws are fixed by the fit (a point estimate, an ensemble) does the
        # same work at every S: its prediction is flat in S
        theory = 0.0 if axis == "num_samples" and METHODS[cell.method].fixed_draws else 1.0
        benchmark.group = "predict"
        benchmark.extra_info.update(
            profile=profile.name, axis=axis, seed=SEED, theory_exponent=theory,
            workload=workload(params, ds, num_predictive_samples=cell.num_samples))
        calls = []

        def setup():  # the peak is measured on the untimed warm-up round: the same work
            calls.append(None)
            if len(calls) == 1:
                peak_memory.mark()
            return (ds.x_test,), {}

        def teardown(*_):
            if len(calls) == 1:
                peak_memory.harvest()

        benchmark.pedantic(synchronised(est.predict_proba, device), setup=setup,
                           teardown=teardown, rounds=rounds, warmup_rounds=1)
        record_peak(benchmark, peak_memory)
        benchmark.extra_info.update(evaluate(est, ds, seed=SEED))
        benchmark.extra_info["predict_ms_per_example"] = (
            1e3 * statistics.median(benchmark.stats.stats.data) / len(ds.x_test))

    return run
