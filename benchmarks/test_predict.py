"""Predict time vs posterior draws S and vs test rows; quality vs S.

Theory: predict costs ``S * n * P`` for the Bayesian methods; a method whose draws are fixed by
the fit (the NN: one weight vector) is flat in S — the line every Bayesian method is measured
against (the fixture reads ``fixed_draws`` from the method's class). In model size P every
method's predict costs ``S * n * P`` at fixed S (exponent 1 in P; Laplace's last-layer draws add
``S * K**2``, K the last layer's size, which is also ~P at depth 2). That counts multiply-adds;
the elementwise work (activations, biases, softmax) grows as ``S * n * width``, ~P**0.5 at
depth 2, and is a large part of predict at the widths measured (8-128): the fitted exponents in
P read ~0.6-0.7 there, flagged against theory 1, and the cost model carries that term.
"""

from __future__ import annotations

import pytest

from bnncompare.profiles import Cell


@pytest.mark.cells("predict_samples")
def test_predict_vs_num_samples(time_predict, profile, method, dataset, n_test, num_samples,
                                hidden):
    cell = Cell(method, dataset, hidden, n_test=n_test, num_samples=num_samples)
    time_predict(cell, axis="num_samples", rounds=profile.predict_rounds)


@pytest.mark.cells("predict_n_test")
def test_predict_vs_n_test(time_predict, profile, method, dataset, n_test, num_samples, hidden):
    cell = Cell(method, dataset, hidden, n_test=n_test, num_samples=num_samples)
    time_predict(cell, axis="n_test", rounds=profile.predict_rounds)


@pytest.mark.cells("predict_size")
def test_predict_vs_n_params(time_predict, profile, method, dataset, n_test, num_samples,
                             hidden):
    cell = Cell(method, dataset, hidden, n_test=n_test, num_samples=num_samples)
    time_predict(cell, axis="n_params", rounds=profile.predict_rounds)
