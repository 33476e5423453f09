"""NumPyro NUTS on the identical model: the JAX peer (optional ``peers`` extra).

JAX compiles the sampler on first use; that compile time is reported separately and the
per-leapfrog time is taken from a warm run, as NumPyro users experience it after the first call.

The mode matters by ~2x: ``MCMC(progress_bar=False)`` runs the whole chain as one XLA
``fori_loop``, which XLA's CPU backend runs about twice as slowly per leapfrog as one jitted
transition called from Python per iteration (what ``MCMC`` does with its progress bar on).
The peer uses the faster one (:data:`MODE`), so a ratio to it is a ratio to NumPyro at its
fastest on this machine.
"""

from __future__ import annotations

import importlib.util
import os
import time
from dataclasses import dataclass

import numpy as np

from bnncompare import net

__all__ = ["MODE", "NumPyroNUTS", "numpyro_available", "numpyro_nuts"]

#: how the peer runs NumPyro, recorded beside its timings
MODE = ("jax.jit(NUTS.sample) iterated from Python, one jitted call per iteration, warm "
        "(NumPyro's fastest CPU mode here; MCMC.run without progress bar is one fori_loop, "
        "~2x slower)")


def numpyro_available() -> bool:
    """Whether ``numpyro`` (and JAX) can be imported."""
    return importlib.util.find_spec("numpyro") is not None


def _import_jax():
    # One XLA thread, like torch.set_num_threads(1) on our side: a like-for-like comparison.
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                       "intra_op_parallelism_threads=1")
    import jax
    import jax.numpy as jnp
    return jax, jnp


def _potential(spec: net.MLPSpec, x, y, prior_scale: float):
    """The same negative log-joint as ``bnncompare.methods.nuts.make_potential``, in JAX."""
    jax, jnp = _import_jax()
    act = {"tanh": jnp.tanh, "relu": jax.nn.relu}[spec.activation]
    shapes, decay = spec.layer_shapes, 0.5 / prior_scale**2

    def potential(theta):
        h, start = x, 0
        for i, (fan_in, fan_out) in enumerate(shapes):
            w = theta[start:start + fan_in * fan_out].reshape(fan_in, fan_out)
            start += fan_in * fan_out
            h = h @ w + theta[start:start + fan_out]
            start += fan_out
            h = act(h) if i < len(shapes) - 1 else h
        log_p = jax.nn.log_softmax(h)[jnp.arange(y.shape[0]), y]
        return -log_p.sum() + decay * jnp.sum(theta**2)

    return potential


@dataclass
class NumPyroNUTS:
    """A compiled NumPyro NUTS transition; :meth:`run` does warmup + sampling, warm.

    ``MCMC.run`` re-traces (and so recompiles) on every call, so the transition
    ``kernel.sample`` is jitted once and iterated here: compile once, then every call is warm.
    """

    step: object
    init_state: object
    num_iterations: int
    compile_s: float = 0.0
    # leapfrog steps of the last run, (iterations,) or (iterations, chains) when vectorised
    last_steps: np.ndarray | None = None

    def run(self) -> int:
        """All warmup and sampling iterations from the initial state; leapfrog steps taken
        (summed over the chains when vectorised: the steps that advanced a chain)."""
        state, steps = self.init_state, []
        for _ in range(self.num_iterations):
            state = self.step(state)
            steps.append(state.num_steps)
        self.last_steps = np.asarray(steps)  # blocks until JAX has finished
        return int(self.last_steps.sum())

    def lockstep_steps(self) -> int:
        """Chain-gradients the last run computed: vectorised chains (``vmap``) run each
        iteration's while-loop until the longest tree ends, ``chains x max`` per iteration."""
        steps = self.last_steps.reshape(len(self.last_steps), -1)
        return int(steps.max(1).sum() * steps.shape[1])


def numpyro_nuts(spec: net.MLPSpec, x: np.ndarray, y: np.ndarray, prior_scale: float,
                 num_warmup: int, num_samples: int, max_tree_depth: int,
                 seed: int = 0, num_chains: int = 1) -> NumPyroNUTS:
    """Build NumPyro NUTS on ``potential_fn`` and compile it (``compile_s``: first run - warm).

    ``num_chains > 1``: NumPyro's ``chain_method="vectorized"`` (a batch of PRNG keys makes
    ``kernel.init`` ``vmap`` the transition), chain ``c`` started from
    ``init_theta(seed + c)``.
    """
    jax, jnp = _import_jax()
    import torch
    from numpyro.infer import NUTS

    potential = _potential(spec, jnp.asarray(x), jnp.asarray(y), prior_scale)
    kernel = NUTS(potential_fn=potential, max_tree_depth=max_tree_depth)
    inits = [net.init_theta(spec, torch.Generator().manual_seed(seed + c)).numpy()
             for c in range(num_chains)]
    key = jax.random.PRNGKey(seed)
    if num_chains == 1:
        init = jnp.asarray(inits[0])
    else:
        init, key = jnp.asarray(np.stack(inits)), jax.random.split(key, num_chains)
    state = kernel.init(key, num_warmup, init_params=init, model_args=(), model_kwargs={})
    runner = NumPyroNUTS(jax.jit(lambda s: kernel.sample(s, (), {})), state,
                         num_warmup + num_samples)
    start = time.perf_counter()
    runner.run()
    first = time.perf_counter() - start
    start = time.perf_counter()
    runner.run()
    runner.compile_s = max(0.0, first - (time.perf_counter() - start))
    return runner
