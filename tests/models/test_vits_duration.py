"""The stochastic duration predictor: its spline, its flow steps and that it learns."""

from __future__ import annotations

import pytest
import torch

from backend.models.vits.duration import (
    ConvFlow,
    DurationPredictor,
    ElementwiseAffine,
    FlipFlow,
    LogFlow,
    StochasticDurationPredictor,
)
from backend.models.vits.spline import rational_quadratic


def _spline_params(shape, bins=10, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, bins, generator=gen) * 2,
            torch.randn(*shape, bins, generator=gen) * 2,
            torch.randn(*shape, bins - 1, generator=gen))


def test_spline_is_monotonic_invertible_and_its_logdet_is_exact():
    x = torch.linspace(-6, 6, 241).view(1, -1).requires_grad_(True)
    # one spline for every point, so that monotonicity shows across them
    w, h, d = (t.expand(1, 241, -1) for t in _spline_params((1, 1)))
    y, logdet = rational_quadratic(x, w, h, d, bound=5.0)
    (slope,) = torch.autograd.grad(y.sum(), x)
    torch.testing.assert_close(logdet, torch.log(slope), atol=1e-4, rtol=1e-4)
    assert bool((y.diff() > 0).all())
    outside = (x.abs() > 5).detach()
    torch.testing.assert_close(y[outside], x[outside])  # identity tails
    assert float(y.detach().abs().max()) == pytest.approx(6.0)
    inside = ~outside
    assert float(y.detach()[inside].abs().max()) <= 5.0 + 1e-5
    back, logdet_back = rational_quadratic(y.detach(), w, h, d, inverse=True, bound=5.0)
    torch.testing.assert_close(back, x.detach(), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(logdet_back, -logdet.detach(), atol=1e-4, rtol=1e-4)


def test_spline_per_element_parameters_invert():
    # float64: some random bins are steep enough (slope e^-12) to lose float32 digits
    x = torch.randn(3, 2, 50, dtype=torch.float64) * 4
    w, h, d = (t.double() for t in _spline_params((3, 2, 50), seed=1))
    y, logdet = rational_quadratic(x, w, h, d)
    back, logdet_back = rational_quadratic(y, w, h, d, inverse=True)
    torch.testing.assert_close(back, x, atol=1e-8, rtol=1e-8)
    torch.testing.assert_close(logdet_back, -logdet, atol=1e-8, rtol=1e-8)


@pytest.mark.parametrize("flow", [ElementwiseAffine(2), FlipFlow(),
                                  ConvFlow(2, 8, 3, n_layers=3), LogFlow()])
def test_flow_steps_invert(flow):
    torch.manual_seed(0)
    for p in flow.parameters():  # away from the identity start
        torch.nn.init.normal_(p, 0.0, 0.3)
    x = torch.randn(2, 2, 7)
    if isinstance(flow, LogFlow):
        x = x.abs() + 0.1
    mask = torch.ones(2, 1, 7)
    mask[1, :, 5:] = 0
    g = torch.randn(2, 8, 7)
    y, logdet = flow(x, mask, g=g)
    assert logdet.shape == (2,)
    back = flow(y, mask, g=g, reverse=True)
    torch.testing.assert_close(back * mask, x * mask, atol=1e-4, rtol=1e-4)


def _fit(model, steps, target, h, mask, loss_fn, lr=1e-2):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = loss_fn(model, h, mask, target).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return losses


def test_stochastic_predictor_learns_the_durations():
    torch.manual_seed(0)
    sdp = StochasticDurationPredictor(8, 3, 0.0)
    h = torch.randn(1, 8, 8)
    mask = torch.ones(1, 1, 8)
    w = torch.tensor([[[2.0, 7.0, 3.0, 12.0, 1.0, 5.0, 9.0, 4.0]]])
    losses = _fit(sdp, 30, w, h, mask, lambda m, h, mk, t: m(h, mk, t) / mk.sum(), lr=2e-2)
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 1.0
    sdp.eval()
    with torch.no_grad():
        log_frames = sdp.infer(h, mask, noise_scale=0.0).squeeze()
    # the centre of the learnt density is near the targets (in log frames); a predictor
    # that learnt nothing predicts about 1 frame everywhere (error about 1.4)
    error = (log_frames - torch.log(w.squeeze())).abs().mean()
    assert error < 0.5, log_frames.exp()


def test_deterministic_predictor_learns_the_durations():
    torch.manual_seed(0)
    dp = DurationPredictor(16, 32, 3, 0.0)
    h = torch.randn(1, 16, 8)
    mask = torch.ones(1, 1, 8)
    w = torch.tensor([[[2.0, 7.0, 3.0, 12.0, 1.0, 5.0, 9.0, 4.0]]])
    _fit(dp, 150, w, h, mask,
         lambda m, h, mk, t: ((m(h, mk) - torch.log(t + 1e-6)) ** 2).sum() / mk.sum())
    frames = torch.exp(dp.eval()(h, mask)).squeeze()
    torch.testing.assert_close(frames, w.squeeze(), atol=0.3, rtol=0.05)
