"""Peers, side by side in one run: seconds per unit of work and ratios to bnncompare.

The seed's setting (iris, MLP 4-20-50-20-3, tanh, N(0, 1) prior). Three tasks:
``predict`` (S draws on the test rows), ``svi_step`` (one optimiser step), ``nuts_leapfrog``
(one gradient evaluation inside NUTS). ``ratio_vs_bnncompare`` > 1 means bnncompare is faster.
The NUTS ``bnncompare`` row is ``NUTSClassifier()``'s default path (the vectorised sampler,
one chain); ``bnncompare-vectorized`` is ``NUTSClassifier(chain_method="vectorized")`` with
``VEC_CHAINS`` chains in one batch in one process (one thread, like every row): its unit is
one chain's leapfrog step as computed (the batch's lockstep waste included), so its ratio to
``numpyro`` (single chain) is the per-gradient comparison with NumPyro, and
``numpyro-vectorized`` (NumPyro's ``chain_method="vectorized"``, the same chains, counted the
same way: every chain computed until the batch's longest tree ends) its like-for-like peer.
NumPyro runs in its fastest CPU mode, one jitted transition per iteration called from Python
(``bnncompare.peers.numpyro_nuts.MODE``, in the NumPyro rows' ``extra_info["numpyro_mode"]``).
Those rows are timed one after another, so each draws its own moment of a shared VM's speed
(single rows move by up to 1.5x between runs); ``bnncompare`` (1 chain) and
``bnncompare-vectorized`` therefore also run the matching NumPyro rows' work *in their own
rounds*, alternately before and after its timed call, and
records the per-round ratios in ``extra_info["side_by_side"]``: the per-gradient comparison
with both sides measured in the same seconds.
``laplace_fit-laplace-torch`` and ``sghmc_fit-posteriors`` time one fit of the field's own
library on our fitted ``LaplaceClassifier``/``SGHMCClassifier`` (its MAP net, its potential;
``bnncompare.peers.laplace_torch``/``posteriors_sghmc``) against the task's ``bnncompare`` row
(our same step) and record ``extra_info["tv_to_bnncompare"]``, the predictive TV between the
library and us on the test rows.
Each workload returns ``(work, workload)``: ``work()`` is timed and returns its units,
``workload`` (the peer's settings) goes to ``extra_info["workload"]``.
"""

from __future__ import annotations

import functools
import statistics
import time

import pytest
import torch
from conftest import load_data

from bnncompare import net, peers
from bnncompare.methods import NNClassifier, NUTSClassifier, SVIClassifier
from bnncompare.peers.numpyro_nuts import MODE as NUMPYRO_MODE
from bnncompare.profiles import SEED

HIDDEN = (20, 50, 20)
NUTS_DEPTH = 5
PEERS = [
    ("predict", "bnncompare"), ("predict", "pyro-predictive"), ("predict", "torch-floor"),
    ("svi_step", "bnncompare"), ("svi_step", "pyro-tutorial"), ("svi_step", "bbb-floor"),
    ("svi_step", "nn-step"),
    ("nuts_leapfrog", "bnncompare"), ("nuts_leapfrog", "pyro-model-nuts"),
    ("nuts_leapfrog", "torch-floor"), ("nuts_leapfrog", "bnncompare-grad-only"),
    ("nuts_leapfrog", "numpyro"), ("nuts_leapfrog", "bnncompare-vectorized"),
    ("nuts_leapfrog", "numpyro-vectorized"),
    ("laplace_fit", "bnncompare"), ("laplace_fit", "laplace-torch"),
    ("sghmc_fit", "bnncompare"), ("sghmc_fit", "posteriors"),
]
VEC_CHAINS = 4
FLOOR_CALLS = 200


@functools.cache
def _context(profile):
    ds = load_data("iris")
    spec = net.MLPSpec(ds.n_features, ds.n_classes, HIDDEN, "tanh")
    x, y = torch.as_tensor(ds.x_train), torch.as_tensor(ds.y_train)
    svi = SVIClassifier(hidden_sizes=HIDDEN, activation="tanh", num_steps=profile.peer_steps,
                        random_state=SEED, num_predictive_samples=profile.peer_predict_samples)
    svi.fit(ds.x_train, ds.y_train)
    return ds, spec, x, y, svi


def _predict(profile, method):
    ds, spec, _, _, svi = _context(profile)
    theta = svi._draws(profile.peer_predict_samples)
    x_test = torch.as_tensor(ds.x_test)
    workload = {"S": profile.peer_predict_samples, "n_test": len(ds.x_test),
                "hidden": list(HIDDEN), "activation": "tanh"}
    if method == "bnncompare":
        return lambda: (svi.predict_proba(ds.x_test), 1)[1], workload
    if method == "pyro-predictive":
        model = peers.tutorial.TutorialBNN(spec, 1.0)
        samples = peers.weights_as_tutorial_samples(spec, theta)
        return lambda: (peers.predictive_loop(model, samples, x_test), 1)[1], workload
    layers = peers.floors.layer_tensors(spec, theta)
    return lambda: (peers.predict_floor(layers, x_test), 1)[1], workload


def _svi_step(profile, method):
    ds, spec, x, y, _ = _context(profile)
    steps = profile.peer_steps
    workload = {"steps": steps, "n_train": len(ds.x_train), "particles": 1,
                "hidden": list(HIDDEN), "activation": "tanh"}
    if method == "bnncompare":
        return lambda: SVIClassifier(
            hidden_sizes=HIDDEN, activation="tanh", num_steps=steps, random_state=SEED,
        ).fit(ds.x_train, ds.y_train).n_grad_evals_, workload
    if method == "nn-step":
        return lambda: NNClassifier(
            hidden_sizes=HIDDEN, activation="tanh", num_epochs=steps, random_state=SEED,
        ).fit(ds.x_train, ds.y_train).n_grad_evals_, workload
    if method == "pyro-tutorial":
        return lambda: peers.tutorial_svi_steps(spec, x, y, 1.0, steps), workload
    return lambda: peers.bbb_floor_steps(spec, x, y, 1.0, steps), workload


def _nuts_leapfrog(profile, method):
    ds, spec, x, y, _ = _context(profile)
    iters = profile.peer_nuts_iters
    workload = {"iters": iters, "warmup": iters, "max_tree_depth": NUTS_DEPTH, "chains": 1,
                "n_train": len(ds.x_train), "hidden": list(HIDDEN), "activation": "tanh"}
    if method == "bnncompare":  # the default path: the vectorised sampler, one chain
        return lambda: NUTSClassifier(
            hidden_sizes=HIDDEN, activation="tanh", num_warmup=iters, num_samples=iters,
            max_tree_depth=NUTS_DEPTH, random_state=SEED).fit(ds.x_train, ds.y_train)\
            .n_grad_evals_, {**workload, "chain_method": "vectorized (default)"}
    if method == "bnncompare-vectorized":
        return lambda: NUTSClassifier(
            hidden_sizes=HIDDEN, activation="tanh", num_warmup=iters, num_samples=iters,
            max_tree_depth=NUTS_DEPTH, num_chains=VEC_CHAINS, chain_method="vectorized",
            n_jobs=1, random_state=SEED).fit(ds.x_train, ds.y_train).n_grad_evals_, \
            {**workload, "chains": VEC_CHAINS, "chain_method": "vectorized", "n_jobs": 1}
    if method == "pyro-model-nuts":
        return lambda: peers.tutorial_nuts(spec, x, y, 1.0, iters, iters, NUTS_DEPTH), workload
    floor_workload = {"calls": FLOOR_CALLS, "n_train": len(ds.x_train),
                      "hidden": list(HIDDEN), "activation": "tanh"}
    if method == "torch-floor":
        return lambda: peers.potential_grad_floor(spec, x, y, 1.0, FLOOR_CALLS), floor_workload
    if method == "bnncompare-grad-only":
        return lambda: peers.manual_grad_calls(spec, x, y, 1.0, FLOOR_CALLS), floor_workload
    if not peers.numpyro_available():
        pytest.skip("numpyro not installed (pip install 'bnncompare[peers]')")
    chains = VEC_CHAINS if method == "numpyro-vectorized" else 1
    work, compile_s = _numpyro_work(profile, chains)
    if chains > 1:
        workload = {**workload, "chains": chains, "chain_method": "vectorized"}
    return work, workload, {"compile_s": compile_s, "numpyro_mode": NUMPYRO_MODE}


@functools.cache
def _numpyro_work(profile, num_chains):
    """NumPyro's warm run and its compile seconds, built (compiled) once per session: the
    NumPyro rows and the side-by-side rounds share it. Units: leapfrog steps, or for
    vectorised chains the chain-gradients computed (every chain until the longest tree ends)."""
    ds, spec, *_ = _context(profile)
    iters = profile.peer_nuts_iters
    runner = peers.numpyro_nuts(spec, ds.x_train, ds.y_train, 1.0, iters, iters, NUTS_DEPTH,
                                num_chains=num_chains)
    if num_chains == 1:
        return runner.run, runner.compile_s

    def lockstep():
        runner.run()
        return runner.lockstep_steps()

    return lockstep, runner.compile_s


# rows whose rounds also run their peers' work, alternately before and after the timed call
SIDE_BY_SIDE_ROUNDS = 5
SIDE_BY_SIDE = {("nuts_leapfrog", "bnncompare"): {"numpyro": 1},
                ("nuts_leapfrog", "bnncompare-vectorized"): {"numpyro": 1,
                                                            "numpyro-vectorized": VEC_CHAINS}}


class _SideBySide:
    """Times each peer's work once per round of the benchmarked call: before it in even
    rounds (pedantic ``setup``), after it in odd ones (``teardown``)."""

    def __init__(self, profile, peer_chains: dict[str, int]):
        self.work = {peer: _numpyro_work(profile, chains)[0]
                     for peer, chains in peer_chains.items()}
        self.s_per_unit: dict[str, list[float]] = {peer: [] for peer in self.work}
        self.round = 0

    def _time_peers(self):
        for peer, work in self.work.items():
            start = time.perf_counter()
            units = work()
            self.s_per_unit[peer].append((time.perf_counter() - start) / units)

    def setup(self):
        if self.round % 2 == 0:
            self._time_peers()

    def teardown(self):
        if self.round % 2 == 1:
            self._time_peers()
        self.round += 1

    def record(self, ours_s_per_unit: list[float]) -> dict:
        """``extra_info["side_by_side"]``: per round, every side's seconds per unit, and per
        peer the median over rounds of ``peer / ours`` (> 1: bnncompare is faster)."""
        peers_out = {
            peer: {"s_per_unit": times,
                   "ratio_vs_bnncompare": statistics.median(
                       p / o for p, o in zip(times, ours_s_per_unit, strict=True))}
            for peer, times in self.s_per_unit.items()}
        return {"rounds": len(ours_s_per_unit), "order": "alternating, peers first in round 0",
                "s_per_unit": ours_s_per_unit, "peers": peers_out,
                "numpyro_mode": NUMPYRO_MODE}


@functools.cache
def _fitted(profile, cls):
    """Our estimator that the library rows of its task start from, fitted once per session."""
    ds = load_data("iris")
    return cls(hidden_sizes=HIDDEN, activation="tanh", random_state=SEED,
               **cls.settings_for("quality", profile.name)).fit(ds.x_train, ds.y_train)


def _library_fit(profile, method, task):
    """The field's libraries on our fitted estimator (its MAP net or its potential), one fit
    per round, with ``extra_info`` (``tv_to_bnncompare`` and the rest) from the peer module;
    the ``bnncompare`` row of the task times our own same step."""
    from bnncompare.methods import LaplaceClassifier, SGHMCClassifier
    from bnncompare.peers import laplace_torch, posteriors_sghmc
    cls, peer, library = {"laplace_fit": (LaplaceClassifier, laplace_torch, "laplace"),
                          "sghmc_fit": (SGHMCClassifier, posteriors_sghmc, "posteriors")}[task]
    ds, ours = load_data("iris"), _fitted(profile, cls)
    if method == "bnncompare":
        return peer.bnncompare_row(ours, ds.x_train, ds.y_train)
    pytest.importorskip(library, reason=f"{method} not installed (pip install 'bnncompare[peers]')")
    return peer.library_row(ours, ds.x_train, ds.y_train, ds.x_test)


UNITS = {"predict": "predict call", "svi_step": "step", "nuts_leapfrog": "leapfrog",
         "laplace_fit": "fit", "sghmc_fit": "fit"}
TASKS = {"predict": _predict, "svi_step": _svi_step, "nuts_leapfrog": _nuts_leapfrog,
         "laplace_fit": functools.partial(_library_fit, task="laplace_fit"),
         "sghmc_fit": functools.partial(_library_fit, task="sghmc_fit")}


@pytest.mark.parametrize(("task", "method", "dataset"),
                         [(task, method, "iris") for task, method in PEERS],
                         ids=[f"{task}-{method}" for task, method in PEERS])
def test_peers(benchmark, profile, task, method, dataset):
    benchmark.group = "peers"
    work, workload, *compile_s = TASKS[task](profile, method)
    benchmark.extra_info.update(profile=profile.name, axis="none", seed=SEED, unit=UNITS[task],
                                workload=workload)
    # predict calls are cheap: more rounds; the rest follow the profile's fit rounds
    rounds = profile.predict_rounds if task == "predict" else profile.fit_rounds
    side = None
    if (task, method) in SIDE_BY_SIDE and peers.numpyro_available():
        side = _SideBySide(profile, SIDE_BY_SIDE[task, method])
        # the peers' runners are warm (compiled and run twice when built): so is ours, and
        # a median of per-round ratios wants a few more rounds than a fit cell
        work()
        rounds = max(rounds, SIDE_BY_SIDE_ROUNDS)
    units = benchmark.pedantic(work, rounds=rounds, warmup_rounds=1 if task == "predict" else 0,
                               setup=side and side.setup, teardown=side and side.teardown)
    benchmark.extra_info["units_per_round"] = int(units)
    if side is not None:
        ours = [seconds / units for seconds in benchmark.stats.stats.data]
        benchmark.extra_info["side_by_side"] = side.record(ours)
    if compile_s and isinstance(compile_s[0], dict):  # a library row's findings
        benchmark.extra_info.update(compile_s[0])
    elif compile_s:
        benchmark.extra_info["compile_s"] = compile_s[0]
