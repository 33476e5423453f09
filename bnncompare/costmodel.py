"""A cost model per method and phase, fitted on one run's sweep cells, that predicts before you pay.

Work models, in each method's own units (every quantity read from the benchmark JSON):

- fit: ``seconds ~ a + b * n_grad_evals * rows * P``: gradient evaluations (``n_grad_evals``:
  steps x particles, x members, ... for the fixed-step methods; whatever the sampler needed for
  NUTS) times the rows each one reads (``n_train``, or ``batch_size``) times the parameters P;
- predict: ``seconds ~ a + b * S * n_test * P``, S the predictive draws (a method whose draws
  are fixed by the fit, ``fixed_draws``, evaluates ``num_members`` or 1 weight vectors);
- both times add ``c * elements``: the same count with the sum of the layer widths in place of
  P (activations, biases, softmax: work per unit *width*, not per weight). At depth 2, P grows
  as width**2 but the elementwise work as width, and on the widths measured here (8-128) that
  term is a large part of predict: without it the predict exponent in P reads ~0.6, not 1;
- peak memory (``peak_mb``): ``MiB ~ a + b * floats``, floats = the activations the call
  holds (rows x the sum of the layer widths, x the vectorised members or chains; at predict
  at most ``net.chunk_size_for`` draws at once) plus the weight vectors it keeps (P x the
  draws made at fit, x members or chains; at predict P x S).

``a, b >= 0`` minimise the squared log residuals (iteratively reweighted least squares on
relative residuals, the log-normal fit of :mod:`bnncompare.report.complexity` with b fixed at 1).
Every sweep cell of the method (axes n_train, num_samples, n_test, n_params) is one point; the
held-out error leaves one size out at a time (each distinct shape: n_train, n_test, S, P),
refits, and scores ``|log(measured / predicted)|`` on the left-out size: its median and worst
are in ``tables/cost_model``, and the worst is the half-width of :func:`estimate`'s interval.

Gradient evaluations of a new setting: the run's measured evaluations per *iteration* times the
new setting's iterations, read from its keywords (epochs x batches per epoch, steps, particles,
members, warm-up + draws, 2 x draws x thin, chains). For a fixed-step method that is exactly
steps x particles; for NUTS it is the run's measured evaluations per iteration at that
``max_tree_depth`` (median, and the measured min..max widens the interval). A keyword that may
change the work per iteration (tree depth, target acceptance, chain method) must match a
measured cell, or the run cannot speak for it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bnncompare import net
from bnncompare.methods import METHODS

__all__ = ["COUNT_KEYS", "NEUTRAL_KEYS", "CostModelError", "Estimate", "WorkModel",
           "cost_model_table", "estimate", "fit_affine", "fit_terms", "fit_units", "iterations",
           "memory_floats", "predict_units", "sweep_cells", "work_models"]

#: keywords that only count repetitions of the same work: their effect is :func:`iterations`
COUNT_KEYS = frozenset({"num_epochs", "num_steps", "num_particles", "num_members", "num_warmup",
                        "num_samples", "thin", "num_chains", "batch_size", "num_cycles",
                        "num_predictive_samples"})
#: keywords that change neither the work per iteration nor its count (P comes from the shape)
NEUTRAL_KEYS = frozenset({"hidden_sizes", "random_state", "activation", "device", "lr",
                          "prior_scale", "prior_precision", "dropout", "friction", "n_jobs"})
SWEEP_AXES = ("n_train", "num_samples", "n_test", "n_params")
IRLS_STEPS = 4
MIN_CELLS = 3


class CostModelError(ValueError):
    """The run cannot speak for this method, shape or setting (the CLI exits 2)."""


@dataclass(frozen=True)
class WorkModel:
    """``y ~ a + b * units`` for one method, phase and quantity (``time`` s or ``peak_mb``)."""

    method: str
    phase: str
    quantity: str
    a: float
    b: float
    c: float  # per elementwise unit (times only; 0 for memory)
    n_cells: int
    units_min: float
    units_max: float
    loo_median: float  # held-out |log(measured / predicted)|, one size left out at a time
    loo_worst: float

    def predict(self, units: float, elements: float = 0.0) -> float:
        return self.a + self.b * units + self.c * elements


@dataclass
class Estimate:
    """What :func:`estimate` returns; :meth:`as_json` is the CLI's ``--json`` object."""

    method: str
    params: dict
    n_params: int
    n_grad_evals: float
    fit_s: float
    fit_s_lo: float
    fit_s_hi: float
    predict_s: float
    predict_s_lo: float
    predict_s_hi: float
    peak_mb: float | None
    peak_mb_fit: float | None
    peak_mb_predict: float | None
    machine: str
    extrapolates: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {k: (v if not isinstance(v, float) or math.isfinite(v) else None)
                for k, v in self.__dict__.items()}


# -- units -----------------------------------------------------------------------------------
def _rows_per_grad(params: dict, n_rows: int) -> int:
    bs = params.get("batch_size")
    return min(int(bs), n_rows) if bs else n_rows


def iterations(params: dict, n_rows: int) -> float:
    """Repetitions of one gradient's work that the keywords ask for (see the module docstring);
    1 for keywords this does not know, whose cost is then the measured cell's own."""
    it = 1.0
    if "num_epochs" in params:
        bs = params.get("batch_size")
        it *= params["num_epochs"] * (math.ceil(n_rows / bs) if bs else 1)
    for key in ("num_steps", "num_particles", "num_members", "num_chains"):
        it *= params.get(key) or 1
    if "num_warmup" in params:
        it *= params["num_warmup"] + params.get("num_samples", 0)
    elif "thin" in params and "num_samples" in params:  # cyclical SG-MCMC: burn-in + sampling
        it *= 2 * params["num_samples"] * params["thin"]
    return float(it)


def fit_units(n_grad_evals: float, params: dict, n_rows: int, n_params: int) -> float:
    """Gradient evaluations x rows per gradient x P."""
    return float(n_grad_evals) * _rows_per_grad(params, n_rows) * n_params


def _predict_draws(method: str, params: dict, num_samples: int | None) -> int:
    if METHODS[method].fixed_draws:
        return int(params.get("num_members") or 1)
    return int(num_samples or params.get("num_predictive_samples")
               or METHODS[method]._default_predictive_samples)


def predict_units(method: str, params: dict, n_test: int, num_samples: int | None,
                  n_params: int) -> float:
    """Draws evaluated x test rows x P."""
    return float(_predict_draws(method, params, num_samples)) * n_test * n_params


def memory_floats(method: str, phase: str, params: dict, spec: net.MLPSpec, n_rows: int,
                  num_samples: int | None = None) -> float:
    """Floats a call holds at its peak by the model of the module docstring."""
    width = sum(spec.widths)
    batch = (params.get("num_members") or 1) * (params.get("num_chains") or 1)
    if phase == "fit":
        draws = params.get(METHODS[method].fit_draws_param, 1) if METHODS[method].fit_draws_param \
            else 1
        return float(_rows_per_grad(params, n_rows) * width * batch
                     + spec.n_params * (draws or 1) * batch)
    s = _predict_draws(method, params, num_samples)
    return float(n_rows * width * min(s, net.chunk_size_for(spec, n_rows)) + spec.n_params * s)


# -- fitting ---------------------------------------------------------------------------------
def fit_affine(units, y) -> tuple[float, float]:
    """``a, b >= 0`` of ``y ~ a + b * units`` on relative (~log) residuals.

    Raises
    ------
    ValueError
        If fewer than 2 points, or any ``y <= 0`` or ``units < 0``.
    """
    u, y = np.asarray(units, float), np.asarray(y, float)
    if len(u) < 2 or np.any(y <= 0) or np.any(u < 0) or not np.all(np.isfinite(u)):
        raise ValueError("fit_affine needs >= 2 points with y > 0 and units >= 0")
    w = 1.0 / y**2
    for _ in range(IRLS_STEPS):
        a, b = _wls(u, y, w)
        w = 1.0 / np.maximum(a + b * u, 1e-300) ** 2
    return a, b


def _wls(u: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    sw, su, sy = w.sum(), w @ u, w @ y
    suu, suy = w @ (u * u), w @ (u * y)
    det = sw * suu - su**2
    if det > 0:
        a, b = (suu * sy - su * suy) / det, (sw * suy - su * sy) / det
        if a >= 0 and b >= 0:
            return float(a), float(b)
    only_b = suy / suu if suu > 0 else 0.0
    sse_b = w @ (y - only_b * u) ** 2
    sse_a = w @ (y - sy / sw) ** 2
    return (0.0, float(only_b)) if sse_b < sse_a else (float(sy / sw), 0.0)


def fit_terms(columns, y) -> np.ndarray:
    """Non-negative ``coef`` of ``y ~ coef[0] + sum_k coef[k + 1] * columns[k]`` on relative
    (~log) residuals: :func:`fit_affine` with more than one term (weighted NNLS, IRLS)."""
    from scipy.optimize import nnls

    y = np.asarray(y, float)
    x = np.column_stack([np.ones_like(y), *[np.asarray(c, float) for c in columns]])
    scale = np.maximum(np.abs(x).max(axis=0), 1e-300)  # columns of 1 and of 1e9 units
    w = 1.0 / y
    for _ in range(IRLS_STEPS):
        coef, _ = nnls(x / scale * w[:, None], y * w)
        w = 1.0 / np.maximum((x / scale) @ coef, 1e-300)
    return coef / scale


def _fit_model(units, elements, y) -> tuple[float, float, float]:
    if elements is None:
        return (*fit_affine(units, y), 0.0)
    a, b, c = fit_terms([units, elements], y)
    return float(a), float(b), float(c)


def _loo(shapes: list, units: np.ndarray, elements, y: np.ndarray) -> np.ndarray:
    """|log(measured / predicted)| of each point when its shape is left out of the fit."""
    errors = np.full(len(y), np.nan)
    for shape in dict.fromkeys(shapes):
        out = np.array([s == shape for s in shapes])
        if (~out).sum() < 2 or len(set(units[~out])) < 2:
            continue
        a, b, c = _fit_model(units[~out], None if elements is None else elements[~out],
                             y[~out])
        pred = a + b * units[out] + (0.0 if elements is None else c * elements[out])
        errors[out] = np.abs(np.log(y[out] / np.maximum(pred, 1e-300)))
    return errors[np.isfinite(errors)]


def sweep_cells(df: pd.DataFrame) -> pd.DataFrame:
    """The fit and predict sweep cells (``axis`` a swept size) that recorded a workload."""
    rows = df[df["phase"].isin(["fit", "predict"]) & df["axis"].isin(SWEEP_AXES)
              & df["workload"].notna()]
    return rows[rows["method"].isin(list(METHODS))]


def _cell_quantities(row: pd.Series) -> dict:
    """Units, memory floats, shape and full keywords of one benchmark row."""
    work = json.loads(row["workload"])
    method = row["method"]
    params = {**METHODS[method]().get_params(), **work["estimator"]}
    spec = net.MLPSpec(work["n_features"], work["n_classes"],
                       tuple(params.get("hidden_sizes") or ()))
    width = sum(spec.widths)
    if row["phase"] == "fit":
        n_rows, s = work["n_train"], None
        units = fit_units(row["n_grad_evals"], params, n_rows, spec.n_params)
        elements = fit_units(row["n_grad_evals"], params, n_rows, width)
    else:
        n_rows, s = work["n_test"], work.get("num_predictive_samples")
        units = predict_units(method, params, n_rows, s, spec.n_params)
        elements = predict_units(method, params, n_rows, s, width)
    return {"units": units, "elements": elements,
            "floats": memory_floats(method, row["phase"], params, spec, n_rows, s),
            "shape": (work["n_train"], work["n_test"], s, spec.n_params), "params": params,
            "n_rows": n_rows}


def _model(method: str, phase: str, quantity: str, shapes, units, elements,
           y) -> WorkModel | None:
    units, y = np.asarray(units, float), np.asarray(y, float)
    keep = (y > 0) & np.isfinite(y) & np.isfinite(units)
    units, y = units[keep], y[keep]
    elements = None if elements is None else np.asarray(elements, float)[keep]
    shapes = [s for s, k in zip(shapes, keep, strict=True) if k]
    if len(y) < MIN_CELLS or len(set(units)) < 2:
        return None
    a, b, c = _fit_model(units, elements, y)
    loo = _loo(shapes, units, elements, y)
    return WorkModel(method, phase, quantity, a, b, c, len(y), float(units.min()),
                     float(units.max()), float(np.median(loo)) if len(loo) else np.nan,
                     float(loo.max()) if len(loo) else np.nan)


def work_models(df: pd.DataFrame) -> dict[tuple[str, str, str, str], WorkModel]:
    """``{(machine, method, phase, quantity): WorkModel}`` from a run's sweep cells."""
    out = {}
    rows = sweep_cells(df)
    for (machine, method, phase), cells in rows.groupby(["machine", "method", "phase"],
                                                        sort=True):
        q = [_cell_quantities(r) for _, r in cells.iterrows()]
        shapes = [c["shape"] for c in q]
        peak = pd.to_numeric(cells["peak_mb"], errors="coerce").to_numpy(float)
        for quantity, units, elements, y in (
                ("time", [c["units"] for c in q], [c["elements"] for c in q], cells["median_s"]),
                ("peak_mb", [c["floats"] for c in q], None, peak)):
            model = _model(method, phase, quantity, shapes, units, elements, y)
            if model is not None:
                out[(machine, method, phase, quantity)] = model
    return out


def cost_model_table(df: pd.DataFrame) -> pd.DataFrame:
    """One row per machine, method, phase and quantity: the fitted ``a``, ``b`` (per unit),
    the cells and range of units it was fitted on, and its held-out error (leave one size out:
    median and worst ``|log(measured / predicted)|``, and the worst as a factor)."""
    cols = ["machine", "method", "phase", "quantity", "unit", "intercept", "per_unit",
            "per_element", "n_cells",
            "units_min", "units_max", "loo_median_abs_log", "loo_worst_abs_log",
            "loo_worst_factor"]
    records = []
    for (machine, *_), m in work_models(df).items():
        unit = {"time": {"fit": "grad evals·rows·P", "predict": "S·n_test·P"}[m.phase],
                "peak_mb": "floats held"}[m.quantity]
        records.append({"machine": machine, "method": m.method, "phase": m.phase,
                        "quantity": m.quantity, "unit": unit, "intercept": m.a,
                        "per_unit": m.b, "per_element": m.c,
                        "n_cells": m.n_cells, "units_min": m.units_min, "units_max": m.units_max,
                        "loo_median_abs_log": m.loo_median, "loo_worst_abs_log": m.loo_worst,
                        "loo_worst_factor": math.exp(m.loo_worst)
                        if math.isfinite(m.loo_worst) else np.nan})
    if not records:
        return pd.DataFrame(columns=cols)
    from bnncompare.report.tables import sort_methods  # the report builds on this module

    return sort_methods(pd.DataFrame.from_records(records, columns=cols),
                        ["machine", "method", "phase", "quantity"])


# -- estimate --------------------------------------------------------------------------------
def _sweep_params(cells: pd.DataFrame, method: str) -> dict:
    """The method's sweep keywords in the run (its n_train fit cells, else any fit cell)."""
    fits = cells[cells["phase"] == "fit"]
    first = fits[fits["axis"] == "n_train"] if (fits["axis"] == "n_train").any() else fits
    if first.empty:
        raise CostModelError(f"the run has no fit sweep cell of {method!r}")
    estimator = json.loads(first["workload"].iloc[0])["estimator"]
    return {k: v for k, v in estimator.items() if k not in ("hidden_sizes", "random_state")}


def _with_overrides(method: str, base: dict, overrides: dict) -> dict:
    known = METHODS[method]().get_params()
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        raise CostModelError(f"{method} has no keyword {unknown[0]!r} (it has "
                             f"{', '.join(sorted(known))})")
    return {**known, **base, **overrides}


def _per_iteration(cells: pd.DataFrame, params: dict) -> np.ndarray:
    """Measured gradient evaluations per iteration of the fit cells whose work-changing
    keywords equal ``params``'."""
    def key(p: dict) -> dict:
        return {k: v for k, v in p.items() if k not in COUNT_KEYS | NEUTRAL_KEYS}

    ratios, seen = [], []
    for _, row in cells[cells["phase"] == "fit"].iterrows():
        q = _cell_quantities(row)
        seen.append(key(q["params"]))
        if key(q["params"]) == key(params) and row["n_grad_evals"] > 0:
            ratios.append(row["n_grad_evals"] / iterations(q["params"], q["n_rows"]))
    if not ratios:
        want = key(params)
        diff = sorted({k for s in seen for k in want if s.get(k) != want[k]})
        measured = sorted({f"{k}={s.get(k)}" for s in seen for k in diff})
        raise CostModelError(f"the run measured {cells['method'].iloc[0]} only at "
                             f"{', '.join(measured)}; it cannot speak for "
                             f"{', '.join(f'{k}={want[k]}' for k in diff)}")
    return np.asarray(ratios, float)


def _check_shape(method: str, params: dict, n_train: int, n_features: int, n_classes: int,
                 num_samples: int) -> None:
    for name, value, low in (("n_train", n_train, 1), ("n_features", n_features, 1),
                             ("n_classes", n_classes, 2), ("num_samples", num_samples, 1)):
        if not isinstance(value, int) or value < low:
            raise CostModelError(f"{name} must be an integer >= {low}, got {value!r}")
    cls = METHODS[method]
    if cls.fit_draws_param and not cls.fixed_draws:
        kept = (params.get(cls.fit_draws_param) or 0) * (params.get("num_chains") or 1)
        if num_samples > kept:
            draws = f"{cls.fit_draws_param}={params.get(cls.fit_draws_param)}"
            raise CostModelError(f"num_samples={num_samples} exceeds the {kept} draws {method} "
                                 f"keeps with {draws}")


def _beyond(phase: str, what: str, value: float, lo: float, hi: float) -> list[str]:
    if value > hi * 1.0001:
        return [f"{phase}: {what} {value:.3g} is {value / hi:.3g}x the largest measured ({hi:.3g})"]
    if value < lo * 0.9999:
        return [f"{phase}: {what} {value:.3g} is below the smallest measured ({lo:.3g})"]
    return []


def _interval(model: WorkModel, units: list[float], elements: list[float]):
    """Point, low and high: ``units``/``elements`` at the (low, point, high) work, the ends
    widened by the model's worst held-out error."""
    spread = math.exp(model.loo_worst) if math.isfinite(model.loo_worst) else 1.0
    lo, mid, hi = (model.predict(u, e) for u, e in zip(units, elements, strict=True))
    return mid, lo / spread, hi * spread


def estimate(df: pd.DataFrame, method: str, *, n_train: int, n_features: int, n_classes: int,
             hidden: tuple[int, ...], num_samples: int | None = None, n_test: int | None = None,
             params: dict | None = None) -> Estimate:
    """Predicted fit and predict seconds and peak MiB of ``method`` on a new shape, on the
    machine of the run in ``df`` (``load_runs`` of one benchmark JSON).

    Parameters
    ----------
    df : DataFrame
        The run's tidy frame.
    method : str
        A method the run measured.
    n_train, n_features, n_classes : int
        The training set's shape.
    hidden : tuple of int
        Hidden layer widths (``()``: softmax regression).
    num_samples : int, optional
        Predictive draws S (default: what the estimator evaluates by default: every kept
        draw of a method that draws at fit, else 100).
    n_test : int, optional
        Rows to predict (default: ``n_train``).
    params : dict, optional
        Estimator keywords over the method's sweep settings in the run.

    Raises
    ------
    CostModelError
        A method, setting or shape the run cannot speak for.
    """
    if method not in METHODS:
        raise CostModelError(f"unknown method {method!r}; registered: {', '.join(METHODS)}")
    cells = sweep_cells(df)
    cells = cells[cells["method"] == method]
    if cells.empty:
        ran = sorted(set(sweep_cells(df)["method"]))
        raise CostModelError(f"the run has no sweep cells of {method!r} (it has "
                             f"{', '.join(ran) or 'none'})")
    machine = str(cells["machine"].iloc[0])
    cells = cells[cells["machine"] == machine]
    full = _with_overrides(method, _sweep_params(cells, method), params or {})
    full["hidden_sizes"] = tuple(hidden)
    s = int(num_samples or full.get("num_predictive_samples") or _default_draws(method, full))
    n_test = n_train if n_test is None else n_test
    _check_shape(method, full, n_train, n_features, n_classes, s)
    _check_shape(method, full, n_test, n_features, n_classes, s)
    models = work_models(df)
    fit_m, pred_m = (models.get((machine, method, ph, "time")) for ph in ("fit", "predict"))
    if fit_m is None or pred_m is None:
        raise CostModelError(f"the run has fewer than {MIN_CELLS} fit or predict sweep cells "
                             f"of {method!r}: no cost model")
    spec = net.MLPSpec(n_features, n_classes, tuple(hidden))
    per_it = _per_iteration(cells, full)
    its = iterations(full, n_train)
    g = its * float(np.median(per_it))
    grads = [its * r for r in (per_it.min(), np.median(per_it), per_it.max())]
    width = sum(spec.widths)
    units = [fit_units(gr, full, n_train, spec.n_params) for gr in grads]
    fit_s, fit_lo, fit_hi = _interval(fit_m, units,
                                      [fit_units(gr, full, n_train, width) for gr in grads])
    p_units = predict_units(method, full, n_test, s, spec.n_params)
    p_elements = predict_units(method, full, n_test, s, width)
    predict_s, predict_lo, predict_hi = _interval(pred_m, [p_units] * 3, [p_elements] * 3)
    notes = (_beyond("fit", "work (grad evals·rows·P)", units[1], fit_m.units_min,
                     fit_m.units_max)
             + _beyond("predict", "work (S·n_test·P)", p_units, pred_m.units_min,
                       pred_m.units_max))
    peaks = {}
    for phase, rows, draws in (("fit", n_train, None), ("predict", n_test, s)):
        mem = models.get((machine, method, phase, "peak_mb"))
        floats = memory_floats(method, phase, full, spec, rows, draws)
        peaks[phase] = None if mem is None else mem.predict(floats)
        if mem is not None:
            notes += _beyond(phase, "memory (floats held)", floats, mem.units_min, mem.units_max)
    known = [v for v in peaks.values() if v is not None]
    return Estimate(method=method, params={k: _plain(v) for k, v in sorted(full.items())},
                    n_params=spec.n_params, n_grad_evals=g, fit_s=fit_s, fit_s_lo=fit_lo,
                    fit_s_hi=fit_hi, predict_s=predict_s, predict_s_lo=predict_lo,
                    predict_s_hi=predict_hi, peak_mb=max(known) if known else None,
                    peak_mb_fit=peaks["fit"], peak_mb_predict=peaks["predict"],
                    machine=machine, extrapolates=notes)


def _default_draws(method: str, params: dict) -> int:
    """What ``num_predictive_samples=None`` evaluates: every kept draw for a method that draws
    at fit (its ``fit_draws_param`` x chains), else the estimator's default (100)."""
    cls = METHODS[method]
    if cls.fit_draws_param and not cls.fixed_draws:
        return int((params.get(cls.fit_draws_param) or 1) * (params.get("num_chains") or 1))
    return int(cls._default_predictive_samples)


def _plain(value):
    return list(value) if isinstance(value, tuple) else value
