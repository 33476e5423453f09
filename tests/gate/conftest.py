"""The gate tests' shared base run."""

from __future__ import annotations

import pytest
from gate_runs import BASE_MOMENT, make_run


@pytest.fixture
def base(tmp_path):
    """The run every test_gate_* compares against, written in tmp_path."""
    return make_run(tmp_path / "base.json", seed=BASE_MOMENT)
