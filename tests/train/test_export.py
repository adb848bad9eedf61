"""Export formats: RVC inference weights and the model package zip."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import torch

from backend.train import export as ex


def _fake_generator_state() -> dict[str, torch.Tensor]:
    return {"enc_p.emb_phone.weight": torch.randn(192, 768),
            "enc_q.pre.weight": torch.randn(192, 1025, 1),
            "emb_g.weight": torch.randn(1, 256),
            "dec.m_source.l_linear.weight": torch.randn(1, 1),
            "flow.flows.0.enc.in_layers.0.weight_g": torch.randn(384, 1, 1)}


def test_inference_model_drops_enc_q_and_is_fp16(unicode_dir: Path) -> None:
    cfg = [1025, 36, 192, 192, 768, 2, 6, 3, 0, "1", [3, 7, 11], [[1, 3, 5]] * 3,
           [10, 10, 2, 2], 512, [16, 16, 4, 4], 109, 256, 40000]
    ckpt = ex.inference_checkpoint(_fake_generator_state(), cfg, sample_rate=40000, f0=True,
                                   version="v2", info="20epoch")
    path = ex.write_inference_model(unicode_dir / "voix é.pth", ckpt)
    back = ex.read_inference_model(path)
    assert not any(k.startswith("enc_q.") for k in back["weight"])
    assert all(v.dtype == torch.float16 for v in back["weight"].values())
    assert back["config"][1] == 32 and back["config"][0] == 1025 and back["config"][-1] == 40000
    assert (back["sr"], back["f0"], back["version"], back["info"]) == ("40k", 1, "v2", "20epoch")
    assert back["weight"]["emb_g.weight"].shape == (1, 256)


def test_package_holds_model_index_and_card(tmp_path: Path) -> None:
    ckpt = ex.inference_checkpoint(_fake_generator_state(), [0] * 18, sample_rate=48000,
                                   f0=False, version="v1", info="x")
    index = tmp_path / "added_IVF10_Flat_nprobe_1_v_v1.index"
    index.write_bytes(b"index bytes")
    card = ex.ModelCard("My Voice", "v1", 48000, False, None, 100, 5000, 3723.0)
    out = ex.write_package(tmp_path / "My Voice.zip", "My Voice", ckpt, card, index)
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == sorted(["My Voice.pth", index.name, "model_card.md",
                                                "model_card.json"])
        assert "dataset minutes | 62.0" in zf.read("model_card.md").decode()


def test_old_files_without_version_are_v1(tmp_path: Path) -> None:
    p = tmp_path / "old.pth"
    torch.save({"weight": {}, "config": [], "sr": "40k", "f0": 1, "info": ""}, p)
    assert ex.read_inference_model(p)["version"] == "v1"
    torch.save({"model": {}}, p)
    with pytest.raises(ValueError, match="not an RVC inference model: missing weight"):
        ex.read_inference_model(p)
