"""Inference methods, one module each, and the registry that names them.

Adding a method = one new module implementing ``_fit`` and ``_draws`` on
:class:`~bnncompare.methods.base.BaseMLPClassifier`, plus one line in ``METHODS``.
"""

from __future__ import annotations

from bnncompare.methods.base import BaseMLPClassifier
from bnncompare.methods.nn import NNClassifier
from bnncompare.methods.nuts import NUTSClassifier
from bnncompare.methods.svi import SVIClassifier

__all__ = ["METHODS", "BaseMLPClassifier", "NNClassifier", "NUTSClassifier", "SVIClassifier",
           "make_method"]

METHODS: dict[str, type[BaseMLPClassifier]] = {
    "nn": NNClassifier,
    "svi": SVIClassifier,
    "nuts": NUTSClassifier,
}


def make_method(name: str, **params) -> BaseMLPClassifier:
    """An unfitted estimator of method ``name`` ('nn', 'svi' or 'nuts') with ``params``."""
    try:
        cls = METHODS[name]
    except KeyError:
        raise ValueError(f"unknown method {name!r}; choose one of {sorted(METHODS)}") from None
    return cls(**params)
