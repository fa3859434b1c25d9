"""SameMaskDropout draws the very masks of nn.Dropout from the same seed, and leaves the generator
in the same state."""

import pytest
import torch
from torch import nn

from skelcl_lib.models.dropout import (
    CHUNK,
    SameMaskDropout,
    bernoulli_noise,
    same_stream_as_bernoulli,
)


def test_the_stream_check_passes_on_this_build():
    assert same_stream_as_bernoulli()


@pytest.mark.parametrize("p", [0.5, 0.3, 0.9])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("inplace", [False, True])
def test_same_output_gradient_and_generator_state_as_nn_dropout(p, dtype, inplace):
    x = torch.randn(3, 2 * CHUNK + 11, dtype=dtype)              # spans several chunks
    outs = []
    for layer in (nn.Dropout(p, inplace=inplace), SameMaskDropout(p, inplace=inplace)):
        layer.train()
        xi = x.clone().requires_grad_()
        torch.manual_seed(7)
        y = layer(xi * 1.0 if inplace else xi)                   # in place needs a non-leaf
        (g,) = torch.autograd.grad(y, xi, torch.ones_like(y))
        outs.append((y.detach(), g, torch.rand(3)))               # the draw after: same state
    (y_ref, g_ref, after_ref), (y, g, after) = outs
    assert torch.equal(y, y_ref)
    assert torch.equal(g, g_ref)
    assert torch.equal(after, after_ref)


def test_noise_equals_bernoulli_with_an_explicit_generator():
    like = torch.empty(5, CHUNK + 3)
    ref = torch.empty_like(like).bernoulli_(0.5, generator=torch.Generator().manual_seed(3)).div_(0.5)
    assert torch.equal(bernoulli_noise(like, 0.5, torch.Generator().manual_seed(3)), ref)


def test_eval_mode_and_edge_probabilities_are_nn_dropout():
    x = torch.randn(4, 10)
    assert torch.equal(SameMaskDropout(0.5).eval()(x), x)
    assert torch.equal(SameMaskDropout(0.0)(x), x)
    assert torch.equal(SameMaskDropout(1.0)(x), torch.zeros_like(x))
