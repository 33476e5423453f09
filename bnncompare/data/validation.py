"""Argument checks shared by the loaders, the OOD generators and the input grid.

Each raises ``ValueError`` naming the parameter and the value it got. The number checks are
the package-wide ones of :mod:`bnncompare.checks` (``bool`` is never a number, although Python
counts it as an int); this module adds the data-specific ones built on them.
"""

from __future__ import annotations

from bnncompare.checks import (
    check_nonnegative_float,
    check_nonnegative_int,
    check_positive_float,
    check_positive_int,
)

__all__ = ["check_count", "check_fraction", "check_kwargs", "check_nonnegative_float",
           "check_nonnegative_int", "check_positive_float", "check_seed"]


def check_seed(seed) -> int:
    """``seed`` as an int; ``ValueError`` unless it is a non-negative integer."""
    check_nonnegative_int("seed", seed)
    return int(seed)


def check_count(label: str, value, lo: int, hi: int) -> int:
    """``value`` as an int; ``ValueError`` unless it is an integer in ``[lo, hi]``, ``lo >= 1``."""
    check_positive_int(label, value)
    if not lo <= value <= hi:
        raise ValueError(f"{label} must be an integer in [{lo}, {hi}], got {value!r}")
    return int(value)


def check_fraction(name: str, value) -> float:
    """``value`` as a float; ``ValueError`` unless it is a number strictly between 0 and 1."""
    check_positive_float(name, value)
    if value >= 1:
        raise ValueError(f"{name} must be a fraction in (0, 1), got {value!r}")
    return float(value)


def check_kwargs(name: str, kwargs: dict, allowed: tuple[str, ...]) -> None:
    """``ValueError`` listing the keywords in ``kwargs`` that ``name`` does not take."""
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        valid = ", ".join(allowed) if allowed else "none"
        raise ValueError(f"unexpected keyword argument(s) {unknown} for {name!r}; "
                         f"valid extra keywords: {valid}")
