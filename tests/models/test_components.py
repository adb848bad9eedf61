"""Building blocks checked against direct definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F  # noqa: N812

from backend.models import losses
from backend.models.attentions import RelativeMultiHeadAttention
from backend.models.mel import mel_config, mel_spectrogram, spectrogram
from backend.models.modules import ResidualCouplingBlock
from backend.models.nsf import SineSource
from backend.models.wnconv import WNConv1d, WNConv2d, WNConvTranspose1d


def _naive_relative_attention(attn: RelativeMultiHeadAttention, x: torch.Tensor) -> torch.Tensor:
    """Loop over (query, key) pairs with explicit relative positions j - i."""
    h, d, w = attn.n_heads, attn.head_dim, attn.window
    t = x.size(2)
    q, k, v = (conv(x)[0].view(h, d, t) for conv in (attn.conv_q, attn.conv_k, attn.conv_v))
    ek, ev = attn.emb_rel_k[0], attn.emb_rel_v[0]
    out = torch.zeros(h, d, t)
    for head in range(h):
        for i in range(t):
            qi = q[head, :, i] / math.sqrt(d)
            scores = torch.empty(t)
            for j in range(t):
                s = qi @ k[head, :, j]
                if abs(j - i) <= w:
                    s = s + qi @ ek[j - i + w]
                scores[j] = s
            p = torch.softmax(scores, 0)
            for j in range(t):
                val = v[head, :, j] + (ev[j - i + w] if abs(j - i) <= w else 0)
                out[head, :, i] += p[j] * val
    return attn.conv_o(out.reshape(1, h * d, t))


@pytest.mark.parametrize("length", [3, 9])
def test_relative_attention_matches_direct_definition(length):
    attn = RelativeMultiHeadAttention(8, 8, n_heads=2, p_dropout=0.0, window=2).eval()
    x = torch.randn(1, 8, length)
    mask = torch.ones(1, 1, length, length)
    torch.testing.assert_close(attn(x, mask), _naive_relative_attention(attn, x),
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    ("cls", "args", "shape"),
    [(WNConv1d, (4, 6, 3), (2, 4, 20)), (WNConv2d, (1, 5, (5, 1)), (2, 1, 20, 3)),
     (WNConvTranspose1d, (6, 3, 8, 4), (2, 6, 10))],
)
def test_weight_norm_convs(cls, args, shape):
    conv = cls(*args)
    assert {"weight_g", "weight_v", "bias"} == set(conv.state_dict())
    assert conv.weight_g.shape == (conv.weight_v.shape[0],) + (1,) * (conv.weight_v.dim() - 1)
    x = torch.randn(shape)
    w = conv.fused_weight()
    # fresh modules compute exactly the initial weight
    norms = torch.linalg.vector_norm(w, dim=tuple(range(1, w.dim())), keepdim=True)
    torch.testing.assert_close(norms, conv.weight_g.detach(), rtol=1e-5, atol=1e-6)
    with torch.no_grad():
        conv.weight_g.mul_(2.0)  # scaling g scales the output (minus the bias)
    y2 = conv(x)
    ref_fn = {WNConv1d: F.conv1d, WNConv2d: F.conv2d}.get(cls)
    if ref_fn is not None:
        ref = ref_fn(x, 2 * w, conv.bias, conv.stride, conv.padding, conv.dilation)
    else:
        ref = F.conv_transpose1d(x, 2 * w, conv.bias, conv.stride, conv.padding)
    torch.testing.assert_close(y2, ref, rtol=1e-4, atol=1e-5)
    y2.sum().backward()
    assert conv.weight_g.grad is not None and conv.weight_v.grad is not None


def test_flow_is_invertible():
    flow = ResidualCouplingBlock(8, 16, 5, 1, 2, n_flows=4, gin_channels=4)
    for layer in flow.flows[::2]:  # the post convs start at zero: make it non-trivial
        torch.nn.init.normal_(layer.post.weight, std=0.1)
    x, g = torch.randn(2, 8, 30), torch.randn(2, 4, 1)
    mask = torch.ones(2, 1, 30)
    y = flow(x, mask, g=g)
    assert not torch.allclose(y, x)
    torch.testing.assert_close(flow(y, mask, g=g, reverse=True), x, rtol=1e-4, atol=1e-5)


def test_sine_source_frequency_and_voicing():
    src = SineSource(40000)
    f0 = torch.full((1, 50), 220.0)
    f0[:, 25:] = 0.0
    sines, voiced = src.sine_waves(f0, 400)
    assert sines.shape == (1, 50 * 400, 1)
    assert voiced[0, :10000].min() == 1 and voiced[0, 10000:].max() == 0
    spectrum = np.abs(np.fft.rfft(sines[0, :10000, 0].numpy()))
    peak_hz = np.argmax(spectrum) * 40000 / 10000
    assert abs(peak_hz - 220.0) <= 4.0
    excitation = src(f0, 400)
    assert excitation.shape == (1, 1, 20000)


def test_sine_phase_is_continuous_when_pitch_changes():
    src = SineSource(32000)
    f0 = torch.linspace(100.0, 400.0, 200).unsqueeze(0)
    sines, _ = src.sine_waves(f0, 320)
    jumps = (sines[0, 1:, 0] - sines[0, :-1, 0]).abs().max()
    assert jumps < 0.1 * 2 * math.pi * 400 / 32000 * 1.05  # bounded by the top frequency


@pytest.mark.parametrize("rate", ["32k", "40k", "48k"])
def test_mel_shapes_and_peak(rate):
    cfg = mel_config(rate)
    sr = cfg.sampling_rate
    t = torch.arange(cfg.hop_length * 20) / sr
    y = 0.5 * torch.sin(2 * math.pi * 1000.0 * t).unsqueeze(0)
    mel = mel_spectrogram(y, cfg)
    assert mel.shape == (1, cfg.n_mels, 20)
    assert spectrogram(y, cfg.n_fft, cfg.hop_length, cfg.win_length).shape == (
        1, cfg.n_fft // 2 + 1, 20)
    import librosa

    centers = librosa.mel_frequencies(n_mels=cfg.n_mels + 2, fmax=sr / 2)[1:-1]
    peak = int(mel[0, :, 10].argmax())
    assert abs(centers[peak] - 1000.0) < 150.0
    assert {"32k": 80, "40k": 125, "48k": 128}[rate] == cfg.n_mels


def test_losses_on_known_values():
    ones, zeros = [torch.ones(2, 5)], [torch.zeros(2, 5)]
    assert float(losses.discriminator_loss(ones, zeros)[0]) == 0.0
    assert float(losses.discriminator_loss(zeros, ones)[0]) == 2.0
    assert float(losses.generator_adversarial_loss(ones)[0]) == 0.0
    fmap = [[torch.randn(2, 3, 4)]]
    assert float(losses.feature_matching_loss(fmap, fmap)) == 0.0
    shifted = [[fmap[0][0] + 0.5]]
    assert abs(float(losses.feature_matching_loss(fmap, shifted)) - 0.5) < 1e-6
    z = torch.randn(1, 4, 10)
    mask = torch.ones(1, 1, 10)
    # identical unit Gaussians and z_p one std from the mean: KL term = 0
    kl = losses.kl_loss(z + 1.0, torch.zeros_like(z), z, torch.zeros_like(z), mask)
    assert abs(float(kl)) < 1e-6
    total = losses.generator_total(torch.tensor(1.0), torch.tensor(1.0),
                                   torch.tensor(1.0), torch.tensor(1.0))
    assert float(total) == 1 + 2 + 45 + 1
    y = 0.1 * torch.randn(1, 1, 4000)
    assert float(losses.mel_l1_loss(y, y, mel_config("40k"))) == 0.0
    assert float(losses.mel_l1_loss(0.5 * y, y, mel_config("40k"))) > 0.1


@pytest.mark.parametrize(("cin", "cout", "k", "stride", "dilation", "padding", "groups"), [
    (16, 24, 3, 1, 1, 1, 1), (32, 32, 11, 1, 5, 25, 1), (8, 16, 5, 2, 1, 0, 1),
    (16, 16, 3, 1, 3, "same", 1), (16, 32, 7, 1, 1, 3, 4)])
def test_inference_convolution_in_planar_layout_equals_the_1d_one(
        monkeypatch, cin, cout, k, stride, dilation, padding, groups):
    """On a CPU without gradients, WNConv1d runs as a channels-last 2-d convolution (about
    1.5x faster): it must give the 1-d result, and it must be the path actually taken."""
    from backend.models import wnconv

    torch.manual_seed(0)
    conv = wnconv.WNConv1d(cin, cout, k, stride=stride, dilation=dilation, padding=padding,
                           groups=groups)
    x = torch.randn(2, cin, 97)
    calls = []
    real = wnconv.F.conv2d
    monkeypatch.setattr(wnconv.F, "conv2d", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    with torch.enable_grad():
        ref = conv(x).detach()
    assert not calls
    with torch.no_grad():
        got = conv(x)
    assert calls and got.shape == ref.shape
    assert torch.allclose(got, ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(("cin", "cout", "k", "stride", "padding"), [
    (16, 8, 16, 8, 4), (8, 4, 4, 2, 1), (12, 6, 11, 5, 3)])
def test_inference_transposed_convolution_in_planar_layout_equals_the_1d_one(
        monkeypatch, cin, cout, k, stride, padding):
    from backend.models import wnconv

    torch.manual_seed(0)
    up = wnconv.WNConvTranspose1d(cin, cout, k, stride, padding=padding)
    x = torch.randn(2, cin, 41)
    calls = []
    real = wnconv.F.conv_transpose2d
    monkeypatch.setattr(wnconv.F, "conv_transpose2d",
                        lambda *a, **kw: calls.append(1) or real(*a, **kw))
    with torch.enable_grad():
        ref = up(x).detach()
    with torch.inference_mode():
        got = up(x)
    assert calls and got.shape == ref.shape
    assert torch.allclose(got, ref, atol=1e-5, rtol=1e-5)
