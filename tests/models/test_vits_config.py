"""VitsConfig in the config.json layout: round trips, tiny models, speaker tables."""

from __future__ import annotations

import json

import pytest
import torch

from backend.models.vits import VitsConfig, VitsGenerator, published


def test_tiny_config_roundtrips_through_config_json_and_builds_the_same_model():
    cfg = published("ljs_nosdp", n_symbols=40).tiny()
    symbols = [f"s{i}" for i in range(40)]
    text = json.dumps(cfg.to_json(symbols))
    back = VitsConfig.from_json(json.loads(text))
    assert back == cfg
    assert back.posterior_layers == 4 and back.flow_layers == 2
    a = {k: v.shape for k, v in VitsGenerator(cfg).state_dict().items()}
    b = {k: v.shape for k, v in VitsGenerator(back).state_dict().items()}
    assert a == b
    n_wn = sum(1 for k in a if k.startswith("enc_q.enc.in_layers.") and k.endswith(".bias"))
    assert n_wn == 4


def test_original_config_keeps_its_unknown_entries_and_fixed_sizes():
    config = published("ljs_base").to_json()
    for key in ("posterior_layers", "flow_layers", "dp_filter_channels"):
        del config["model"][key]  # the published files do not have them
    config["data"]["training_files"] = "filelists/x.txt"
    cfg = VitsConfig.from_json(config, n_symbols=178)
    assert (cfg.posterior_layers, cfg.flow_layers, cfg.dp_filter_channels) == (16, 4, 256)
    assert cfg.to_json()["data"]["training_files"] == "filelists/x.txt"


@pytest.mark.parametrize(("base", "gin"), [("published", 256), ("tiny", 16)])
def test_with_speakers_conditioning_width(base, gin):
    cfg = published("ljs_base", n_symbols=20)
    if base == "tiny":
        cfg = cfg.tiny()
    multi = cfg.with_speakers(3)
    assert multi.n_speakers == 3 and multi.gin_channels == gin
    assert multi.with_speakers(0).gin_channels == 0
    # the order of tiny() and with_speakers() does not matter for a tiny model
    if base == "tiny":
        assert published("ljs_base", n_symbols=20).with_speakers(3).tiny() == multi
    with torch.device("meta"):
        model = VitsGenerator(multi)
    assert tuple(model.emb_g.weight.shape) == (3, gin)
