"""VITS generator behaviour on tiny random-weight models: training pass, inference,
speakers, and the original checkpoint layouts."""

from __future__ import annotations

import pytest
import torch

from backend.models.vits import (
    PUBLISHED,
    VitsGenerator,
    alignment,
    build_vits_discriminator,
    published,
)
from backend.safeload import load_weights

N_SYMBOLS = 30


def _batch(cfg, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randint(1, N_SYMBOLS, (2, 11), generator=gen)
    x_lengths = torch.tensor([11, 8])
    spec = torch.rand(2, cfg.spec_channels, 45, generator=gen)
    spec_lengths = torch.tensor([45, 30])
    sid = torch.tensor([0, 5]) if cfg.n_speakers else None
    return x, x_lengths, spec, spec_lengths, sid


def _tiny(name: str):
    return published(name, n_symbols=N_SYMBOLS).tiny()


@pytest.mark.parametrize("name", PUBLISHED)
def test_forward_shapes_alignment_and_gradients(name):
    cfg = _tiny(name)
    model = VitsGenerator(cfg)
    x, xl, spec, sl, sid = _batch(cfg)
    out = model(x, xl, spec, sl, sid)
    hop, seg = cfg.hop_length, cfg.segment_frames
    assert out.audio.shape == (2, 1, seg * hop)
    assert out.ids_slice.shape == (2,)
    assert out.attn.shape == (2, 1, 45, 11)
    # a hard monotonic alignment: one symbol per frame, every symbol used
    frames_per_symbol = out.attn.sum(2).squeeze(1)
    assert frames_per_symbol.sum(1).tolist() == [45, 30]
    assert bool((frames_per_symbol[0] >= 1).all()) and bool((frames_per_symbol[1, :8] >= 1).all())
    assert frames_per_symbol[1, 8:].sum() == 0
    symbol_of_frame = out.attn[0, 0].argmax(1)
    assert bool((symbol_of_frame.diff() >= 0).all())
    assert out.l_length.shape == (2,) and bool(torch.isfinite(out.l_length).all())
    assert out.m_p.shape == out.z_p.shape == (2, cfg.inter_channels, 45)
    loss = out.audio.abs().mean() + out.l_length.sum() + (out.z_p - out.m_p).pow(2).mean()
    loss.backward()
    assert model.dp.proj.weight.grad is not None
    assert model.enc_p.emb.weight.grad is not None
    assert model.enc_q.pre.weight.grad is not None
    # the duration loss does not reach the text encoder (the predictor reads detached states)
    model.zero_grad()
    model(x, xl, spec, sl, sid).l_length.sum().backward()
    assert model.enc_p.emb.weight.grad is None or not model.enc_p.emb.weight.grad.any()


@pytest.mark.parametrize("name", PUBLISHED)
def test_infer_lengths_follow_durations_and_length_scale(name):
    cfg = _tiny(name)
    model = VitsGenerator(cfg).eval()
    x, xl, _, _, sid = _batch(cfg)
    lengths = {}
    for scale in (1.0, 2.0):
        torch.manual_seed(3)
        out = model.infer(x, xl, sid, length_scale=scale)
        frames = out.durations.sum(1)
        assert out.durations.dtype == torch.long and out.durations.shape == (2, 11)
        assert bool((out.durations[1, 8:] == 0).all())
        assert bool((out.durations[0] >= 1).all())
        assert out.y_mask.sum(-1).flatten().tolist() == frames.tolist()
        assert out.audio.shape == (2, 1, int(frames.max()) * cfg.hop_length)
        lengths[scale] = frames.float()
    ratio = lengths[2.0] / lengths[1.0]
    assert bool(((ratio > 1.6) & (ratio < 2.4)).all()), ratio
    out = model.infer(x, xl, sid, max_len=5)
    assert out.audio.shape[-1] == 5 * cfg.hop_length


def test_deterministic_predictor_doubles_each_duration_exactly():
    model = VitsGenerator(_tiny("ljs_nosdp")).eval()
    x, xl, *_ = _batch(model.cfg)
    d1 = model.infer(x, xl).durations
    d2 = model.infer(x, xl, length_scale=2.0).durations
    # ceil(2w) lies in [2 ceil(w) - 1, 2 ceil(w)]
    valid = d1 > 0
    assert bool(((d2 >= 2 * d1 - 1) & (d2 <= 2 * d1))[valid].all())


def test_speaker_ids_are_checked():
    cfg = _tiny("vctk_base")
    model = VitsGenerator(cfg).eval()
    x, xl, *_ = _batch(cfg)
    with pytest.raises(ValueError, match="109 speakers: pass sid"):
        model.infer(x, xl)
    with pytest.raises(ValueError, match=r"speakers 0\.\.108"):
        model.infer(x, xl, torch.tensor([0, 109]))
    one = model.infer(x, xl, torch.tensor(4)).audio  # one id for the whole batch
    assert one.shape[0] == 2
    assert "emb_g.weight" not in VitsGenerator(_tiny("ljs_base")).state_dict()
    # the original builds the table for two or more speakers only
    one_speaker = VitsGenerator(_tiny("ljs_base").with_speakers(1)).eval()
    assert "emb_g.weight" not in one_speaker.state_dict()
    assert one_speaker.infer(x, xl, torch.tensor(0)).audio.shape[0] == 2


@pytest.mark.parametrize("name", ["ljs_base", "vctk_base"])
def test_original_checkpoint_layout_roundtrip(tmp_path, name):
    """G_/D_ files in the original layout load key by key and speak the same."""
    cfg = _tiny(name)
    g, d = VitsGenerator(cfg).eval(), build_vits_discriminator(cfg)
    folder = tmp_path / "ëxport folder"
    folder.mkdir()
    for prefix, model in (("G", g), ("D", d)):
        opt = torch.optim.AdamW(model.parameters(), 2e-4)
        torch.save({"model": model.state_dict(), "iteration": 12,
                    "optimizer": opt.state_dict(), "learning_rate": 2e-4},
                   folder / f"{prefix}_1200.pth")
    g2, d2 = VitsGenerator(cfg).eval(), build_vits_discriminator(cfg)
    g2.load_state_dict(load_weights(folder / "G_1200.pth")["model"], strict=True)
    d2.load_state_dict(load_weights(folder / "D_1200.pth")["model"], strict=True)
    x, xl, _, _, sid = _batch(cfg)
    torch.manual_seed(9)
    a = g.infer(x, xl, sid).audio
    torch.manual_seed(9)
    b = g2.infer(x, xl, sid).audio
    torch.testing.assert_close(a, b)
    y = torch.randn(1, 1, 4096)
    torch.testing.assert_close(d(y, y)[0][2], d2(y, y)[0][2])


def test_alignment_scores_are_the_prior_log_likelihood_in_float32_under_autocast():
    model = VitsGenerator(_tiny("ljs_base"))
    gen = torch.Generator().manual_seed(4)
    c, t_text, t_spec = model.cfg.inter_channels, 6, 20
    # close priors far from zero: bfloat16 scores (8-bit mantissa) pick another path here
    z_p = torch.randn(1, c, t_spec, generator=gen) + 5
    m_p = torch.randn(1, c, t_text, generator=gen) * 0.1 + 5
    logs_p = torch.randn(1, c, t_text, generator=gen) * 0.3
    x_mask, z_mask = torch.ones(1, 1, t_text), torch.ones(1, 1, t_spec)
    # the direct definition: log N(z_p[:, frame]; m_p[:, symbol], exp(logs_p[:, symbol]))
    normal = torch.distributions.Normal(m_p.unsqueeze(2), logs_p.exp().unsqueeze(2))
    loglik = normal.log_prob(z_p.unsqueeze(3)).sum(1)  # [1, T_spec, T_text]
    expected = alignment.maximum_path(loglik, torch.ones(1, t_spec, t_text))
    got = model._align(z_p, m_p, logs_p, x_mask, z_mask)
    assert torch.equal(got.squeeze(1), expected)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.equal(model._align(z_p, m_p, logs_p, x_mask, z_mask).squeeze(1), expected)


@pytest.mark.parametrize("name", ["ljs_base", "ljs_nosdp"])
def test_training_pass_under_bfloat16_autocast(name):
    cfg = _tiny(name)
    model = VitsGenerator(cfg)
    x, xl, spec, sl, sid = _batch(cfg)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(x, xl, spec, sl, sid)
    assert out.attn.sum(2).sum(-1).flatten().tolist() == [45, 30]
    assert bool(torch.isfinite(out.l_length).all()) and bool(torch.isfinite(out.audio).all())
    (out.audio.float().abs().mean() + out.l_length.float().sum()).backward()
