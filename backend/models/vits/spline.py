"""Monotonic rational-quadratic splines with linear tails (the stochastic duration
predictor's coupling transform; Durkan et al. 2019, "Neural Spline Flows").

Inside ``[-bound, bound]`` the map is a piecewise rational-quadratic function through
``n_bins + 1`` knots whose widths, heights and inner-knot derivatives come from
unconstrained network outputs; outside it is the identity (derivative 1 at both ends, so
the map is continuous and smooth at the boundary). Forward and inverse are exact inverses;
each returns the log of ``|d output / d input|`` of the map applied.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F  # noqa: N812

MIN_WIDTH = 1e-3
MIN_HEIGHT = 1e-3
MIN_DERIVATIVE = 1e-3


def _knots(raw: torch.Tensor, minimum: float, bound: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Unconstrained bin sizes -> (knot positions ``[..., n+1]``, bin sizes ``[..., n]``)."""
    n_bins = raw.size(-1)
    sizes = minimum + (1 - minimum * n_bins) * torch.softmax(raw, dim=-1)
    knots = F.pad(torch.cumsum(sizes, dim=-1), (1, 0), value=0.0)
    knots = 2 * bound * knots - bound
    knots = torch.cat([torch.full_like(knots[..., :1], -bound), knots[..., 1:-1],
                       torch.full_like(knots[..., :1], bound)], dim=-1)
    return knots, knots[..., 1:] - knots[..., :-1]


def _bin_of(knots: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Index of the bin holding each ``x`` (the last knot counts into the last bin)."""
    edges = knots.clone()
    edges[..., -1] += 1e-6
    return (x.unsqueeze(-1) >= edges).sum(-1, keepdim=True).sub(1).clamp(0, knots.size(-1) - 2)


def rational_quadratic(x: torch.Tensor, widths: torch.Tensor, heights: torch.Tensor,
                       derivatives: torch.Tensor, inverse: bool = False,
                       bound: float = 5.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Apply the spline elementwise: ``x`` ``[...]``; ``widths`` / ``heights`` ``[..., n]``
    and ``derivatives`` ``[..., n - 1]`` unconstrained. Returns (y, log|dy/dx|)."""
    inside = (x >= -bound) & (x <= bound)
    y = x.clone()
    logdet = torch.zeros_like(x)
    if not bool(inside.any()):
        return y, logdet
    edge = math.log(math.exp(1 - MIN_DERIVATIVE) - 1)  # softplus(edge) + min = 1
    derivs = F.pad(derivatives, (1, 1), value=edge)
    y_in, ld_in = _spline(x[inside], widths[inside], heights[inside], derivs[inside],
                          inverse, bound)
    y[inside] = y_in.to(y.dtype)
    logdet[inside] = ld_in.to(logdet.dtype)
    return y, logdet


def _spline(x, raw_w, raw_h, raw_d, inverse: bool, bound: float):
    xk, w = _knots(raw_w, MIN_WIDTH, bound)
    yk, h = _knots(raw_h, MIN_HEIGHT, bound)
    d = MIN_DERIVATIVE + F.softplus(raw_d)
    idx = _bin_of(yk if inverse else xk, x)

    def at(t: torch.Tensor) -> torch.Tensor:
        return t.gather(-1, idx).squeeze(-1)

    x0, w0, y0, h0 = at(xk), at(w), at(yk), at(h)
    d0, d1 = at(d), d[..., 1:].gather(-1, idx).squeeze(-1)
    slope = h0 / w0
    curve = d0 + d1 - 2 * slope
    if inverse:
        dy = x - y0
        a = dy * curve + h0 * (slope - d0)
        b = h0 * d0 - dy * curve
        c = -slope * dy
        disc = (b.pow(2) - 4 * a * c).clamp_min(0)
        theta = (2 * c) / (-b - torch.sqrt(disc))
        out = theta * w0 + x0
    else:
        theta = (x - x0) / w0
        t1 = theta * (1 - theta)
        out = y0 + h0 * (slope * theta.pow(2) + d0 * t1) / (slope + curve * t1)
    t1 = theta * (1 - theta)
    denom = slope + curve * t1
    numer = slope.pow(2) * (d1 * theta.pow(2) + 2 * slope * t1 + d0 * (1 - theta).pow(2))
    logdet = torch.log(numer) - 2 * torch.log(denom)
    return out, -logdet if inverse else logdet
