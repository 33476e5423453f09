"""Argument checks shared by every module: one rule for what counts as a number.

``bool`` is an ``Integral`` (``True == 1``): a flag passed where a count or a rate belongs is
refused everywhere. NumPy scalars are accepted. Each check raises ``ValueError`` naming the
parameter, what was expected and the value given, e.g. ``"n_bins must be a positive integer,
got 0"``. This module imports nothing of the package, so any module may use it.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["check_fraction", "check_nonnegative_float", "check_nonnegative_int",
           "check_positive_float", "check_positive_int", "is_finite_real", "is_int"]


def is_int(value) -> bool:
    """True for an integer that is not a bool (NumPy integers included)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_finite_real(value) -> bool:
    """True for a finite real number that is not a bool (NumPy floats included)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) \
        and bool(np.isfinite(value))


def check_positive_int(name: str, value, *, allow_none: bool = False) -> None:
    """Raise ``ValueError`` unless ``value`` is a positive int (or None when allowed)."""
    if value is None and allow_none:
        return
    if not is_int(value) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def check_nonnegative_int(name: str, value) -> None:
    """Raise ``ValueError`` unless ``value`` is an integer >= 0."""
    if not is_int(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def check_positive_float(name: str, value) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite number > 0."""
    if not is_finite_real(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


def check_nonnegative_float(name: str, value) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite number >= 0."""
    if not is_finite_real(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def check_fraction(name: str, value, *, include_zero: bool = False,
                   include_one: bool = False) -> None:
    """Raise ``ValueError`` unless ``value`` is a number between 0 and 1.

    The ends are excluded unless ``include_zero``/``include_one``; the message names the
    interval, e.g. ``"dropout must be a number in [0, 1), got 1.5"``.
    """
    if is_finite_real(value) and (value >= 0 if include_zero else value > 0) \
            and (value <= 1 if include_one else value < 1):
        return
    interval = f"{'[' if include_zero else '('}0, 1{']' if include_one else ')'}"
    raise ValueError(f"{name} must be a number in {interval}, got {value!r}")
