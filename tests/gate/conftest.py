"""The gate tests' shared base run."""

from __future__ import annotations

import pytest
from gate_runs import make_run


@pytest.fixture
def base(tmp_path):
    return make_run(tmp_path / "base.json", seed=1)
