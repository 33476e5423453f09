"""Whether MCMC chains converged: split R-hat and ESS (``pyro.ops.stats``), and the R-hat limits.

Both the NUTS estimator (its fit warning) and the reference posteriors (their targets) judge
convergence here, in function space: the split R-hat of the predictive probabilities. Weight-space
R-hat cannot pass on a BNN (permutation and sign symmetries put every chain in a different,
equivalent mode); it is reported, not judged.
"""

from __future__ import annotations

import numpy as np
import torch
from pyro.ops.stats import effective_sample_size, split_gelman_rubin

__all__ = ["REFERENCE_R_HAT_LIMIT", "R_HAT_LIMIT", "ess_and_r_hat", "finite_max",
           "predictive_ess_min", "predictive_r_hat", "split_r_hat"]

#: a fit whose largest predictive R-hat exceeds this has not converged: ``NUTSClassifier``
#: warns and the report flags its row. The customary split-R-hat threshold, loose enough for
#: fits of benchmark length (tens to hundreds of draws per chain), whose largest R-hat over
#: many predictive entries sits a few hundredths above 1 even when the chains agree.
R_HAT_LIMIT = 1.1
#: the stricter target a stored reference posterior must meet on its test rows: it is the
#: ground truth every method is scored against, and its long chains (thousands of draws per
#: input set) can resolve R-hat that finely
REFERENCE_R_HAT_LIMIT = 1.01

_R_HAT_CHUNK = 1024  # quantities per split-R-hat call (bounds its float64 copies)


def split_r_hat(draws: torch.Tensor) -> torch.Tensor:
    """Split R-hat of each quantity of ``draws (chains, samples, ...)``, in float64.

    NaN when a chain has fewer than 4 draws (split R-hat needs two halves of at least 2 draws).
    """
    draws = torch.as_tensor(draws)
    if draws.shape[1] < 4:
        return torch.full(draws.shape[2:], float("nan"), dtype=torch.float64)
    return split_gelman_rubin(draws.double(), chain_dim=0, sample_dim=1)


def ess_and_r_hat(draws: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-quantity ESS and split R-hat of ``draws (chains, samples, P)`` (float64, on the CPU);
    both NaN when a chain has fewer than 4 draws."""
    draws = torch.as_tensor(draws).double().cpu()
    if draws.shape[1] < 4:
        nan = torch.full(draws.shape[2:], float("nan"), dtype=torch.float64)
        return nan, nan
    return effective_sample_size(draws, chain_dim=0, sample_dim=1), split_r_hat(draws)


def finite_max(values: torch.Tensor) -> float:
    """The largest finite entry of ``values``; NaN when none is finite."""
    finite = values[torch.isfinite(values)]
    return float(finite.max()) if finite.numel() else float("nan")


def predictive_r_hat(proba) -> np.ndarray:
    """Split R-hat of predictive probabilities, per input and class.

    An entry that no draw of any chain moves (the same probability in every draw of every
    chain, e.g. one pinned at exactly 0 or 1 in float32) is 0/0 to the formula; it counts as
    converged, 1.0: every chain agrees on it, so it carries no evidence of non-convergence.
    Chains that are each constant but disagree are not converged: infinity.

    Parameters
    ----------
    proba : array or Tensor of shape (chains, draws, n, C)
        Per-draw class probabilities of each chain; ``draws >= 4``. One chain is split in
        halves like every other (``pyro.ops.stats.split_gelman_rubin``).

    Returns
    -------
    ndarray of shape (n, C)

    Raises
    ------
    ValueError
        ``proba`` is not 4-D or has fewer than 4 draws per chain.
    """
    p = proba if isinstance(proba, torch.Tensor) else torch.as_tensor(np.asarray(proba))
    if p.ndim != 4 or p.shape[1] < 4:
        raise ValueError(f"proba must be (chains, draws >= 4, n, C), got shape {tuple(p.shape)}")
    flat = p.reshape(*p.shape[:2], -1)
    out = []
    # in float64 column chunks: digits' training rows are 12,570 quantities x 6,400 draws
    for start in range(0, flat.shape[2], _R_HAT_CHUNK):
        chunk = flat[:, :, start:start + _R_HAT_CHUNK].double()
        constant = chunk.amax((0, 1)) == chunk.amin((0, 1))
        out.append(torch.where(constant, 1.0, split_r_hat(chunk)))
    return torch.cat(out).cpu().numpy().reshape(tuple(p.shape[2:]))


def predictive_ess_min(proba) -> float:
    """Smallest effective sample size over the predictive probabilities, across chains.

    Function-space ESS (``pyro.ops.stats.effective_sample_size`` of each input and class's
    probability): how many independent draws the predictive is worth, which is what a BNN's
    sampler buys (weight-space ESS counts moves between symmetric, equivalent modes). Entries
    that no draw moves have no ESS and are left out.

    Parameters
    ----------
    proba : array or Tensor of shape (chains, draws, n, C)
        ``draws >= 4``.

    Returns
    -------
    float
        NaN when no entry moves or a chain has fewer than 4 draws.
    """
    proba = torch.as_tensor(proba).double().cpu()
    if proba.ndim != 4 or proba.shape[1] < 4:
        return float("nan")
    flat = proba.flatten(2)
    moving = flat.std(dim=(0, 1)) > 0
    if not moving.any():
        return float("nan")
    ess = effective_sample_size(flat[:, :, moving], chain_dim=0, sample_dim=1)
    finite = ess[torch.isfinite(ess)]
    return float(finite.min()) if finite.numel() else float("nan")
