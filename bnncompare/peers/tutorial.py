"""The tutorial-style Pyro BNN: ``PyroModule[nn.Linear]`` layers with ``PyroSample`` weights.

This is how Pyro's own tutorials write a BNN, and what a user would write first; it is the
peer for prediction (``Predictive``'s default per-draw loop), SVI (``AutoNormal`` +
``Trace_ELBO``) and model-based NUTS. Same architecture and prior as ``bnncompare.net``.
"""

from __future__ import annotations

import pyro
import pyro.distributions as dist
import torch
from pyro.infer import MCMC, NUTS, SVI, Predictive, Trace_ELBO
from pyro.infer.autoguide import AutoNormal
from pyro.nn import PyroModule, PyroSample
from torch import nn

from bnncompare import net

__all__ = ["TutorialBNN", "predictive_loop", "tutorial_nuts", "tutorial_svi_steps",
           "weights_as_tutorial_samples"]


class TutorialBNN(PyroModule):
    """MLP with an N(0, prior_scale^2) ``PyroSample`` prior on every weight and bias."""

    def __init__(self, spec: net.MLPSpec, prior_scale: float):
        super().__init__()
        self.activation = net.ACTIVATIONS[spec.activation]
        layers = []
        for fan_in, fan_out in spec.layer_shapes:
            layer = PyroModule[nn.Linear](fan_in, fan_out)
            layer.weight = PyroSample(
                dist.Normal(0.0, prior_scale).expand([fan_out, fan_in]).to_event(2))
            layer.bias = PyroSample(dist.Normal(0.0, prior_scale).expand([fan_out]).to_event(1))
            layers.append(layer)
        self.layers = PyroModule[nn.ModuleList](layers)

    def forward(self, x, y=None):
        h = x
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i < len(self.layers) - 1:
                h = self.activation(h)
        with pyro.plate("data", x.shape[0]):
            pyro.sample("obs", dist.Categorical(logits=h), obs=y)
        return h


def weights_as_tutorial_samples(spec: net.MLPSpec, theta: torch.Tensor) -> dict:
    """Flat draws ``theta[S, P]`` as ``Predictive`` posterior samples of :class:`TutorialBNN`.

    ``nn.Linear`` stores ``(out, in)`` weights; ``bnncompare.net`` stores ``(in, out)``.
    """
    samples = {}
    for i, (w, b) in enumerate(spec.unflatten(theta)):
        samples[f"layers.{i}.weight"] = w.transpose(-1, -2).contiguous()
        samples[f"layers.{i}.bias"] = b.contiguous()
    return samples


def predictive_loop(model: TutorialBNN, samples: dict, x: torch.Tensor) -> torch.Tensor:
    """Posterior predictive mean through ``pyro.infer.Predictive``'s default (looping) path."""
    predictive = Predictive(model, posterior_samples=samples, return_sites=("_RETURN",))
    logits = predictive(x)["_RETURN"]
    return torch.softmax(logits, -1).mean(0)


def tutorial_svi_steps(spec: net.MLPSpec, x, y, prior_scale: float, num_steps: int,
                       lr: float = 0.01) -> int:
    """``num_steps`` of tutorial SVI: ``AutoNormal`` guide, ``Trace_ELBO``, ``pyro.optim``."""
    pyro.clear_param_store()
    model = TutorialBNN(spec, prior_scale)
    svi = SVI(model, AutoNormal(model), pyro.optim.Adam({"lr": lr}), Trace_ELBO())
    for _ in range(num_steps):
        svi.step(x, y)
    pyro.clear_param_store()
    return num_steps


class _CountingNUTS(NUTS):
    """NUTS on a Pyro model that counts potential-energy (gradient) evaluations."""

    calls = 0

    def _initialize_model_properties(self, model_args, model_kwargs):
        super()._initialize_model_properties(model_args, model_kwargs)
        inner = self.potential_fn

        def counted(params):
            self.calls += 1
            return inner(params)

        self.potential_fn = counted


def tutorial_nuts(spec: net.MLPSpec, x, y, prior_scale: float, num_warmup: int,
                  num_samples: int, max_tree_depth: int) -> int:
    """Model-based Pyro NUTS (eager) on :class:`TutorialBNN`; returns leapfrog steps taken."""
    kernel = _CountingNUTS(TutorialBNN(spec, prior_scale), max_tree_depth=max_tree_depth)
    mcmc = MCMC(kernel, num_samples=num_samples, warmup_steps=num_warmup,
                disable_progbar=True)
    mcmc.run(x, y)
    return kernel.calls
