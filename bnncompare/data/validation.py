"""Argument checks shared by the loaders, the OOD generators and the input grid.

Each raises ``ValueError`` naming the parameter and the value it got. Positive integers and
positive reals are checked by the package-wide :func:`~bnncompare.methods.base.check_positive_int`
and :func:`~bnncompare.methods.base.check_positive_float`; the two non-negative checks here
are their counterparts for a zero that is allowed (a seed, a noise level, a margin). ``bool``
is never a number here, although Python counts it as an int.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["check_count", "check_fraction", "check_kwargs", "check_nonnegative_float",
           "check_nonnegative_int", "check_positive_float", "check_seed"]


def check_nonnegative_int(name: str, value) -> None:
    """Raise ``ValueError`` unless ``value`` is an integer >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def check_nonnegative_float(name: str, value) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def check_positive_float(name: str, value) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite number > 0 (the shared check)."""
    # Imported on use: bnncompare.methods imports every method (and the method plugins, which
    # may import bnncompare.data), so importing it while this package initialises would be an
    # import cycle.
    from bnncompare.methods.base import check_positive_float as check

    check(name, value)


def check_seed(seed) -> int:
    """``seed`` as an int; ``ValueError`` unless it is a non-negative integer."""
    check_nonnegative_int("seed", seed)
    return int(seed)


def check_count(label: str, value, lo: int, hi: int) -> int:
    """``value`` as an int; ``ValueError`` unless it is an integer in ``[lo, hi]``, ``lo >= 1``."""
    from bnncompare.methods.base import check_positive_int  # on use, as check_positive_float

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
