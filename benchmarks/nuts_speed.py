"""NUTS speed: per gradient against NumPyro, SVI per step, the 4-chain iris run, 2 processes
against 1, torch.compile's break-even, a profile.

Not collected by pytest (no ``test_`` prefix). One torch/XLA thread per process; ratios are
taken from rounds interleaved in one process, so a busy neighbour slows every side alike.

    python benchmarks/nuts_speed.py ratios [--rounds 5] [--model-nuts] [--nuts-only]
        [--vec-only] [--activation relu --depth 7 --iters 30]
    # the issue's setting (tanh 20-50-20, depth 6, 100 + 100):
    python benchmarks/nuts_speed.py ratios --vec-only --depth 6 --iters 100 --rounds 5
    python benchmarks/nuts_speed.py iris --variant before|seq|2proc|4proc|vec1proc|vec2proc
    python benchmarks/nuts_speed.py parallel [--rounds 3 --chains 4 --depth 6 --iters 50]
    python benchmarks/nuts_speed.py compile
    python benchmarks/nuts_speed.py profile [--chain-method vectorized|pyro --chains 2]
        [--depth 6 --iters 50]

``iris`` is 4 chains x (300 warmup + 300 draws), depth 7, relu 20-50-20, N(0, 1) prior,
``bc.load_dataset("iris", seed=0)``; ``before`` is the old path (autograd gradient,
chains one after another), ``seq``/``2proc``/``4proc`` Pyro's kernel (``chain_method="pyro"``)
with ``n_jobs`` 1, 2, 4; ``vec1proc``/``vec2proc``: the default vectorised sampler, the 4
chains in one batch in one process, or 2 processes x 2 batched chains.
``ratios`` also times the vectorised NUTS with K = 1, 2, 4 chains in one batch, per
chain-gradient computed (K per batched call, the lockstep waste included), against NumPyro
single-chain and NumPyro ``chain_method="vectorized"`` with 4 chains (per chain-gradient its
``vmap`` computes: 4 x the longest tree per iteration), NumPyro in its fastest CPU mode
(``bnncompare.peers.numpyro_nuts.MODE``); ``ratio_ours_over_numpyro`` < 1 means ours is
faster. Every mode prints one JSON object per result.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
import warnings

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")

import torch

import bnncompare as bc
from bnncompare import net, peers
from bnncompare.methods._chains import ChainSettings, run_batch, run_chains
from bnncompare.methods._potential import value_and_grad

HIDDEN = (20, 50, 20)


def _iris(activation: str):
    ds = bc.load_dataset("iris", seed=0)
    spec = net.MLPSpec(ds.n_features, ds.n_classes, HIDDEN, activation)
    return ds, spec, torch.as_tensor(ds.x_train), torch.as_tensor(ds.y_train)


def _emit(**record) -> None:
    print(json.dumps(record), flush=True)


def _timed(fn) -> tuple[float, int]:
    start = time.perf_counter()
    units = fn()
    return time.perf_counter() - start, units


def ratios(args) -> None:
    """Per-gradient NUTS and per-step SVI, every implementation in each round, interleaved."""
    ds, spec, x, y = _iris(args.activation)
    iters, depth, steps, calls = args.iters, args.depth, args.svi_steps, 200

    def ours_nuts(manual=True):
        settings = ChainSettings(spec, 1.0, iters, iters, depth, 0.8, 0, lean=manual)
        return lambda: run_chains(settings, x, y, 1, 1)[0].grad_evals

    work = {
        "nuts/bnncompare": ours_nuts(True),
        "nuts/bnncompare-autograd (before)": ours_nuts(False),
        "nuts/grad-only (hand-written)": lambda: peers.manual_grad_calls(spec, x, y, 1.0, calls),
        "nuts/torch-floor (autograd)": lambda: peers.potential_grad_floor(spec, x, y, 1.0, calls),
        "svi/bnncompare": lambda: bc.SVIClassifier(
            hidden_sizes=HIDDEN, activation=args.activation, num_steps=steps,
            random_state=0).fit(ds.x_train, ds.y_train).n_grad_evals_,
        "svi/pyro-tutorial": lambda: peers.tutorial_svi_steps(spec, x, y, 1.0, steps),
        "svi/bbb-floor": lambda: peers.bbb_floor_steps(spec, x, y, 1.0, steps),
    }
    if args.nuts_only:
        work = {k: v for k, v in work.items() if k.startswith("nuts/")}
    if args.vec_only:
        work = {}
    settings = ChainSettings(spec, 1.0, iters, iters, depth, 0.8, 0)
    for k in (1, 2, 4):
        # units: chain-gradients computed (K per batched call)
        work[f"nuts/vectorized K={k}"] = lambda k=k: k * run_batch(
            settings, x, y, list(range(k)))[0].grad_evals
    if args.model_nuts:
        work["nuts/pyro-model-nuts"] = lambda: peers.tutorial_nuts(spec, x, y, 1.0, iters,
                                                                   iters, depth)
    if peers.numpyro_available() and not args.no_numpyro:
        runner = peers.numpyro_nuts(spec, ds.x_train, ds.y_train, 1.0, iters, iters, depth)
        work["nuts/numpyro (warm)"] = runner.run
        vec = peers.numpyro_nuts(spec, ds.x_train, ds.y_train, 1.0, iters, iters, depth,
                                 num_chains=4)
        work["nuts/numpyro-vectorized K=4 (warm)"] = lambda: (vec.run(), vec.lockstep_steps())[1]
        _emit(what="numpyro_compile_s", value=runner.compile_s, vectorized_4=vec.compile_s)
    per_unit: dict[str, list[float]] = {k: [] for k in work}
    for _ in range(args.rounds):
        for name, fn in work.items():
            seconds, units = _timed(fn)
            per_unit[name].append(seconds / units)
    for name, values in per_unit.items():
        _emit(what="per_unit_ms", name=name, median=1e3 * statistics.median(values),
              rounds=[round(1e3 * v, 4) for v in values])
    for task, ours in (("nuts", "nuts/bnncompare"), ("svi", "svi/bnncompare")):
        for name, values in per_unit.items():
            if name.startswith(task + "/") and name != ours and ours in per_unit:
                ratio = statistics.median(v / o for v, o in zip(values, per_unit[ours],
                                                                strict=True))
                _emit(what="ratio_peer_over_ours", task=task, peer=name, ratio=ratio)
    _vectorized_ratios(per_unit)


def _vectorized_ratios(per_unit: dict[str, list[float]]) -> None:
    """Vectorised NUTS per chain-gradient over NumPyro's, round by round (median)."""
    pairs = [(f"nuts/vectorized K={k}", "nuts/numpyro (warm)") for k in (1, 2, 4)]
    pairs.append(("nuts/vectorized K=4", "nuts/numpyro-vectorized K=4 (warm)"))
    for ours, theirs in pairs:
        if ours in per_unit and theirs in per_unit:
            ratio = statistics.median(o / t for o, t in zip(per_unit[ours], per_unit[theirs],
                                                            strict=True))
            _emit(what="ratio_ours_over_numpyro", ours=ours, numpyro=theirs, ratio=ratio)


def iris(args) -> None:
    """The reference-grade 4-chain iris run, one variant per call (run variants side by side
    on a machine with spare cores, or one after another)."""
    ds = bc.load_dataset("iris", seed=0)
    kwargs = dict(hidden_sizes=HIDDEN, activation="relu", num_warmup=300, num_samples=300,
                  num_chains=4, max_tree_depth=7, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        start = time.perf_counter()
        if args.variant == "before":
            _, spec, x, y = _iris("relu")
            settings = ChainSettings(spec, 1.0, 300, 300, 7, 0.8, 0, lean=False)
            results = run_chains(settings, x, y, 4, 1)
            grads, diag = sum(r.grad_evals for r in results), {}
        else:
            n_jobs, method = VARIANTS[args.variant]
            est = bc.NUTSClassifier(n_jobs=n_jobs, chain_method=method, **kwargs)
            est.fit(ds.x_train, ds.y_train)
            grads, diag = est.n_grad_evals_, est.diagnostics_
            diag = {**diag, "useful_grad_evals": est.n_useful_grad_evals_,
                    "batched_grad_calls": est.n_batched_grad_calls_}
        wall = time.perf_counter() - start
    cores = VARIANTS.get(args.variant, (1, ""))[0]
    _emit(what="iris_4chain", variant=args.variant, wall_s=wall, grad_evals=grads,
          ms_per_grad_per_chain_core=1e3 * wall / grads * min(4, cores), diagnostics=diag,
          load_average=os.getloadavg())


# iris variants: (n_jobs, chain_method)
VARIANTS = {"seq": (1, "pyro"), "2proc": (2, "pyro"), "4proc": (4, "pyro"),
            "vec1proc": (1, "vectorized"), "vec2proc": (2, "vectorized")}


def parallel(args) -> None:
    """``--chains`` vectorised chains (default 4; iris, tanh, ``--iters`` + ``--iters``,
    ``--depth``) on 2 processes (``n_jobs=2``: two batches of half the chains) against one
    process (``n_jobs=1``: one batch), interleaved rounds: the wall-time ratio 2 processes /
    1 process (goal <= 0.6 on 2 cores; the fork and the transfer of the draws included)."""
    ds = bc.load_dataset("iris", seed=0)
    kwargs = dict(hidden_sizes=HIDDEN, activation=args.activation, num_warmup=args.iters,
                  num_samples=args.iters, num_chains=args.chains, max_tree_depth=args.depth,
                  random_state=0)
    walls: dict[int, list[float]] = {1: [], 2: []}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for _ in range(args.rounds):
            for n_jobs in (1, 2):
                seconds, _ = _timed(lambda n_jobs=n_jobs: bc.NUTSClassifier(
                    n_jobs=n_jobs, **kwargs).fit(ds.x_train, ds.y_train).n_grad_evals_)
                walls[n_jobs].append(seconds)
    _emit(what="parallel_vectorized", chains=args.chains, one_process_s=walls[1],
          two_processes_s=walls[2], load_average=os.getloadavg(),
          ratio_median=statistics.median(p / s for p, s in zip(walls[2], walls[1],
                                                                strict=True)))


def compile_break_even(args) -> None:
    """``torch.compile`` of the hand-written value+gradient: compile time, per-call time
    compiled vs eager, and the number of gradient evaluations at which compiling pays."""
    _, spec, x, y = _iris(args.activation)
    eager = value_and_grad(spec, x, y, 1.0)
    theta = net.init_theta(spec, torch.Generator().manual_seed(0))
    compiled = torch.compile(eager, dynamic=False)
    compile_s, _ = _timed(lambda: compiled(theta))
    torch.testing.assert_close(compiled(theta)[1], eager(theta)[1], rtol=1e-4, atol=1e-4)
    per_call: dict[str, list[float]] = {"eager": [], "compiled": []}
    for _ in range(args.rounds):
        for name, fn in (("eager", eager), ("compiled", compiled)):
            seconds, _ = _timed(lambda fn=fn: [fn(theta) for _ in range(500)])
            per_call[name].append(seconds / 500)
    eager_s, compiled_s = (statistics.median(per_call[k]) for k in ("eager", "compiled"))
    saved = eager_s - compiled_s
    _emit(what="compile", compile_s=compile_s, eager_ms=1e3 * eager_s,
          compiled_ms=1e3 * compiled_s,
          break_even_grad_evals=compile_s / saved if saved > 0 else None)


def profile(args) -> None:
    """cProfile of the estimator in this process (iris, ``--activation``, ``--depth``,
    ``--iters`` + ``--iters``), one chain or ``--chains`` (vectorised: one batch)."""
    ds = bc.load_dataset("iris", seed=0)
    est = bc.NUTSClassifier(hidden_sizes=HIDDEN, activation=args.activation,
                            num_warmup=args.iters, num_samples=args.iters,
                            max_tree_depth=args.depth, random_state=0, n_jobs=1,
                            num_chains=args.chains, chain_method=args.chain_method)
    prof = cProfile.Profile()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        prof.enable()
        est.fit(ds.x_train, ds.y_train)
        prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out).sort_stats("tottime")
    stats.print_stats(25)
    _emit(what="profile", grad_evals=est.n_grad_evals_, fit_s=est.fit_time_s_)
    print(out.getvalue())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["ratios", "iris", "parallel", "compile", "profile"])
    parser.add_argument("--variant", choices=["before", "seq", "2proc", "4proc", "vec1proc",
                                              "vec2proc"], default="seq")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--svi-steps", type=int, default=200)
    parser.add_argument("--activation", default="tanh")
    parser.add_argument("--depth", type=int, default=5)
    parser.add_argument("--model-nuts", action="store_true")
    parser.add_argument("--nuts-only", action="store_true")
    parser.add_argument("--chain-method", default="vectorized",
                        choices=["vectorized", "pyro"], help="profile")
    parser.add_argument("--chains", type=int, default=None,
                        help="profile (default 1), parallel (default 4)")
    parser.add_argument("--vec-only", action="store_true",
                        help="only the vectorised NUTS and NumPyro (ratios)")
    parser.add_argument("--no-numpyro", action="store_true")
    args = parser.parse_args(argv)
    if args.chains is None:
        args.chains = 4 if args.mode == "parallel" else 1
    torch.set_num_threads(1)
    {"ratios": ratios, "iris": iris, "parallel": parallel, "compile": compile_break_even,
     "profile": profile}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
