"""Argument checks shared by the loaders, the OOD generators and the input grid.

Each raises ``ValueError`` naming the parameter and the value it got.
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_count", "check_kwargs", "check_seed"]


def check_seed(seed) -> int:
    """``seed`` as an int; ``ValueError`` unless it is a non-negative integer."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return int(seed)


def check_count(label: str, value, lo: int, hi: int) -> int:
    """``value`` as an int; ``ValueError`` unless it is an integer in ``[lo, hi]``."""
    ok = not isinstance(value, bool) and isinstance(value, int | np.integer)
    if not ok or not lo <= value <= hi:
        raise ValueError(f"{label} must be an integer in [{lo}, {hi}], got {value!r}")
    return int(value)


def check_kwargs(name: str, kwargs: dict, allowed: tuple[str, ...]) -> None:
    """``ValueError`` listing the keywords in ``kwargs`` that ``name`` does not take."""
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        valid = ", ".join(allowed) if allowed else "none"
        raise ValueError(f"unexpected keyword argument(s) {unknown} for {name!r}; "
                         f"valid extra keywords: {valid}")
