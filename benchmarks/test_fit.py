"""Fit time vs dataset size and vs posterior draws; quality on the seed's own setting.

Theory: with full-batch, fixed step counts every method's fit costs
``steps * n * P`` (exponent 1 in ``n_train``, 0 in gradient evaluations); a method that draws
at fit (NUTS) costs ``(warmup + S) * L * n * P`` (exponent 1 in S, affine: warmup is the
constant). In model size P (``hidden_grid``: widths at depth 2) each gradient costs ``n * P``,
so fit time has exponent 1 in P and gradient evaluations exponent 0, with two exceptions the
exponent table shows against that theory: the last-layer Laplace fit adds the eigendecomposition
of its ``K x K`` last-layer GGN, ``K = (h_last + 1) * C``, cubic in K (``torch.linalg.eigh`` of
the full matrix, no Kronecker or diagonal factorisation), i.e. ``P**1.5`` when every width grows
together (P ~ h**2 at depth 2), plus ``n * K**2`` to build it; NUTS's steps per draw grow with
P (smaller step sizes) only until the tree depth cap ``2**max_tree_depth - 1``; at the cap, as
in the sweeps, they do not grow with P. The quality-vs-compute curve scales each method's own
budget (``budget_param``: epochs, steps, draws, members) by the profile's factors; its x1 point
is the quality cell.
Each test's arguments are the axes its cells carry (``conftest.pytest_generate_tests``).
"""

from __future__ import annotations

import pytest

from bnncompare.profiles import Cell


@pytest.mark.cells("fit")
def test_fit_vs_n_train(time_fit, profile, method, dataset, n_train, hidden):
    cell = Cell(method, dataset, hidden, n_train=n_train)
    time_fit(cell, axis="n_train", theory=1.0, theory_work=0.0, rounds=profile.fit_rounds)


@pytest.mark.cells("fit_draws")
def test_fit_vs_num_samples(time_fit, profile, method, dataset, n_train, num_samples, hidden):
    cell = Cell(method, dataset, hidden, n_train=n_train, num_samples=num_samples)
    time_fit(cell, axis="num_samples", theory=1.0, theory_work=1.0, rounds=profile.fit_rounds)


@pytest.mark.cells("fit_size")
def test_fit_vs_n_params(time_fit, profile, method, dataset, n_train, hidden):
    # theory 1 in P at fixed steps; see the module docstring for the Laplace Hessian and NUTS
    cell = Cell(method, dataset, hidden, n_train=n_train)
    time_fit(cell, axis="n_params", theory=1.0, theory_work=0.0, rounds=profile.fit_rounds)


@pytest.mark.cells("quality")
def test_quality(time_fit, profile, method, dataset, seed, hidden):
    time_fit(Cell(method, dataset, hidden, seed=seed), axis="none",
             rounds=profile.quality_rounds)


@pytest.mark.cells("curve")
def test_quality_curve(time_fit, profile, method, dataset, budget, seed, hidden):
    time_fit(Cell(method, dataset, hidden, budget=budget, seed=seed), axis="budget", rounds=1)
