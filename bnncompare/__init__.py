"""bnncompare: what does a Bayesian neural network cost, and what does it buy?

One MLP classifier fitted by seven inference methods (point estimate, mean-field SVI, NUTS,
deep ensemble, MC dropout, last-layer Laplace, SGHMC) behind one scikit-learn interface,
scored against reference posteriors, with benchmarks, uncertainty metrics and a performance
gate.
"""

from __future__ import annotations

from bnncompare import metrics
from bnncompare.data import DATASETS, Dataset, load_dataset, make_ood
from bnncompare.methods import (
    METHODS,
    EnsembleClassifier,
    LaplaceClassifier,
    MCDropoutClassifier,
    NNClassifier,
    NUTSClassifier,
    SGHMCClassifier,
    SVIClassifier,
    make_method,
)

__version__ = "0.1.0"

__all__ = ["DATASETS", "METHODS", "Dataset", "EnsembleClassifier", "LaplaceClassifier",
           "MCDropoutClassifier", "NNClassifier", "NUTSClassifier", "SGHMCClassifier",
           "SVIClassifier", "__version__", "load_dataset", "make_method", "make_ood", "metrics"]
