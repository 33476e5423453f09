"""Inference methods, one module each, and the registry that names them.

Adding a method = one new module subclassing
:class:`~bnncompare.methods.base.BaseMLPClassifier` (implement ``_fit`` and ``_draws``; set the
metadata class attributes the harness reads), plus one line in ``_BUILTIN``. Methods from other
distributions register through the entry-point group ``bnncompare.methods`` (name -> class),
the way pytest finds its plugins::

    [project.entry-points."bnncompare.methods"]
    mymethod = "mypackage.module:MyClassifier"
"""

from __future__ import annotations

import warnings
from importlib.metadata import entry_points

from bnncompare.methods.base import BaseMLPClassifier
from bnncompare.methods.ensemble import EnsembleClassifier
from bnncompare.methods.laplace import LaplaceClassifier
from bnncompare.methods.mcdropout import MCDropoutClassifier
from bnncompare.methods.nn import NNClassifier
from bnncompare.methods.nuts import NUTSClassifier
from bnncompare.methods.sghmc import SGHMCClassifier
from bnncompare.methods.svi import SVIClassifier

__all__ = ["ENTRY_POINT_GROUP", "METHODS", "BaseMLPClassifier", "EnsembleClassifier",
           "LaplaceClassifier", "MCDropoutClassifier", "NNClassifier", "NUTSClassifier",
           "SGHMCClassifier", "SVIClassifier", "make_method", "reference_sampler",
           "select_methods"]


#: the entry-point group third-party methods register in
ENTRY_POINT_GROUP = "bnncompare.methods"

_BUILTIN: dict[str, type[BaseMLPClassifier]] = {
    "nn": NNClassifier,
    "svi": SVIClassifier,
    "nuts": NUTSClassifier,
    "ensemble": EnsembleClassifier,
    "mcdropout": MCDropoutClassifier,
    "laplace": LaplaceClassifier,
    "sghmc": SGHMCClassifier,
}


def _plugins() -> dict[str, type[BaseMLPClassifier]]:
    """Methods registered by installed distributions; a broken one warns and is skipped."""
    found = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _BUILTIN:
            warnings.warn(f"bnncompare method plugin {ep.value!r} reuses the built-in name "
                          f"{ep.name!r}; ignored", RuntimeWarning, stacklevel=2)
            continue
        try:
            cls = ep.load()
        except Exception as err:  # a plugin must never break the suite: say so and go on
            warnings.warn(f"bnncompare method plugin {ep.name!r} failed to load: {err}",
                          RuntimeWarning, stacklevel=2)
            continue
        if not (isinstance(cls, type) and issubclass(cls, BaseMLPClassifier)):
            warnings.warn(f"bnncompare method plugin {ep.name!r} is not a BaseMLPClassifier "
                          "subclass; ignored", RuntimeWarning, stacklevel=2)
            continue
        found[ep.name] = cls
    return found


#: every registered method, built-ins first (in this order), then plugins by name
METHODS: dict[str, type[BaseMLPClassifier]] = {**_BUILTIN, **dict(sorted(_plugins().items()))}


def make_method(name: str, **params) -> BaseMLPClassifier:
    """An unfitted estimator of the registered method ``name`` with ``params``."""
    try:
        cls = METHODS[name]
    except KeyError:
        raise ValueError(f"unknown method {name!r}; choose one of {list(METHODS)}") from None
    return cls(**params)


def reference_sampler(**params) -> BaseMLPClassifier:
    """An unfitted estimator of the sampler reference posteriors are drawn with, with ``params``.

    The suite's exact sampler, NUTS. ``bnncompare.reference`` obtains it here, so that no module
    outside ``methods`` names a method; it fits one chain at a time (``num_chains=1``) and reads
    ``samples_``, ``n_grad_evals_`` and ``diagnostics_`` (``divergences``, ``mean_tree_depth``,
    ``frac_at_max_depth``). Pyro's kernel (``chain_method="pyro"``) unless ``params`` say
    otherwise: a reference is the ground truth every method is scored against, so it is drawn
    with the implementation whose draws are Pyro's own, bit for bit, and a stored torch
    reference is reproduced by the same path it was made with.
    """
    return NUTSClassifier(**{"chain_method": "pyro", **params})


def select_methods(names: str | None) -> tuple[str, ...]:
    """Parse a comma-separated method list (``"nn,svi"``); None or ``"all"`` -> every one.

    Raises
    ------
    ValueError
        Naming the unknown methods, or if the list is empty.
    """
    if names is None or names.strip() == "all":
        return tuple(METHODS)
    chosen = tuple(dict.fromkeys(n.strip() for n in names.split(",") if n.strip()))
    unknown = [n for n in chosen if n not in METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(unknown)}; "
                         f"choose from {', '.join(METHODS)}")
    if not chosen:
        raise ValueError("--methods is empty; name at least one method")
    return chosen
