"""The scikit-learn template every inference method shares.

``fit`` = validate -> encode labels -> seed scope -> ``_fit`` (timed). A method implements
only two hooks: ``_fit(x, y)`` ("fit the weights") and ``_draws(num)`` ("give me S weight
draws"); prediction is the one batched forward pass in :mod:`bnncompare.net`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from typing import ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data

from bnncompare import net
from bnncompare.checks import (  # re-exported: the checks plug-in methods use
    check_fraction,
    check_positive_float,
    check_positive_int,
    is_int,
)

__all__ = ["PURPOSES", "BaseMLPClassifier", "StoredDrawsMixin", "check_fraction",
           "check_positive_float", "check_positive_int", "fitted_array"]

#: what a method's ``settings`` are for; ``sweep`` and ``quality`` are keyed by profile name
#: (``smoke``/``fast``/``full``; an unknown profile falls back to ``fast``), ``instructions``
#: (the instruction gate's short fits, :meth:`BaseMLPClassifier.instruction_settings`) by
#: variant
PURPOSES = ("test", "demo", "gpu", "sweep", "quality", "instructions")
_PER_PROFILE = ("sweep", "quality")


def fitted_array(tensor: torch.Tensor) -> np.ndarray:
    """A float32 NumPy copy of fitted weights (from any device), for a public attribute.

    The estimators keep the tensor itself in a private attribute for prediction (no
    conversion per call); the public ``theta_``/``samples_`` are what scikit-learn users
    expect, NumPy arrays, and a copy, so writing into one never changes a prediction.
    """
    return tensor.detach().to("cpu", torch.float32, copy=True).numpy()


@contextlib.contextmanager
def seed_scope(seed: int, device: torch.device) -> Iterator[None]:
    """Seed torch for the duration of a fit without touching the caller's RNG state.

    Pyro samples from torch's global generator, so the fit must seed it; ``fork_rng`` restores
    the caller's state afterwards (fitting does not disturb the caller's global RNG).
    """
    cuda = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(seed)
        yield


class BaseMLPClassifier(ClassifierMixin, BaseEstimator):
    """Template for an MLP classifier fitted by one inference method.

    Subclasses list every hyper-parameter in their own ``__init__`` (scikit-learn reads the
    signature) and implement ``_fit`` and ``_draws`` (and ``_check_method_params`` when they
    add hyper-parameters). Everything a harness (benchmarks, report, demo, tests) needs to
    know about a method lives in the class attributes below; a subclass that sets none of them
    still runs everywhere with its constructor defaults.

    Parameters
    ----------
    hidden_sizes : tuple of int, default=(50,)
        Hidden layer widths; ``()`` is multinomial logistic regression. The default, one
        hidden layer of 50 relu units, is scikit-learn's ``MLPClassifier`` default.
    activation : {'tanh', 'relu'}, default='relu'
    prior_scale : float, default=1.0
        Scale of the N(0, prior_scale^2) prior on every weight and bias.
    random_state : int, RandomState or None, default=None
    device : {'cpu', 'cuda'}, default='cpu'
    num_predictive_samples : int or None, default=None
        Draws used by ``predict_proba*`` (None: ``_default_predictive_samples``).
    """

    #: default number of predictive draws when ``num_predictive_samples`` is None
    _default_predictive_samples = 100

    # -- metadata read by the harness (class attributes, never per instance) ---------------
    #: name in tables, figures and notes; None: the class name without "Classifier"
    label: ClassVar[str | None] = None
    #: matplotlib colour; None: the report picks the next free colour of its palette
    color: ClassVar[str | None] = None
    #: True when the fit yields one weight vector (prediction uses S = 1 draw)
    point_estimate: ClassVar[bool] = False
    #: True when the fit fixes the number of predictive draws (NN: 1, an ensemble: its
    #: members), so ``num_predictive_samples`` does not change the prediction's cost
    fixed_draws: ClassVar[bool] = False
    #: constructor keyword that sets the compute budget (epochs, steps, draws, members...);
    #: the quality-vs-compute curves scale it. None: the method has no budget axis.
    budget_param: ClassVar[str | None] = None
    #: constructor keyword for posterior draws made during fit (NUTS: ``num_samples``);
    #: methods that have one get the fit-vs-draws sweep and are fitted with enough draws for
    #: every predict cell. None: draws are made at predict time.
    fit_draws_param: ClassVar[str | None] = None
    #: settings per purpose (see ``PURPOSES``): ``{"test": {...}, "demo": {...}, "gpu": {...},
    #: "sweep": {profile: {...}}, "quality": {profile: {...}}}``; missing entries mean the
    #: constructor defaults
    settings: ClassVar[Mapping[str, Mapping]] = {}

    @classmethod
    def method_label(cls) -> str:
        """The human name of the method (``label``, else the class name minus "Classifier")."""
        return cls.label or cls.__name__.removesuffix("Classifier")

    @classmethod
    def settings_for(cls, purpose: str, profile: str = "fast") -> dict:
        """Constructor keywords of this method for ``purpose`` (and profile), as a new dict.

        Raises
        ------
        ValueError
            If ``purpose`` is not one of ``PURPOSES``.
        """
        if purpose not in PURPOSES:
            raise ValueError(f"unknown settings purpose {purpose!r}; choose one of {PURPOSES}")
        if purpose == "instructions":
            return cls.instruction_settings().get("", {})
        entry = cls.settings.get(purpose, {})
        if purpose in _PER_PROFILE:
            entry = entry.get(profile, entry.get("fast", {}))
        return dict(entry)

    @classmethod
    def instruction_settings(cls) -> dict[str, dict]:
        """The instruction gate's short fits of this method: variant -> constructor keywords
        (``""`` the plain one; e.g. NUTS adds ``"vectorized"``), each a new dict. Empty when
        the class sets none: the gate then counts no kernel of it (a method's defaults may be
        minutes of work under valgrind)."""
        return {variant: dict(params)
                for variant, params in cls.settings.get("instructions", {}).items()}

    @classmethod
    def scale_budget(cls, params: Mapping, factor: float) -> dict:
        """``params`` with the budget (``budget_param``) multiplied by ``factor`` (>= 1 unit).

        The default reads the budget from ``params`` or, if absent, the constructor default.
        Methods whose budget is several keywords (NUTS: warm-up and draws) override this.
        """
        out = dict(params)
        if cls.budget_param is None:
            return out
        base = out.get(cls.budget_param, cls().get_params()[cls.budget_param])
        out[cls.budget_param] = max(1, round(base * factor))
        return out

    def __init__(self, hidden_sizes=(50,), activation="relu", prior_scale=1.0, random_state=None,
                 device="cpu", num_predictive_samples=None):
        self.hidden_sizes = hidden_sizes
        self.activation = activation
        self.prior_scale = prior_scale
        self.random_state = random_state
        self.device = device
        self.num_predictive_samples = num_predictive_samples

    # -- fitting -------------------------------------------------------------------------
    def fit(self, X, y):
        """Fit the weights (or their posterior) to ``X`` of shape (n, d) and labels ``y``.

        Returns
        -------
        self
        """
        self._check_params()
        X, y = self._validate_xy(X, y)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"y has {len(self.classes_)} class ({self.classes_[0]}); "
                             "a classifier needs at least 2 classes")
        self.device_ = self._resolve_device()
        self.spec_ = net.MLPSpec(X.shape[1], len(self.classes_), tuple(self.hidden_sizes),
                                 self.activation)
        self.n_params_ = self.spec_.n_params
        self.seed_ = self._resolve_seed()
        x_t, y_t = self._to_tensor(X), torch.as_tensor(y_idx, device=self.device_)
        with seed_scope(self.seed_, self.device_):
            start = time.perf_counter()
            self._fit(x_t, y_t)
            self.fit_time_s_ = time.perf_counter() - start
        if not hasattr(self, "n_grad_evals_"):  # the hardware-free cost every table reports
            raise NotImplementedError(f"{type(self).__name__}._fit must set n_grad_evals_ "
                                      "(gradient evaluations of the loss; 0 if none)")
        return self

    def _validate_xy(self, X, y):
        _check_numeric(X, "X")
        X, y = validate_data(self, X, y, dtype=np.float32, y_numeric=False)
        check_classification_targets(y)  # continuous y is a regression target, not labels
        if not np.all(np.isfinite(X)):  # validate_data checks this too; kept for the message
            raise ValueError("X contains NaN or infinity")
        return X, y

    def _check_params(self) -> None:
        hidden = self.hidden_sizes
        if not isinstance(hidden, tuple | list) or not all(is_int(h) and h > 0 for h in hidden):
            raise ValueError(f"hidden_sizes must be a tuple of positive ints, got {hidden!r}")
        if self.activation not in net.ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(net.ACTIVATIONS)}, "
                             f"got {self.activation!r}")
        check_positive_float("prior_scale", self.prior_scale)
        check_positive_int("num_predictive_samples", self.num_predictive_samples,
                           allow_none=True)
        self._check_method_params()

    def _resolve_device(self) -> torch.device:
        if self.device not in ("cpu", "cuda"):
            raise ValueError(f"device must be 'cpu' or 'cuda', got {self.device!r}")
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ValueError("device='cuda' but torch sees no CUDA device")
        return torch.device(self.device)

    def _resolve_seed(self) -> int:
        # RandomState instances advance (sklearn convention); None draws fresh OS entropy
        # rather than touching numpy's global generator.
        if self.random_state is None:
            return int(np.random.SeedSequence().generate_state(1)[0])
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    def _to_tensor(self, X: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.ascontiguousarray(X, dtype=np.float32), device=self.device_)

    # -- prediction ----------------------------------------------------------------------
    def _num_draws(self) -> int:
        s = self.num_predictive_samples
        return self._default_predictive_samples if s is None else s

    def _predict_input(self, X) -> torch.Tensor:
        check_is_fitted(self)
        _check_numeric(X, "X")
        X = validate_data(self, X, dtype=np.float32, reset=False)
        return self._to_tensor(X)

    @torch.no_grad()
    def predict_proba_samples(self, X) -> np.ndarray:
        """Class probabilities under each posterior draw.

        Returns
        -------
        ndarray of shape (S, n, C)
            One row-stochastic slice per draw; ``S = num_predictive_samples`` (NN: 1).
        """
        x = self._predict_input(X)
        theta = self._draws(self._num_draws())
        return net.proba_samples(self.spec_, theta, x).double().cpu().numpy()

    @torch.no_grad()
    def predict_proba(self, X) -> np.ndarray:
        """Posterior predictive mean over ``num_predictive_samples`` draws, shape (n, C)."""
        x = self._predict_input(X)
        proba = net.mean_proba(self.spec_, self._draws(self._num_draws()), x).double()
        # float32 sums drift ~1e-7 from 1; renormalise in float64 so rows sum to 1 exactly
        return (proba / proba.sum(-1, keepdim=True)).cpu().numpy()

    def predict(self, X) -> np.ndarray:
        """Most probable label under the posterior predictive, from ``classes_``."""
        proba = self.predict_proba(X)  # first: raises NotFittedError before classes_ is read
        return self.classes_[np.argmax(proba, axis=1)]

    def _generator(self, offset: int) -> torch.Generator:
        """A private generator for draws made after fit (prediction stays reproducible)."""
        return torch.Generator(device=self.device_).manual_seed(self.seed_ + offset)

    # -- hooks ---------------------------------------------------------------------------
    def _check_method_params(self) -> None:
        """Validate method-specific hyper-parameters (none by default)."""

    def _fit(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Fit on tensors ``x (n, d)`` and encoded labels ``y (n,)``; set ``n_grad_evals_``."""
        raise NotImplementedError

    def _draws(self, num: int) -> torch.Tensor:
        """``num`` flat weight draws of shape (num, P) from the fitted posterior."""
        raise NotImplementedError


class StoredDrawsMixin:
    """Draws kept at fit in ``samples_`` (S_kept, P), thinned evenly at predict (MCMC methods).

    ``_fit`` hands its draws to ``_store_samples``: prediction reads the tensor kept privately,
    ``samples_`` is their NumPy copy. (A subclass that sets ``samples_`` itself still works;
    its draws are then converted to a tensor at each prediction.)
    ``num_predictive_samples=None`` uses every kept draw; fewer are taken evenly spaced (ends
    included); more raise ``ValueError`` rather than resample.
    """

    def _store_samples(self, samples: torch.Tensor) -> None:
        """Keep ``samples (S_kept, P)`` for prediction; expose them as ``samples_``."""
        self._samples = samples
        self.samples_ = fitted_array(samples)

    def _stored_samples(self) -> torch.Tensor:
        samples = getattr(self, "_samples", None)
        if samples is None:
            samples = torch.as_tensor(self.samples_, device=self.device_)
        return samples

    def _num_draws(self) -> int:
        total = self.samples_.shape[0]
        s = total if self.num_predictive_samples is None else self.num_predictive_samples
        if s > total:
            raise ValueError(f"num_predictive_samples={s} exceeds the {total} posterior draws "
                             f"{self.method_label()} kept; fit with more draws")
        return s

    def _draws(self, num: int) -> torch.Tensor:
        samples = self._stored_samples()
        total = samples.shape[0]
        if num == total:
            return samples
        idx = torch.linspace(0, total - 1, num, device=self.device_).round().long()
        return samples[idx]

    def to_arviz(self, X=None):
        """The stored draws as ArviZ ``InferenceData`` (needs ``pip install 'bnncompare[arviz]'``).

        ``posterior.theta`` (chain, draw, weight); ``sample_stats`` from ``sample_stats_``
        when the sampler records it; given ``X``, ``posterior_predictive.proba`` (chain, draw,
        row, class) under every stored draw: the function-space view in which a BNN's chains
        are judged. See :func:`bnncompare.export.to_inference_data`.
        """
        from bnncompare.export import to_inference_data  # ArviZ only when asked for
        return to_inference_data(self, X)


def _check_numeric(X, name: str) -> None:
    """Name non-numeric input explicitly (numpy's own message is 'could not convert...')."""
    if hasattr(X, "dtype") and getattr(X.dtype, "kind", "f") in "biufc":
        return
    try:
        np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must contain only numeric features: {err}") from None
