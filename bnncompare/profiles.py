"""Benchmark profiles: the grids and per-method settings of each sweep.

A profile is a time budget on a 2-core machine with one torch thread: ``smoke`` < 1 minute
(the CI gate), ``fast`` < 10 minutes (the default main job), ``full`` < 90 minutes. NUTS is
sized by gradient evaluations: on a BNN it runs to ``max_tree_depth`` on nearly every
iteration, so one draw costs ``2**max_tree_depth - 1`` gradients (REFERENCE.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = ["AXES", "METHOD_NAMES", "PROFILES", "SEED", "Cell", "Profile", "current_profile",
           "get_profile", "hidden_label", "parse_hidden"]

#: benchmark parameters, in the order they appear in test ids and in the JSON ``params``
AXES = ("method", "dataset", "n_train", "n_test", "num_samples", "hidden")
METHOD_NAMES = ("nn", "svi", "nuts")
#: the one seed of every benchmark (estimators, datasets, OOD draws)
SEED = 0


class Cell(NamedTuple):
    """One benchmark cell: plain strings and ints only (they go into the JSON as-is)."""

    method: str
    dataset: str
    n_train: int
    n_test: int
    num_samples: int
    hidden: str


def hidden_label(sizes: tuple[int, ...]) -> str:
    """``(16, 16) -> "16x16"``; ``() -> "none"`` (logistic regression)."""
    return "x".join(map(str, sizes)) or "none"


def parse_hidden(label: str) -> tuple[int, ...]:
    """Inverse of :func:`hidden_label`."""
    return () if label == "none" else tuple(int(h) for h in label.split("x"))


@dataclass(frozen=True)
class Profile:
    """Grids and settings of one profile (see module docstring for the budgets)."""

    name: str
    n_train_grid: tuple[int, ...]
    num_samples_grid: tuple[int, ...]  # predictive draws S at predict
    nuts_fit_samples_grid: tuple[int, ...]  # NUTS draws at fit
    n_test_grid: tuple[int, ...]
    fit_rounds: int
    predict_rounds: int
    quality_rounds: int
    hidden: str = "16x16"
    n_features: int = 8
    n_classes: int = 3
    base_n_train: int = 300  # the fixed n_train of the num_samples / n_test sweeps
    base_n_test: int = 500
    base_num_samples: int = 100
    nn_epochs: int = 100  # fit sweeps: full-batch steps, so fit cost = steps * n * P
    svi_steps: int = 100
    nuts_warmup: int = 50
    nuts_samples: int = 50
    nuts_depth: int = 4
    quality_datasets: tuple[str, ...] = ("iris", "digits")
    peer_predict_samples: int = 1000
    peer_steps: int = 200
    peer_nuts_iters: int = 20
    quality: dict = field(default_factory=dict)

    def fit_cells(self) -> list[Cell]:
        """Fit time vs ``n_train`` for every method on synthetic data."""
        return [Cell(m, "synthetic", n, self.base_n_test, self.nuts_samples, self.hidden)
                for m in METHOD_NAMES for n in self.n_train_grid]

    def nuts_samples_cells(self) -> list[Cell]:
        """NUTS fit time vs ``num_samples`` (draws drawn at fit)."""
        return [Cell("nuts", "synthetic", self.base_n_train, self.base_n_test, s, self.hidden)
                for s in self.nuts_fit_samples_grid]

    def predict_samples_cells(self) -> list[Cell]:
        """Predict time and quality vs predictive draws S, every method."""
        return [Cell(m, "synthetic", self.base_n_train, self.base_n_test, s, self.hidden)
                for m in METHOD_NAMES for s in self.num_samples_grid]

    def predict_n_test_cells(self) -> list[Cell]:
        """Predict time vs ``n_test`` at S = ``base_num_samples``."""
        return [Cell(m, "synthetic", self.base_n_train, n, self.base_num_samples, self.hidden)
                for m in METHOD_NAMES for n in self.n_test_grid]

    def quality_cells(self, sizes: dict[str, tuple[int, int]]) -> list[Cell]:
        """The seed's own setting (iris, 20x50x20) and digits, every method.

        ``sizes`` maps each dataset to its ``(n_train, n_test)``.
        """
        cells = []
        for ds in self.quality_datasets:
            q = self.quality[ds]
            cells += [Cell(m, ds, *sizes[ds], q["nuts"]["num_samples"], q["hidden"])
                      for m in METHOD_NAMES]
        return cells

    def estimator_params(self, cell: Cell, *, nuts_draws: int | None = None) -> dict:
        """Keywords for ``make_method(cell.method, ...)`` in this profile.

        Synthetic cells use the sweep settings (full-batch, fixed step counts, so fit cost is
        ``steps * n * P``); quality cells use the per-dataset settings. ``nuts_draws``
        overrides NUTS's ``num_samples`` (the predict sweeps fit once with the largest S).
        """
        common = {"hidden_sizes": parse_hidden(cell.hidden), "random_state": SEED}
        if cell.dataset in self.quality:
            q = self.quality[cell.dataset]
            return {**common, "activation": q["activation"], **q[cell.method]}
        if cell.method == "nn":
            return {**common, "num_epochs": self.nn_epochs}
        if cell.method == "svi":
            return {**common, "num_steps": self.svi_steps}
        return {**common, "num_warmup": self.nuts_warmup, "max_tree_depth": self.nuts_depth,
                "num_samples": nuts_draws or cell.num_samples}


def _quality(nn_epochs, svi_steps, nuts_warmup, nuts_samples, nuts_depth, digits_hidden):
    """Settings of the quality benchmarks (iris: the seed's 20x50x20 net; relu: see README)."""
    per_method = {
        "nn": {"num_epochs": nn_epochs},
        "svi": {"num_steps": svi_steps},
        "nuts": {"num_warmup": nuts_warmup, "num_samples": nuts_samples,
                 "max_tree_depth": nuts_depth},
    }
    return {
        "iris": {"hidden": "20x50x20", "activation": "relu", **per_method},
        "digits": {"hidden": digits_hidden, "activation": "relu", **per_method},
    }


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke", n_train_grid=(100, 300, 1000), num_samples_grid=(1, 10, 100),
        nuts_fit_samples_grid=(10, 20, 40), n_test_grid=(100, 1000), fit_rounds=5,
        predict_rounds=7, quality_rounds=3, nn_epochs=30, svi_steps=30, nuts_warmup=10,
        nuts_samples=10, nuts_depth=3, base_n_train=200, base_n_test=200,
        quality_datasets=("iris",), peer_predict_samples=100, peer_steps=30,
        peer_nuts_iters=6,
        quality=_quality(100, 300, 20, 20, 3, "32"),
    ),
    "fast": Profile(
        name="fast", n_train_grid=(100, 300, 1000, 3000, 10000, 30000),
        num_samples_grid=(1, 10, 100, 1000), nuts_fit_samples_grid=(25, 50, 100, 200, 400),
        n_test_grid=(100, 1000, 10000), fit_rounds=3, predict_rounds=5, quality_rounds=1,
        peer_nuts_iters=30, quality=_quality(300, 2000, 100, 100, 5, "50"),
    ),
    "full": Profile(
        name="full", n_train_grid=(100, 300, 1000, 3000, 10000, 30000, 100000),
        num_samples_grid=(1, 10, 100, 1000, 10000),
        nuts_fit_samples_grid=(25, 50, 100, 200, 400, 800), n_test_grid=(100, 1000, 10000),
        fit_rounds=3, predict_rounds=7, quality_rounds=3, nuts_depth=5,
        peer_steps=500, peer_nuts_iters=50,
        quality=_quality(500, 4000, 300, 300, 6, "50"),
    ),
}


def get_profile(name: str) -> Profile:
    """The profile called ``name``; ``ValueError`` naming the valid ones otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; choose one of {sorted(PROFILES)}") from None


def current_profile() -> Profile:
    """The profile named by ``BNNCOMPARE_PROFILE`` (default ``fast``)."""
    return get_profile(os.environ.get("BNNCOMPARE_PROFILE", "fast"))
