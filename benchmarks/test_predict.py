"""Predict time vs posterior draws S and vs test rows; quality vs S.

Theory: predict costs ``S * n * P`` for the Bayesian methods; the NN has one weight vector, so
it is flat in S (the line every Bayesian method is measured against).
"""

from __future__ import annotations

import pytest
from conftest import AXES, PROFILE, cells

from bnncompare.profiles import Cell


@pytest.mark.parametrize(AXES, cells(PROFILE.predict_samples_cells()))
def test_predict_vs_num_samples(time_predict, profile, method, dataset, n_train, n_test,
                                num_samples, hidden):
    cell = Cell(method, dataset, n_train, n_test, num_samples, hidden)
    time_predict(cell, axis="num_samples", theory=0.0 if method == "nn" else 1.0,
                 rounds=profile.predict_rounds)


@pytest.mark.parametrize(AXES, cells(PROFILE.predict_n_test_cells()))
def test_predict_vs_n_test(time_predict, profile, method, dataset, n_train, n_test,
                           num_samples, hidden):
    cell = Cell(method, dataset, n_train, n_test, num_samples, hidden)
    time_predict(cell, axis="n_test", theory=1.0, rounds=profile.predict_rounds)
