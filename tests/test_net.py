"""Known-answer tests for bnncompare.net: flat layout, batched forward pass, chunked predictive."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from roundoff import assert_within, logit_bound, mean_bound, proba_bound

from bnncompare import net
from bnncompare.net import MLPSpec

SPECS = [
    MLPSpec(3, 4),                                   # multinomial logistic regression
    MLPSpec(3, 2, (5,), "tanh"),
    MLPSpec(3, 3, (5, 4), "relu"),
]


def _reference_logits(widths, activation, theta, x):
    """``x @ W + b`` layer by layer for ONE flat vector, slicing the layout by hand (float64)."""
    act = {"tanh": torch.tanh, "relu": torch.relu}[activation]
    h, start = x.double(), 0
    pairs = list(itertools.pairwise(widths))
    for k, (fan_in, fan_out) in enumerate(pairs):
        w = theta[start:start + fan_in * fan_out].double().reshape(fan_in, fan_out)
        start += fan_in * fan_out
        b = theta[start:start + fan_out].double()
        start += fan_out
        h = h @ w + b
        if k < len(pairs) - 1:
            h = act(h)
    assert start == theta.shape[-1]
    return h


def _draws(spec, s, seed=0):
    return torch.randn(s, spec.n_params, generator=torch.Generator().manual_seed(seed))


def _x(spec, n=7, seed=1):
    return torch.randn(n, spec.n_features, generator=torch.Generator().manual_seed(seed))


# ------------------------------------------------------------------------------------ layout
def test_n_params_hand_computed():
    # 4*20+20 + 20*50+50 + 50*20+20 + 20*3+3 = 100 + 1050 + 1020 + 63
    assert MLPSpec(4, 3, (20, 50, 20)).n_params == 2233
    assert MLPSpec(2, 3).n_params == 9
    assert MLPSpec(4, 3, (20, 50, 20)).layer_shapes == [(4, 20), (20, 50), (50, 20), (20, 3)]


def test_unflatten_slices_known_vector():
    spec = MLPSpec(2, 2, (3,))          # P = 2*3 + 3 + 3*2 + 2 = 17
    theta = torch.arange(17.0)
    (w1, b1), (w2, b2) = spec.unflatten(theta)
    torch.testing.assert_close(w1, torch.tensor([[0.0, 1, 2], [3, 4, 5]]))
    torch.testing.assert_close(b1, torch.tensor([6.0, 7, 8]))
    torch.testing.assert_close(w2, torch.tensor([[9.0, 10], [11, 12], [13, 14]]))
    torch.testing.assert_close(b2, torch.tensor([15.0, 16]))
    # batched: every leading index gets its own slices; concatenating them rebuilds theta
    batch = torch.stack([theta, theta + 100])
    layers = spec.unflatten(batch)
    torch.testing.assert_close(layers[1][0][1], w2 + 100)
    rebuilt = torch.cat([t.reshape(2, -1) for pair in layers for t in pair], dim=1)
    torch.testing.assert_close(rebuilt, batch)


def test_unflatten_rejects_wrong_length():
    with pytest.raises(ValueError, match="theta has 16 entries, the MLP needs 17"):
        MLPSpec(2, 2, (3,)).unflatten(torch.zeros(16))


def test_init_theta_glorot_layout():
    spec = MLPSpec(4, 3, (6,))
    theta = net.init_theta(spec, torch.Generator().manual_seed(0))
    assert theta.shape == (spec.n_params,) and theta.dtype == torch.float32
    (w1, b1), (w2, b2) = spec.unflatten(theta)
    assert torch.all(b1 == 0) and torch.all(b2 == 0)
    assert w1.abs().max() <= math.sqrt(6 / 10) and w2.abs().max() <= math.sqrt(6 / 9)
    assert w1.abs().max() > 0.5 * math.sqrt(6 / 10)  # uniform over the bound, not shrunk
    again = net.init_theta(spec, torch.Generator().manual_seed(0))
    assert torch.equal(theta, again)


# ----------------------------------------------------------------------------- forward pass
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"h{s.hidden_sizes}-{s.activation}")
def test_logits_single_draw_matches_reference(spec):
    theta, x = _draws(spec, 1)[0], _x(spec)
    out = net.logits(spec, theta, x)
    assert out.shape == (7, spec.n_classes)
    ref = _reference_logits(spec.widths, spec.activation, theta, x)
    # float32 vs exact: within the worst-case round-off of each logit (roundoff.py)
    assert_within(out, ref, logit_bound(spec, theta, x), "logits")


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"h{s.hidden_sizes}-{s.activation}")
def test_logits_batched_matches_per_draw_loop(spec):
    theta, x = _draws(spec, 6), _x(spec)
    ref = torch.stack([_reference_logits(spec.widths, spec.activation, t, x) for t in theta])
    out = net.logits(spec, theta, x)
    assert out.shape == (6, 7, spec.n_classes)
    bound = logit_bound(spec, theta, x)  # the folded GEMM adds in its own order: round-off
    assert_within(out, ref, bound, "batched logits")
    # (K, 1, P): the shape Pyro's vectorised particles arrive in
    out3 = net.logits(spec, theta.reshape(6, 1, -1), x)
    assert out3.shape == (6, 1, 7, spec.n_classes)
    assert_within(out3.reshape(6, 7, -1), ref, bound, "(K, 1, P) logits")


def test_logits_distinguishes_draws():
    # guard against a broadcast that silently reuses draw 0 for every draw
    spec = SPECS[2]
    out = net.logits(spec, _draws(spec, 3), _x(spec))
    assert not torch.allclose(out[0], out[1]) and not torch.allclose(out[1], out[2])


# ------------------------------------------------------------------------ predictive (chunked)
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"h{s.hidden_sizes}-{s.activation}")
def test_mean_proba_equals_mean_of_samples(spec):
    theta, x = _draws(spec, 50), _x(spec, n=9)
    samples = net.proba_samples(spec, theta, x)
    assert samples.shape == (50, 9, spec.n_classes)
    # a row of C float32 probabilities sums to 1 within ~C ulps; default float32 tolerance
    torch.testing.assert_close(samples.sum(-1), torch.ones(50, 9))
    ref = torch.softmax(torch.stack([_reference_logits(spec.widths, spec.activation, t, x)
                                     for t in theta]), -1)
    assert_within(samples, ref, proba_bound(spec, theta, x, ref), "probabilities")
    mean = net.mean_proba(spec, theta, x)
    assert mean.shape == (9, spec.n_classes)
    # same per-draw probabilities, summed over the 50 draws in another order
    assert_within(mean, samples.mean(0), mean_bound(50, ref.mean(0)), "mean over draws")
    torch.testing.assert_close(mean.sum(-1), torch.ones(9))


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"h{s.hidden_sizes}-{s.activation}")
def test_chunking_does_not_change_results(spec, monkeypatch):
    theta, x = _draws(spec, 50), _x(spec, n=9)
    full_samples, full_mean = net.proba_samples(spec, theta, x), net.mean_proba(spec, theta, x)
    assert net.chunk_size_for(spec, 9) >= 50  # default: one chunk
    # 9 rows * widest layer (<= 5) * 7 draws <= 400 floats: 7 or more chunks, the last ragged
    monkeypatch.setattr(net, "_CHUNK_FLOATS", 9 * max(spec.widths) * 7)
    assert net.chunk_size_for(spec, 9) == 7
    # Chunking changes the GEMMs' shapes, hence their blocking and the order each logit's
    # terms are added in: results move by float32 round-off (an AMD EPYC moved one
    # probability by 1.19e-7, over the 1e-7 once allowed here). Each side is within the
    # round-off bound of the exact value, so they are within twice it of each other.
    ref = torch.softmax(torch.stack([_reference_logits(spec.widths, spec.activation, t, x)
                                     for t in theta]), -1)
    per_draw = proba_bound(spec, theta, x, ref)
    assert_within(net.proba_samples(spec, theta, x), full_samples, 2 * per_draw,
                  "chunked probabilities")
    # the mean: the per-draw round-off, averaged, plus two orders of summing 50 draws
    mean_tol = 2 * per_draw.mean(0) + mean_bound(50, ref.mean(0))
    assert_within(net.mean_proba(spec, theta, x), full_mean, mean_tol, "chunked mean")
    monkeypatch.setattr(net, "_CHUNK_FLOATS", 1)  # one draw per chunk
    assert net.chunk_size_for(spec, 9) == 1
    assert_within(net.mean_proba(spec, theta, x), full_mean, mean_tol, "one draw per chunk")


def test_chunk_size_bounds_memory():
    spec = MLPSpec(10, 3, (100,))
    size = net.chunk_size_for(spec, 1000)
    assert size * 1000 * 100 <= net._CHUNK_FLOATS < (size + 1) * 1000 * 100
    assert net.chunk_size_for(spec, 10**9) == 1  # never zero
