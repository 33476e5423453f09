# Portions derived from Pyro's pyro/infer/mcmc/nuts.py, Copyright (c) 2017-2019 Uber
# Technologies, Inc., Apache License 2.0 (LICENSES/Apache-2.0.txt). Modified by the bnncompare
# developers: velocity Verlet on one flat tensor with a hand-written gradient, torch.bernoulli
# subtree choices. See NOTICE.
"""Pyro's NUTS with a lean per-leapfrog path: the same algorithm, the same draws.

Per leapfrog step Pyro's ``NUTS`` runs ``velocity_verlet`` on dicts of tensors, asks autograd
for the gradient (``potential_grad``: ``requires_grad_`` toggles, a graph, ``autograd.grad``),
packs and unpacks the momentum through the mass-matrix adapter (``torch.cat`` per call) and
builds a ``Bernoulli`` distribution for every subtree merge. Measured on the iris MLP that was
more than the gradient itself (``benchmarks/nuts_speed.py profile``).

:class:`FlatNUTS` subclasses Pyro's kernel and replaces only the two per-leapfrog methods:
``_build_basetree`` (one velocity-Verlet step on the flat ``theta``, the gradient straight from
the hand-written :func:`~bnncompare.methods._potential.value_and_grad`, no autograd) and
``_build_tree`` (the same recursion, ``torch.bernoulli`` for the subtree choice). Warm-up
(dual averaging, windowed diagonal mass matrix), the step-size search, the doubling loop in
``sample`` and every random draw stay Pyro's. The arithmetic is written in Pyro's order, so the
chain is bit-for-bit Pyro's NUTS on the same potential (``tests/methods/test_nuts.py``).
The tree recursion follows ``pyro.infer.mcmc.nuts`` (Apache-2.0).
"""

from __future__ import annotations

import torch
from pyro.infer.mcmc.nuts import NUTS, _logaddexp, _TreeInfo

from bnncompare.methods._potential import ManualGradPotential

__all__ = ["FlatNUTS"]

SITE = "theta"
KEY = (SITE,)  # the mass-matrix block of the one flat site


class FlatNUTS(NUTS):
    """Pyro ``NUTS`` over one flat site ``theta`` with a :class:`ManualGradPotential`.

    Diagonal mass matrix only (``full_mass=False``), multinomial sampling (Pyro's default).
    """

    def __init__(self, potential_fn: ManualGradPotential, **kwargs):
        if kwargs.get("full_mass"):
            raise ValueError("FlatNUTS supports a diagonal mass matrix only")
        super().__init__(potential_fn=potential_fn, **kwargs)

    def _build_basetree(self, z, r, z_grads, log_slice, direction, energy_current):
        step_size = self.step_size if direction == 1 else -self.step_size
        adapter = self.mass_matrix_adapter
        # velocity Verlet, term for term as pyro.ops.integrator._single_step_verlet
        r_half = r[SITE] + 0.5 * step_size * (-z_grads[SITE])
        z_new = z[SITE] + step_size * adapter.inverse_mass_matrix[KEY].mul(r_half)
        potential = self.potential_fn
        potential.calls += 1
        potential_energy, grad = potential.evaluate(z_new)
        r_new = r_half + 0.5 * step_size * (-grad)
        r_new_unscaled = adapter._mass_matrix_sqrt_inverse[KEY].mul(r_new)
        energy_new = potential_energy + 0.5 * r_new_unscaled.dot(r_new_unscaled)
        if torch.isnan(energy_new):
            energy_new = torch.full_like(energy_new, float("inf"))
        sliced_energy = energy_new + log_slice
        diverging = sliced_energy > self._max_sliced_energy
        accept_prob = (energy_current - energy_new).exp().clamp(max=1.0)
        z_d, r_d, g_d, ru_d = {SITE: z_new}, {SITE: r_new}, {SITE: grad}, {KEY: r_new_unscaled}
        return _TreeInfo(z_d, r_d, ru_d, g_d, z_d, r_d, ru_d, g_d, z_d, potential_energy, g_d,
                         ru_d, -sliced_energy, False, diverging, accept_prob, 1)

    def _build_tree(self, z, r, z_grads, log_slice, direction, tree_depth, energy_current):
        if tree_depth == 0:
            return self._build_basetree(z, r, z_grads, log_slice, direction, energy_current)
        half = self._build_tree(z, r, z_grads, log_slice, direction, tree_depth - 1,
                                energy_current)
        if half.turning or half.diverging:
            return half
        if direction == 1:
            start = (half.z_right, half.r_right, half.z_right_grads)
        else:
            start = (half.z_left, half.r_left, half.z_left_grads)
        other = self._build_tree(*start, log_slice, direction, tree_depth - 1, energy_current)
        tree_weight = _logaddexp(half.weight, other.weight)
        r_sum = {KEY: half.r_sum[KEY] + other.r_sum[KEY]}
        # the proposal comes from the other half with probability w_other / w_total
        # (Pyro draws it as pyro.sample(Bernoulli(p)), which is torch.bernoulli(p))
        if torch.bernoulli((other.weight - tree_weight).exp()) == 1:
            proposal = other
        else:
            proposal = half
        left, right = (half, other) if direction == 1 else (other, half)
        turning = other.turning or self._is_turning(left.r_left_unscaled,
                                                    right.r_right_unscaled, r_sum)
        return _TreeInfo(left.z_left, left.r_left, left.r_left_unscaled, left.z_left_grads,
                         right.z_right, right.r_right, right.r_right_unscaled,
                         right.z_right_grads, proposal.z_proposal, proposal.z_proposal_pe,
                         proposal.z_proposal_grads, r_sum, tree_weight, turning,
                         other.diverging, half.sum_accept_probs + other.sum_accept_probs,
                         half.num_proposals + other.num_proposals)
