"""Fit time vs dataset size and vs posterior draws; quality on the seed's own setting.

Theory (REFERENCE.md): with full-batch, fixed step counts every method's fit costs
``steps * n * P`` (exponent 1 in ``n_train``, 0 in gradient evaluations); NUTS costs
``(warmup + S) * L * n * P`` (exponent 1 in S, affine: warmup is the constant).
"""

from __future__ import annotations

import pytest
from conftest import AXES, PROFILE, cells, load_data

from bnncompare.profiles import Cell


@pytest.mark.parametrize(AXES, cells(PROFILE.fit_cells()))
def test_fit_vs_n_train(time_fit, profile, method, dataset, n_train, n_test, num_samples,
                        hidden):
    cell = Cell(method, dataset, n_train, n_test, num_samples, hidden)
    time_fit(cell, axis="n_train", theory=1.0, theory_work=0.0, rounds=profile.fit_rounds)


@pytest.mark.parametrize(AXES, cells(PROFILE.nuts_samples_cells()))
def test_fit_vs_num_samples(time_fit, profile, method, dataset, n_train, n_test, num_samples,
                            hidden):
    cell = Cell(method, dataset, n_train, n_test, num_samples, hidden)
    time_fit(cell, axis="num_samples", theory=1.0, theory_work=1.0, rounds=profile.fit_rounds)


def _quality_sizes():
    return {name: (load_data(name, 0, 0).n_train, load_data(name, 0, 0).n_test)
            for name in PROFILE.quality_datasets}


@pytest.mark.parametrize(AXES, cells(PROFILE.quality_cells(_quality_sizes())))
def test_quality(time_fit, profile, method, dataset, n_train, n_test, num_samples, hidden):
    cell = Cell(method, dataset, n_train, n_test, num_samples, hidden)
    time_fit(cell, axis="none", rounds=profile.quality_rounds)
