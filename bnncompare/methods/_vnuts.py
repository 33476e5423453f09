# The NUTS algorithm here follows Pyro's pyro/infer/mcmc/nuts.py, Copyright (c) 2017-2019 Uber
# Technologies, Inc., Apache License 2.0 (LICENSES/Apache-2.0.txt). Rewritten by the bnncompare
# developers for K chains in lockstep with one batched gradient per leapfrog. See NOTICE.
"""NUTS for K chains in lockstep: one batched potential + gradient per leapfrog step.

Pyro's NUTS (``pyro.infer.mcmc.nuts``, Apache-2.0) builds one chain's tree with a recursion of
tiny-tensor operations; per leapfrog step that dispatch costs as much as the gradient itself.
Here K chains share every tensor operation: their positions are one ``(K, P)`` tensor and one
call of :func:`~bnncompare.methods._potential.batched_value_and_grad` moves them all.

The algorithm is Pyro's multinomial NUTS, chain by chain:

- trajectory doubling with a random direction per doubling; each new subtree of depth ``d``
  takes ``2**d`` leapfrog steps from the trajectory's end in that direction;
- inside a subtree the proposal is drawn multinomially over its leaves (weights
  ``exp(-H)``), once the subtree is complete: the same distribution as Pyro's recursive
  merges (which draw it pairwise);
- at the top level biased progressive sampling (accept the subtree's proposal with
  probability ``min(1, w_subtree / w_trajectory)``);
- the generalised U-turn criterion on ``M^{-1/2} r`` (Betancourt 2013, A.4.2; Pyro's
  ``_is_turning``) for every balanced sub-subtree, in the order Pyro's recursion checks them
  (a sub-subtree is checked when its last leaf is built: the iterative form of the recursion),
  and for the whole trajectory after each doubling. Like Pyro, no extra checks across
  neighbouring sub-subtrees (NumPyro/Stan >= 2.23 add them; Pyro is this suite's reference);
- divergence when ``H - H_0 > 1000`` (Pyro's ``_max_sliced_energy``), NaN energy = +inf.

Lockstep: every chain runs the same tree shape (leaf ``i`` of depth ``d``); a chain whose
trajectory has stopped (U-turn, divergence) is masked: its positions are still computed in the
batch but never change its state, its accept statistics or its step count. ``used`` counts
the leapfrog steps that advanced each chain, ``calls`` the batched calls (the work done).

Randomness: each chain draws from its own ``torch.Generator``, a fixed number of numbers per
iteration (momentum, and per doubling a direction and two uniforms), so a chain's
draws depend only on its seed: the same in a batch of 4 as alone (a test).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch

__all__ = ["BatchedNUTS", "IterationRandoms", "Transition", "draw_randoms"]

MAX_SLICED_ENERGY = 1000.0  # Pyro's NUTS._max_sliced_energy


@dataclass
class IterationRandoms:
    """One iteration's random numbers for K chains, drawn per chain from its generator."""

    momentum: torch.Tensor    # (K, P) standard normal (unscaled momentum)
    go_right: torch.Tensor    # (K, D) bool, the direction of each doubling
    top: torch.Tensor         # (K, D) uniform, top-level acceptance of each subtree
    leaf: torch.Tensor        # (K, D) uniform, the proposal draw inside each subtree


def draw_randoms(generators: list[torch.Generator], n_params: int, depth: int,
                 like: torch.Tensor) -> IterationRandoms:
    """A fixed amount of randomness per chain and iteration (so streams never interleave)."""
    n_uniform = 3 * depth
    momentum = torch.stack([torch.randn(n_params, generator=g) for g in generators])
    uniform = torch.stack([torch.rand(n_uniform, generator=g, dtype=torch.float64)
                           for g in generators])
    momentum = momentum.to(like)
    uniform = uniform.to(like.device)
    return IterationRandoms(momentum, uniform[:, :depth] < 0.5, uniform[:, depth:2 * depth],
                            uniform[:, 2 * depth:])


@dataclass
class Transition:
    """What one NUTS iteration did, per chain."""

    accept_prob: torch.Tensor  # (K,) mean Metropolis acceptance over the built leaves
    steps: torch.Tensor        # (K,) leapfrog steps that advanced the chain
    diverged: torch.Tensor     # (K,) bool
    tree_depth: torch.Tensor   # (K,) doublings the chain took part in
    energy: torch.Tensor       # (K,) Hamiltonian H = U + |u|^2 / 2 at the chosen point


def _is_turning(r_left: torch.Tensor, r_right: torch.Tensor,
                r_sum: torch.Tensor) -> torch.Tensor:
    """Pyro's ``NUTS._is_turning`` per chain: all arguments unscaled momenta ``M^{-1/2} r``."""
    return ~_not_turning(r_left, r_right, r_sum)


def _not_turning(r_left, r_right, r_sum, zero=0.0) -> torch.Tensor:
    """``r_left . rho > 0 and r_right . rho > 0`` with ``rho = r_sum - (r_left + r_right)/2``
    (NaN compares False: a NaN momentum counts as turning). ``zero`` may be a 0-d tensor of
    the momenta's dtype: comparing with a Python number casts it to a tensor on every call."""
    rho = torch.sub(r_sum, r_left + r_right, alpha=0.5)
    return torch.minimum(torch.linalg.vecdot(r_left, rho),
                         torch.linalg.vecdot(r_right, rho)) > zero


def _select(mask: torch.Tensor, new: tuple, old: tuple) -> tuple:
    """Per chain: ``new`` where ``mask`` (K,) else ``old``, for tensors (K, ...)."""
    out = []
    for a, b in zip(new, old, strict=True):
        m = mask.view(-1, *([1] * (a.dim() - 1)))
        out.append(torch.where(m, a, b))
    return tuple(out)


class BatchedNUTS:
    """NUTS transitions for K chains with per-chain step sizes and diagonal mass matrices.

    Parameters
    ----------
    evaluate : callable
        ``theta (K, P) -> (U (K,), dU/dtheta (K, P))``.
    num_chains, n_params : int
    max_tree_depth : int
    like : Tensor
        Dtype and device of the positions.
    """

    def __init__(self, evaluate, num_chains: int, n_params: int, max_tree_depth: int,
                 like: torch.Tensor):
        self._evaluate = evaluate
        self.max_tree_depth = max_tree_depth
        self.step_size = torch.ones(num_chains, dtype=torch.float64, device=like.device)
        self.inverse_mass = torch.ones(num_chains, n_params, dtype=like.dtype,
                                       device=like.device)
        self.calls = 0  # batched potential+gradient calls
        self.used = torch.zeros(num_chains, dtype=torch.long, device=like.device)
        # thresholds as 0-d tensors: a Python number is wrapped and cast on every comparison
        self._zero = torch.zeros((), dtype=like.dtype, device=like.device)
        self._min_leaf_weight = torch.full((), -MAX_SLICED_ENERGY, dtype=like.dtype,
                                           device=like.device)

    @property
    def inverse_mass(self) -> torch.Tensor:
        return self._inverse_mass

    @inverse_mass.setter
    def inverse_mass(self, value: torch.Tensor) -> None:
        # Pyro's BlockMassMatrix for a diagonal: r = M^{1/2} u, u = M^{-1/2} r. The sampler
        # moves u itself (below), so M^{1/2} is never needed
        self._inverse_mass = value
        self._sqrt_inverse = value.sqrt()

    def evaluate(self, theta: torch.Tensor, active: torch.Tensor | bool = True):
        """Batched ``U, dU`` (one call); ``active`` chains (True: all; False: none, the
        caller counts them) are counted as used."""
        self.calls += 1
        if active is True:
            self.used += 1
        elif active is not False:
            self.used += active
        return self._evaluate(theta)

    @staticmethod
    def kinetic(u: torch.Tensor) -> torch.Tensor:
        """``0.5 |u|^2`` per chain, ``u = M^{-1/2} r`` the unscaled momentum."""
        return 0.5 * torch.linalg.vecdot(u, u)

    def leapfrog(self, z, u, grad, signed_step, active=True):
        """One velocity-Verlet step per chain (Pyro's ``_single_step_verlet``) on the
        unscaled momentum ``u``; ``signed_step`` (K, 1). Returns ``(z, u, grad, U)``."""
        return self._leapfrog(z, u, grad, *self._scales(signed_step), active)

    def _scales(self, signed_step):
        """Per-coordinate half step and position step for ``u``: Pyro's
        ``r -= eps/2 grad; z += eps M^{-1} r`` is ``u -= (eps/2) M^{-1/2} grad;
        z += eps M^{-1/2} u`` (one product per leaf fewer than scaling ``r`` to ``u``)."""
        return (0.5 * signed_step) * self._sqrt_inverse, signed_step * self._sqrt_inverse

    def _leapfrog(self, z, u, grad, half, step, active):
        u_half = torch.addcmul(u, half, grad, value=-1)
        z = torch.addcmul(z, step, u_half)
        pe, grad = self.evaluate(z, active)
        return z, torch.addcmul(u_half, half, grad, value=-1), grad, pe

    def _subtree(self, start, signed_step, depth, energy0, alive, uniform):
        """Build one subtree of ``2**depth`` leaves from ``start = (z, u, grad)`` for the
        ``alive`` chains (leaf by leaf, the order of Pyro's recursion).

        Returns its last leaf ``(z, u, grad)``, its multinomial proposal
        ``(z, U, grad)``, the proposal's leaf weight ``H_0 - H``, the subtree's log-weight,
        its momentum sum, the chains for which it completed
        without U-turn or divergence, and per-leaf records (weights, who built each leaf)
        for the acceptance statistics.
        """
        z, u, grad = start
        half, step = self._scales(signed_step)
        alive = alive.clone()
        r_sum = torch.zeros_like(z)
        leaves, weights, built = [], [], []
        marks: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        for i, (starting, ending) in enumerate(_balanced_blocks(depth)):
            built.append(alive)
            z, u, grad, pe = self._leapfrog(z, u, grad, half, step, False)
            # multinomial weight of the leaf: -(sliced energy) = H_0 - H; NaN stops the chain
            leaf_w = energy0 - torch.add(pe, torch.linalg.vecdot(u, u), alpha=0.5)
            leaves.append((z, pe, grad))
            weights.append(leaf_w)
            alive = alive & (leaf_w >= self._min_leaf_weight)
            for k in starting:  # sub-subtrees of 2**k leaves starting here
                marks[k] = (u, r_sum)
            r_sum = r_sum + u
            for k in ending:  # ... and those ending here: Pyro's merge checks
                first, before = marks[k]
                alive = alive & _not_turning(first, u, r_sum - before, self._zero)
            if ending and i + 1 < 2**depth and not bool(alive.any()):
                break
        weights_t = torch.stack(weights, 1).nan_to_num(nan=-math.inf)  # (K, leaves)
        proposal, picked_w, log_w = _multinomial(leaves, weights_t, uniform)
        return (z, u, grad), proposal, picked_w, log_w, r_sum, alive, \
            (weights_t, torch.stack(built, 1))

    def transition(self, z, pe, grad, rand: IterationRandoms):
        """One NUTS iteration for every chain from ``(z, U, dU)``.

        Returns the new ``(z, U, dU)`` and a :class:`Transition`.
        """
        u = rand.momentum  # u = M^{-1/2} r is standard normal: r = M^{1/2} u is never formed
        energy0 = pe + self.kinetic(u)
        # the trajectory's ends as (K, 3, P) stacks of (z, u, grad): one where per end update
        left = right = torch.stack((z, u, grad), 1)
        r_sum, log_w = u, torch.zeros_like(energy0)
        active = torch.ones_like(energy0, dtype=torch.bool)
        records = []
        state = (z, pe, grad)
        state_w = torch.zeros_like(energy0)  # H_0 - H of the chosen point (the start: 0)
        step = self.step_size.to(z.dtype).unsqueeze(1)
        for depth in range(self.max_tree_depth):
            go_right = rand.go_right[:, depth]
            to_right = go_right.view(-1, 1, 1)  # per chain, over the (K, 3, P) end stacks
            start = torch.where(to_right, right, left).unbind(1)
            signed = torch.where(go_right.unsqueeze(1), step, -step)
            end, proposal, picked_w, sub_w, sub_sum, ok, record = self._subtree(
                start, signed, depth, energy0, active, rand.leaf[:, depth])
            records.append(record)
            end = torch.stack(end, 1)
            right = torch.where(to_right, end, right)
            left = torch.where(to_right, left, end)
            accept = ok & (rand.top[:, depth] < (sub_w - log_w).exp())
            state = _select(accept, proposal, state)
            state_w = torch.where(accept, picked_w, state_w)
            r_sum = r_sum + sub_sum
            log_w = torch.logaddexp(log_w, sub_w)
            active = ok & _not_turning(left[:, 1], right[:, 1], r_sum, self._zero)
            if not bool(active.any()):
                break
        return state, self._statistics(records, energy0 - state_w)

    def _statistics(self, records, energy: torch.Tensor) -> Transition:
        """Per chain: leaves built, mean acceptance over them (Pyro's ``sum_accept_probs /
        num_proposals``), whether one of them diverged, and the doublings it took part in
        (those whose first leaf it built)."""
        weights = torch.cat([w for w, _ in records], 1)
        built = torch.cat([b for _, b in records], 1)
        steps = built.sum(1)
        self.used += steps
        # a running sum (cumsum is sequential), not .sum(): a vectorised sum's rounding
        # depends on the row length, which depends on when the batch's other chains stop
        accept = torch.where(built, weights.exp().clamp(max=1.0), 0.0).cumsum(1)[:, -1]
        diverged = (built & (weights < -MAX_SLICED_ENERGY)).any(1)
        depth = torch.stack([b[:, 0] for _, b in records], 1).sum(1)
        return Transition(accept / steps.clamp(min=1), steps, diverged, depth, energy)


@functools.cache
def _balanced_blocks(depth: int) -> list[tuple[list[int], list[int]]]:
    """Per leaf ``i`` of a subtree of ``2**depth`` leaves: the sizes ``k`` (``2**k`` leaves,
    ``k >= 1``) of the balanced sub-subtrees that start at ``i`` and that end at ``i``."""
    levels = range(1, depth + 1)
    return [([k for k in levels if i % 2**k == 0], [k for k in levels if (i + 1) % 2**k == 0])
            for i in range(2**depth)]


def _multinomial(leaves, weights: torch.Tensor, uniform: torch.Tensor):
    """One leaf per chain with probability ``softmax(weights)`` by inverting the CDF at
    ``uniform`` (K,); returns its ``(z, U, grad)``, its weight and the log of the total
    weight."""
    log_w = torch.logsumexp(weights, 1)
    if len(leaves) == 1:
        return leaves[0], weights[:, 0], log_w
    cdf = (weights - log_w.unsqueeze(1)).exp().cumsum(1)
    index = (cdf < uniform.to(cdf.dtype).unsqueeze(1)).sum(1).clamp(max=len(leaves) - 1)
    # gather only the K picked rows (stacking every leaf first costs a copy of them all)
    picked = [leaves[i] for i in index.tolist()]
    return tuple(torch.stack([leaf[part][c] for c, leaf in enumerate(picked)])
                 for part in range(3)), weights.gather(1, index.unsqueeze(1)).squeeze(1), log_w
