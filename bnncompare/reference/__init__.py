"""Reference posterior predictives: long multi-chain NUTS on the suite's own model, stored.

``bnncompare reference iris`` samples the identical model the quality benchmarks fit on a
dataset (same split, net, activation and N(0, prior_scale^2) prior) with many long NUTS chains,
one per worker process, and stores each chain's predictive on the dataset's test rows, its OOD
inputs, its training rows (and the input plane of a 2-D dataset) under
``results/reference/<dataset>/`` (layout: :mod:`~bnncompare.reference.store`).

Convergence is judged in function space (:mod:`~bnncompare.reference.diagnostics`): split-R-hat
across chains of the predictive probabilities and the total variation between the predictive
means of the two halves of the chains. :func:`reference_scores` holds a fitted estimator
against a stored reference.

Modules: ``spec`` (what a reference is: dataset, net, chains, settings), ``chains`` (running
the chains here, in processes or on Dask), ``diagnostics``, ``store`` (writing and reading a
reference's folder), ``score`` (a method against a reference) and ``run`` (putting them
together: :func:`run_reference`).
"""

from bnncompare.reference.diagnostics import TARGETS, half_split_tv, predictive_r_hat
from bnncompare.reference.run import run_reference
from bnncompare.reference.score import reference_scores
from bnncompare.reference.spec import (
    GRID_POINTS,
    RECOMMENDED,
    RunSettings,
    architecture,
    chain_seeds,
    model_meta,
    reference_inputs,
)
from bnncompare.reference.store import (
    DEFAULT_ROOT,
    Reference,
    find_reference,
    load_reference,
    save_reference,
)

__all__ = ["DEFAULT_ROOT", "GRID_POINTS", "RECOMMENDED", "TARGETS", "Reference", "RunSettings",
           "architecture", "chain_seeds", "find_reference", "half_split_tv", "load_reference",
           "model_meta", "predictive_r_hat", "reference_inputs", "reference_scores",
           "run_reference", "save_reference"]
