"""State dicts survive the real file layouts (pretrained base and inference model)."""

from __future__ import annotations

import torch

from backend.models import GeneratorConfig, build_discriminator, build_from_config, build_generator

from .conftest import infer_inputs, make_batch


def _same_infer(a, b, batch) -> None:
    torch.manual_seed(7)
    out_a = a.infer(*infer_inputs(batch))
    torch.manual_seed(7)
    out_b = b.infer(*infer_inputs(batch))
    torch.testing.assert_close(out_a, out_b)


def test_pretrained_base_layout_roundtrip(tmp_path):
    folder = tmp_path / "pré trained ünïcode"
    folder.mkdir()
    G = build_generator("v2", "40k", True, size="tiny").eval()
    D = build_discriminator("v2", size="tiny")
    torch.save({"model": G.state_dict()}, folder / "f0G40k.pth")
    torch.save({"model": D.state_dict()}, folder / "f0D40k.pth")

    G2 = build_generator("v2", "40k", True, size="tiny").eval()
    D2 = build_discriminator("v2", size="tiny")
    ckpt_g = torch.load(folder / "f0G40k.pth", map_location="cpu", weights_only=True)
    ckpt_d = torch.load(folder / "f0D40k.pth", map_location="cpu", weights_only=True)
    G2.load_state_dict(ckpt_g["model"], strict=True)
    D2.load_state_dict(ckpt_d["model"], strict=True)
    for k, v in G.state_dict().items():
        assert torch.equal(v, G2.state_dict()[k]), k
    _same_infer(G, G2, make_batch(G.cfg, frames=12, batch=1))
    y = torch.randn(1, 1, 2000)
    torch.testing.assert_close(D(y, y)[0][3], D2(y, y)[0][3])


def test_inference_layout_rebuilds_from_config(tmp_path):
    G = build_generator("v1", "48k", False, size="tiny").eval()
    weights = {k: v.half() for k, v in G.state_dict().items() if not k.startswith("enc_q.")}
    cfg_list = G.cfg.to_args()
    cfg_list[1] = 32  # stored as 32 whatever the rate
    path = tmp_path / "my voice.pth"
    torch.save({"weight": weights, "config": cfg_list, "info": "300epoch", "sr": "48k",
                "f0": 0, "version": "v1"}, path)

    cpt = torch.load(path, map_location="cpu", weights_only=True)
    cfg = GeneratorConfig.from_args(cpt["config"], version=cpt.get("version", "v1"),
                                    f0=bool(cpt["f0"]))
    # the tiny layer counts are not among the 18 stored values
    cfg.posterior_layers, cfg.flow_layers, cfg.window_size = 4, 2, 4
    model = build_from_config(cfg).eval()
    result = model.load_state_dict(cpt["weight"], strict=False)
    assert result.unexpected_keys == []
    assert result.missing_keys and all(k.startswith("enc_q.") for k in result.missing_keys)
    assert model.hop_length == 480 and not hasattr(model.dec, "m_source")
    half_ref = build_generator("v1", "48k", False, size="tiny").eval()
    half_ref.load_state_dict({k: v.half().float() for k, v in G.state_dict().items()})
    _same_infer(model, half_ref, make_batch(G.cfg, frames=9, batch=1))
