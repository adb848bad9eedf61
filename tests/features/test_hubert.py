"""HuBERT content encoder: equivalence with transformers' HubertModel (HF files) and with the
fairseq checkpoint layout RVC's hubert_base.pt uses, chunking, and error messages."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from backend.features.hubert import EncoderLoadError, HubertConfig, load_encoder, num_frames
from tests.features.tiny_models import (
    FINAL,
    HIDDEN,
    fairseq_cfg,
    fairseq_checkpoint,
    fairseq_state,
    save_with_fake_omegaconf,
)
from tests.features.tiny_models import tiny_hf as _tiny_hf

TOL = 1e-4
SR = 16000


def _wav(seconds: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    return (0.3 * np.sin(2 * np.pi * 220 * t) + 0.1 * rng.standard_normal(t.size)).astype(
        np.float32)


def _hf_hidden(model: torch.nn.Module, wav: np.ndarray) -> tuple[torch.Tensor, ...]:
    with torch.no_grad():
        out = model(torch.from_numpy(wav)[None], output_hidden_states=True)
    assert torch.equal(out.hidden_states[-1], out.last_hidden_state)
    return tuple(h[0] for h in out.hidden_states)


@pytest.fixture(scope="module")
def hf12() -> torch.nn.Module:
    return _tiny_hf(layers=12)


@pytest.fixture(scope="module")
def wav() -> np.ndarray:
    return _wav(1.3)


@pytest.fixture(scope="module")
def hidden(hf12: torch.nn.Module, wav: np.ndarray) -> tuple[torch.Tensor, ...]:
    return _hf_hidden(hf12, wav)


@pytest.fixture
def fairseq_file(tmp_path: Path, hf12: torch.nn.Module) -> Path:
    path = tmp_path / "assets hübert 声" / "hubert_base.pt"
    path.parent.mkdir()
    save_with_fake_omegaconf(fairseq_checkpoint(hf12), path)
    return path


def test_hf_folder_matches_transformers(tmp_path: Path, hf12, wav, hidden) -> None:
    folder = tmp_path / "hf model ü 声"
    hf12.save_pretrained(folder)
    enc = load_encoder(folder)
    v2 = enc.encode(wav, version="v2")
    assert v2.shape == (num_frames(wav.size), HIDDEN) == hidden[12].shape
    assert (v2 - hidden[12]).abs().max() < TOL
    with torch.inference_mode():  # our v1 pre-projection point is HF hidden_states[9]
        h9 = enc.net(torch.from_numpy(wav)[None], 9)[0]
    assert (h9 - hidden[9]).abs().max() < TOL
    assert (h9 - hidden[8]).abs().max() > 10 * TOL  # and not a neighbouring layer
    with pytest.raises(ValueError, match="final_proj"):
        enc.encode(wav, version="v1")  # HubertModel files carry no final_proj


def test_fairseq_file_matches_transformers(fairseq_file: Path, hf12, wav, hidden) -> None:
    with pytest.raises(pickle.UnpicklingError):  # the fake omegaconf cfg defeats weights_only
        torch.load(fairseq_file, weights_only=True)
    enc = load_encoder(fairseq_file)
    assert enc.cfg.hidden == HIDDEN and enc.cfg.layers == 12 and enc.cfg.heads == 4
    v2 = enc.encode(wav, version="v2")
    assert (v2 - hidden[12]).abs().max() < TOL
    sd = fairseq_state(hf12)  # the same (seeded) final_proj the file holds
    want_v1 = hidden[9] @ sd["final_proj.weight"].T + sd["final_proj.bias"]
    v1 = enc.encode(torch.from_numpy(wav), version="v1")
    assert v1.shape == (num_frames(wav.size), FINAL)
    assert (v1 - want_v1).abs().max() < TOL
    assert enc.output_dim("v1") == FINAL and enc.output_dim("v2") == HIDDEN


def test_fairseq_args_namespace_and_normalize(tmp_path: Path, hf12, wav) -> None:
    args = argparse.Namespace(**fairseq_cfg(12)["model"], normalize=True)
    path = tmp_path / "hubert args.pt"
    torch.save({"model": fairseq_state(hf12), "args": args, "cfg": None}, path)
    enc = load_encoder(path)
    assert enc.cfg.normalize_input
    x = torch.from_numpy(wav) * 3.0 + 0.2
    want = _hf_hidden(hf12, F.layer_norm(x, x.shape).numpy())[12]
    assert (enc.encode(x) - want).abs().max() < TOL
    assert not load_encoder(path, normalize=False).cfg.normalize_input


def test_hf_old_weight_norm_names_single_file_and_bin(tmp_path: Path, hf12, wav, hidden) -> None:
    from safetensors.torch import save_file

    sd = {k.replace("parametrizations.weight.original0", "weight_g")
          .replace("parametrizations.weight.original1", "weight_v"): v.contiguous()
          for k, v in hf12.state_dict().items()}
    folder = tmp_path / "old hf"
    folder.mkdir()
    save_file(sd, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps(hf12.config.to_dict()), encoding="utf-8")
    (folder / "preprocessor_config.json").write_text('{"do_normalize": false}', encoding="utf-8")
    enc = load_encoder(folder / "model.safetensors")
    assert (enc.encode(wav) - hidden[12]).abs().max() < TOL
    bin_dir = tmp_path / "bin ß"
    bin_dir.mkdir()
    torch.save(hf12.state_dict(), bin_dir / "pytorch_model.bin")
    (bin_dir / "config.json").write_text(json.dumps(hf12.config.to_dict()), encoding="utf-8")
    for target in (bin_dir, bin_dir / "pytorch_model.bin"):
        assert (load_encoder(target).encode(wav) - hidden[12]).abs().max() < TOL


def test_layer_norm_extractor_mode(tmp_path: Path, wav) -> None:
    hf = _tiny_hf(layers=2, norm="layer", seed=3)
    hf.save_pretrained(tmp_path / "m")
    enc = load_encoder(tmp_path / "m", v1_layer=1)
    assert enc.cfg.extractor_mode == "layer"
    assert (enc.encode(wav) - _hf_hidden(hf, wav)[2]).abs().max() < TOL


@pytest.mark.parametrize("n", [0, 399, 400, 719, 720, 16000, 16001, 33333])
def test_frame_count_formula(n: int) -> None:
    frames = 0 if n < 400 else (n - 400) // 320 + 1
    assert num_frames(n) == frames
    assert num_frames(n, HubertConfig(hidden=32, heads=4)) == frames


def test_chunked_equals_single_pass(fairseq_file: Path) -> None:
    enc = load_encoder(fairseq_file)
    long = _wav(7.37, seed=4)
    full = enc.encode(long, chunk_s=100)
    parts = enc.encode(long, chunk_s=1.0, context_s=0.5)  # 8 windows
    assert parts.shape == full.shape == (num_frames(long.size), HIDDEN)
    # attention is global, so chunking is only exact once attention is neutralised; then the
    # receptive field (conv stack + positional conv, 8 frames) fits the context and the
    # stitching must reproduce the single pass frame for frame
    with torch.no_grad():
        for layer in enc.net.layers:
            layer.out_proj.weight.zero_()
            layer.out_proj.bias.zero_()
    for version in ("v1", "v2"):
        full = enc.encode(long, version, chunk_s=100)
        parts = enc.encode(long, version, chunk_s=1.0, context_s=0.3)
        assert (parts - full).abs().max() < TOL
        bad = enc.encode(long, version, chunk_s=1.0, context_s=0.0)  # the check can fail
        assert (bad - full).abs().max() > 1e-3


def _err(path: Path, **kw: object) -> str:
    with pytest.raises(EncoderLoadError) as info:
        load_encoder(path, **kw)
    assert str(path) in str(info.value)
    return str(info.value)


def test_wrong_files_give_clear_errors(tmp_path: Path, hf12: torch.nn.Module) -> None:
    d = tmp_path / "bad ö"
    d.mkdir()
    voice = d / "voice.pth"
    torch.save({"weight": {"emb_g.weight": torch.zeros(1, 256)}, "config": [1025, 32],
                "info": "300epoch", "sr": "40k", "f0": 1, "version": "v2"}, voice)
    assert "RVC voice model" in _err(voice)
    gen = d / "G_2333.pth"
    torch.save({"model": {"enc_p.emb_phone.weight": torch.zeros(192, 768)}, "iteration": 3}, gen)
    msg = _err(gen)
    assert "enc_p.emb_phone.weight" in msg and "feature_extractor.conv_layers.0.0.weight" in msg
    junk = d / "junk.pt"
    junk.write_bytes(b"not a checkpoint at all")
    assert "not a readable torch checkpoint" in _err(junk)
    assert "no such file" in _err(d / "missing.pt")
    assert "model.safetensors" in _err(d)  # folder without weights
    (d / "model.safetensors").write_bytes(b"")
    assert "config.json" in _err(d)


def test_broken_fairseq_state_lists_keys(tmp_path: Path, hf12: torch.nn.Module) -> None:
    sd = fairseq_state(hf12)
    del sd["encoder.layers.3.fc1.weight"], sd["encoder.layers.4.self_attn.k_proj.bias"]
    sd["encoder.layers.5.fc2.weight"] = torch.zeros(HIDDEN, 65)
    sd["encoder.extra_thing"] = torch.zeros(1)
    path = tmp_path / "broken.pt"
    torch.save({"model": sd, "args": argparse.Namespace(**fairseq_cfg(12)["model"])}, path)
    msg = _err(path)
    assert ("missing (2): encoder.layers.3.fc1.weight, encoder.layers.4.self_attn.k_proj.bias"
            in msg)
    assert "unexpected (1): encoder.extra_thing" in msg
    assert "encoder.layers.5.fc2.weight: file has [32, 65], model expects [32, 64]" in msg


def test_unsafe_pickles_are_refused_whatever_the_caller_says(tmp_path: Path,
                                                            hf12: torch.nn.Module) -> None:
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.makedirs, (str(marker),))

    path = tmp_path / "evil.pt"
    torch.save({"model": fairseq_state(hf12), "args": Evil()}, path)
    assert "holds a Python object of class os.makedirs" in _err(path)
    assert not marker.exists()

    class Touch:  # pathlib.Path.touch is reached through builtins.getattr: refused too
        def __reduce__(self):
            return (Path.touch, (marker,))

    torch.save({"model": fairseq_state(hf12), "args": Touch()}, path)
    assert "class builtins.getattr" in _err(path)
    assert not marker.exists()
    odd = tmp_path / "dated.pt"  # harmless but no fairseq metadata class: refused as well
    torch.save({"model": fairseq_state(hf12), "args": argparse.Namespace(
        **fairseq_cfg(12)["model"], created=datetime.date(2023, 1, 1))}, odd)
    assert "class datetime.date" in _err(odd)
    with pytest.raises(TypeError):  # there is no way to ask for a full unpickle
        load_encoder(odd, trusted=True)  # type: ignore[call-arg]


def test_bf16_and_stereo_input(fairseq_file: Path, wav, hidden) -> None:
    enc = load_encoder(fairseq_file, dtype=torch.bfloat16)
    out = enc.encode(wav)
    assert out.dtype == torch.float32
    assert (out - hidden[12]).norm() / hidden[12].norm() < 0.05
    enc32 = load_encoder(fairseq_file)
    mono = enc32.encode(wav)
    for stereo in (np.stack([wav, wav]), np.stack([wav, wav], axis=1)):
        assert (enc32.encode(stereo) - mono).abs().max() < 1e-6


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fp16(fairseq_file: Path, wav, hidden) -> None:
    enc = load_encoder(fairseq_file, device="cuda")
    assert enc.dtype == torch.float16
    out = enc.encode(wav)
    assert out.dtype == torch.float32 and out.device.type == "cuda"
    assert (out.cpu() - hidden[12]).abs().max() < 5e-2


def test_fp16_file_loads_into_real_parameters(tmp_path: Path, hf12, wav, hidden) -> None:
    # RVC's hubert_base.pt stores fp16 tensors; the net is built on the meta device and the
    # converted file tensors become its parameters
    ckpt = fairseq_checkpoint(hf12)
    ckpt["model"] = {k: v.half() for k, v in ckpt["model"].items()}
    path = tmp_path / "half präzision" / "hubert_base.pt"
    path.parent.mkdir()
    save_with_fake_omegaconf(ckpt, path)
    for dtype in (None, torch.bfloat16):
        enc = load_encoder(path, dtype=dtype)
        params = dict(enc.net.named_parameters())
        assert len(params) == len(enc.net.state_dict())
        want = dtype or torch.float32
        for name, p in params.items():
            assert isinstance(p, torch.nn.Parameter), name
            assert not p.is_meta and p.device.type == "cpu" and p.dtype == want, name
    enc = load_encoder(path)
    ref = fairseq_state(hf12)["encoder.layers.3.fc1.weight"].half().float()
    assert torch.equal(enc.net.layers[3].fc1.weight, ref)
    assert (enc.encode(wav) - hidden[12]).norm() / hidden[12].norm() < 0.02
