"""posteriors' SGHMC on our potential: the library peer of ``SGHMCClassifier`` (optional
``peers`` extra).

posteriors (0.1.3) steps ``theta += eps m; m += eps grad log p - eps alpha m + N(0, 2 eps alpha
T)`` on a flat ``theta`` with a user ``log_posterior(params, batch)``. Ours is the same SDE
in the velocity form ``v = eps m``: with the log posterior per row (``-U / n``, the minibatch
estimate our SGHMC uses) and temperature ``1 / n`` (the library's own recommended pairing), its
step equals ours at ``eps = sqrt(lr)`` and ``alpha = friction / eps``. Two differences remain,
and they are the library's normal use: a constant step size (its ``alpha`` is a constant, so
our cosine cycles cannot be mapped), run with burn-in then every ``thin``-th iterate kept; and
its explicit-Euler order (position moved by the old momentum) against ours (by the new).
"""

from __future__ import annotations

import importlib.util
import math
import warnings

import torch

from bnncompare import metrics, net
from bnncompare.methods._map import minibatches

__all__ = ["bnncompare_row", "library_row", "log_posterior_fn", "posteriors_available",
           "posteriors_sghmc", "step_settings"]


def posteriors_available() -> bool:
    """Whether ``posteriors`` can be imported."""
    return importlib.util.find_spec("posteriors") is not None


def _import_posteriors():
    with warnings.catch_warnings():  # tensordict announces ~25 future changes at import
        warnings.simplefilter("ignore", FutureWarning)
        import posteriors
    return posteriors


def log_posterior_fn(spec: net.MLPSpec, n: int, prior_scale: float = 1.0):
    """``log_posterior(theta, (xb, yb)) -> (value, aux)`` per row: ``-U(theta) / n`` estimated
    on the minibatch, ``U`` being ``methods._potential.make_potential``'s negative log-joint.

    The aux output is the value itself (posteriors needs a tensor there, not None).
    """
    decay = 0.5 / prior_scale**2

    def log_posterior(theta, batch):
        xb, yb = batch
        value = -(net.nll_sum(net.logits(spec, theta, xb), yb) / len(yb)
                  + decay * theta.pow(2).sum() / n)
        return value, value.detach()

    return log_posterior


def step_settings(lr: float, friction: float, n: int) -> dict:
    """posteriors' ``lr``, ``alpha``, ``temperature`` for our step ``lr`` and ``friction``."""
    eps = math.sqrt(lr)
    return {"lr": eps, "alpha": friction / eps, "temperature": 1.0 / n}


def _batches(n: int, batch_size, generator: torch.Generator):
    while True:
        for idx in minibatches(n, batch_size, generator, torch.device("cpu")):
            yield slice(None) if idx is None else idx


def posteriors_sghmc(spec: net.MLPSpec, x: torch.Tensor, y: torch.Tensor, *, num_steps: int,
                     thin: int, lr: float, friction: float, batch_size, seed: int,
                     prior_scale: float = 1.0) -> torch.Tensor:
    """Run posteriors' SGHMC from our initialisation for ``num_steps`` minibatch steps at the
    constant step ``lr`` (our units); keep every ``thin``-th iterate of the second half.

    Returns
    -------
    Tensor of shape (num_steps // 2 // thin, P)
    """
    posteriors = _import_posteriors()
    n = x.shape[0]
    transform = posteriors.sgmcmc.sghmc.build(
        log_posterior_fn(spec, n, prior_scale), momenta=0.0, **step_settings(lr, friction, n))
    torch.manual_seed(seed + 2)  # the library's noise comes from torch's global generator
    state = transform.init(net.init_theta(spec, torch.Generator().manual_seed(seed)))
    batches = _batches(n, batch_size, torch.Generator().manual_seed(seed + 1))
    burn, kept = num_steps // 2, []
    for step in range(num_steps):
        idx = next(batches)
        state, _ = transform.update(state, (x[idx], y[idx]), inplace=True)
        if step >= burn and (step - burn + 1) % thin == 0:
            kept.append(state.params.detach().clone())
    return torch.stack(kept)


def _kwargs(ours, lr: float | None) -> dict:
    return {"num_steps": ours.n_grad_evals_, "thin": ours.thin,
            "lr": ours.lr / 4 if lr is None else lr, "friction": ours.friction,
            "batch_size": ours.batch_size, "prior_scale": ours.prior_scale}


def bnncompare_row(ours, x_train, y_train):
    """Our side of the row: ``(work, workload)``, ``work()`` refitting ``ours``' estimator (as
    many minibatch steps as the library row runs)."""
    params = ours.get_params()
    workload = {**_kwargs(ours, None), "lr": ours.lr, "num_cycles": ours.num_cycles,
                "n_train": len(x_train)}
    return (lambda: (type(ours)(**params).fit(x_train, y_train), 1)[1]), workload


def library_row(ours, x_train, y_train, x_test, lr: float | None = None):
    """The benchmark row: ``(work, workload, extra_info)`` for the fitted ``SGHMCClassifier``
    ``ours``, with as many minibatch steps, the same batch size, friction and thinning.

    The constant step defaults to ``ours.lr / 4``, the mean of our step over the sampling half
    of a cycle. ``extra_info["tv_to_bnncompare"]`` is the mean TV of the two predictives on
    ``x_test``; ``tv_bnncompare_seed_to_seed`` (ours against ours at the next seed) is the
    noise that TV is to be read against.
    """
    spec = ours.spec_
    x, y = torch.as_tensor(x_train), torch.as_tensor(y_train).long()
    kwargs = _kwargs(ours, lr)
    draws = posteriors_sghmc(spec, x, y, seed=ours.seed_, **kwargs)
    x_t = torch.as_tensor(x_test)
    theirs = net.mean_proba(spec, draws, x_t).double().numpy()
    theirs /= theirs.sum(1, keepdims=True)
    mine = ours.predict_proba(x_test)
    other = ours.__class__(**{**ours.get_params(), "random_state": ours.random_state + 1})
    other_proba = other.fit(x_train, y_train).predict_proba(x_test)
    extra = {
        "tv_to_bnncompare": float(metrics.total_variation(theirs, mine).mean()),
        "tv_bnncompare_seed_to_seed": float(metrics.total_variation(other_proba, mine).mean()),
        "bnncompare_fit_s": ours.fit_time_s_,
        "agreement_to_bnncompare": metrics.agreement(theirs, mine),
        "finite": bool(torch.isfinite(draws).all()),
    }
    workload = {**kwargs, "draws": len(draws), "n_train": len(x_train),
                "step_settings": step_settings(kwargs["lr"], ours.friction, len(x_train))}
    return (lambda: (posteriors_sghmc(spec, x, y, seed=ours.seed_, **kwargs), 1)[1]), \
        workload, extra
