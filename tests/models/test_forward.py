"""Forward/backward smoke tests of the tiny generator and discriminator sizes."""

from __future__ import annotations

import pytest
import torch

from backend.models import build_discriminator, build_generator
from backend.models.commons import slice_segments

from .conftest import infer_inputs, make_batch, train_inputs

CASES = [("v1", True), ("v1", False), ("v2", True), ("v2", False)]


@pytest.mark.parametrize(("version", "f0"), CASES)
def test_generator_training_forward_and_backward(version, f0):
    G = build_generator(version, "40k", f0, size="tiny")
    cfg = G.cfg
    b = make_batch(cfg, frames=40)
    audio, ids, x_mask, z_mask, (z, z_p, m_p, logs_p, m_q, logs_q) = G(*train_inputs(b))
    seg = cfg.segment_frames
    assert audio.shape == (2, 1, seg * 400)
    assert ids.shape == (2,)
    assert int(ids[0]) <= 40 - seg and int(ids[1]) <= 34 - seg
    assert x_mask.shape == z_mask.shape == (2, 1, 40)
    assert float(x_mask[1, 0, 34:].abs().sum()) == 0.0
    for t in (z, z_p, m_p, logs_p, m_q, logs_q):
        assert t.shape == (2, cfg.inter_channels, 40)
    assert torch.isfinite(audio).all() and audio.abs().max() <= 1.0
    audio.square().mean().backward()
    grads = {n: p.grad for n, p in G.named_parameters()}
    assert grads["dec.conv_post.weight"] is not None
    assert grads["enc_q.pre.weight"].abs().sum() > 0
    assert grads["dec.ups.0.weight_g"].abs().sum() > 0
    if f0:
        assert grads["dec.m_source.l_linear.weight"].abs().sum() > 0


@pytest.mark.parametrize(("version", "f0"), CASES)
def test_generator_infer_lengths(version, f0):
    G = build_generator(version, "32k", f0, size="tiny").eval()
    b = make_batch(G.cfg, frames=25)
    audio = G.infer(*infer_inputs(b))
    assert audio.shape == (2, 1, 25 * 320)
    tail = G.infer(*infer_inputs(b), rate=0.4)
    assert tail.shape == (2, 1, 10 * 320)
    assert torch.isfinite(audio).all()


@pytest.mark.parametrize("rate", ["32k", "40k", "48k"])
def test_output_length_is_frames_times_hop(rate):
    hop = {"32k": 320, "40k": 400, "48k": 480}[rate]
    for version in ("v1", "v2"):
        G = build_generator(version, rate, True, size="tiny").eval()
        assert G.hop_length == hop
        b = make_batch(G.cfg, frames=7, batch=1)
        assert G.infer(*infer_inputs(b)).shape == (1, 1, 7 * hop)


def test_pitch_model_requires_pitch():
    G = build_generator("v2", "40k", True, size="tiny")
    b = make_batch(G.cfg, frames=40)
    b["pitch_coarse"] = None
    with pytest.raises(ValueError, match="pitch"):
        G(*train_inputs(b))


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_discriminator_outputs_and_gradients(version):
    D = build_discriminator(version, size="tiny")
    n_disc = 7 if version == "v1" else 9
    y = 0.1 * torch.randn(2, 1, 4000)
    y_hat = (0.1 * torch.randn(2, 1, 4000)).requires_grad_()
    y_d_rs, y_d_gs, fmap_rs, fmap_gs = D(y, y_hat)
    assert len(y_d_rs) == len(y_d_gs) == len(fmap_rs) == len(fmap_gs) == n_disc
    for r, g in zip(y_d_rs, y_d_gs, strict=True):
        assert r.shape == g.shape and r.shape[0] == 2
    assert all(len(f) == 7 for f in fmap_rs[:1]) and all(len(f) == 6 for f in fmap_rs[1:])
    sum(g.mean() for g in y_d_gs).backward()
    assert y_hat.grad is not None and y_hat.grad.abs().sum() > 0


def test_discriminator_batched_pass_equals_separate_passes():
    D = build_discriminator("v2", size="tiny")
    y, y_hat = torch.randn(1, 1, 3001), torch.randn(1, 1, 3001)
    y_d_rs, y_d_gs, fmap_rs, _ = D(y, y_hat)
    for i, disc in enumerate(D.discriminators):
        score_r, fmap_r = disc(y)
        score_g, _ = disc(y_hat)
        torch.testing.assert_close(y_d_rs[i], score_r, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(y_d_gs[i], score_g, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(fmap_rs[i][-1], fmap_r[-1], rtol=1e-4, atol=1e-5)


def test_generator_and_discriminator_together():
    G = build_generator("v2", "48k", True, size="tiny")
    D = build_discriminator("v2", size="tiny")
    b = make_batch(G.cfg, frames=40)
    audio, ids, *_ = G(*train_inputs(b))
    hop, seg = G.hop_length, G.segment_frames
    y = slice_segments(b["wave"], ids * hop, seg * hop)
    assert y.shape == audio.shape
    y_d_rs, y_d_gs, _, _ = D(y, audio)
    sum(g.mean() for g in y_d_gs).backward()
    assert G.dec.conv_pre.weight.grad is not None


def test_standard_v2_40k_f0_smoke_infer():
    G = build_generator("v2", "40k", True).eval()
    b = make_batch(G.cfg, frames=6, batch=1)
    audio = G.infer(*infer_inputs(b))
    assert audio.shape == (1, 1, 6 * 400)
    assert torch.isfinite(audio).all()


def test_generator_step_mode_matches_and_skips_weight_gradients():
    D = build_discriminator("v1", size="tiny")
    y = torch.randn(1, 1, 2000)
    y_hat = torch.randn(1, 1, 2000, requires_grad=True)
    plain = D(y, y_hat)
    with D.frozen():
        fast = D(y, y_hat, detach_real=True)
        assert not fast[0][0].requires_grad and fast[1][0].requires_grad
        sum(g.mean() for g in fast[1]).backward()
    for a, b in zip(plain[0] + plain[1], fast[0] + fast[1], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    assert y_hat.grad is not None
    assert all(p.grad is None and p.requires_grad for p in D.parameters())
