"""The whole chain through the real CLI: recordings -> prepare -> extract -> train -> index ->
export, then the exported RVC model is rebuilt from its own ``config`` and converts a clip."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from backend.features import store
from backend.models.config import GeneratorConfig
from backend.models.synthesizer import build_from_config
from tests.conftest import espeak_wav
from tests.features.tiny_models import save_tiny_fairseq_hubert

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args: str, data: Path) -> dict:
    res = subprocess.run([sys.executable, "-m", "backend", *args, "--json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=600,
                         env={**os.environ, "TIMBRE_DATA_DIR": str(data)})
    lines = [ln for ln in res.stdout.splitlines() if ln.strip()]
    assert lines, res.stderr[-3000:]
    out = json.loads(lines[-1])
    assert out["status"] == "ok", (out, res.stderr[-3000:])
    return out["result"]


def test_recordings_to_an_rvc_model_that_converts(tmp_path: Path) -> None:
    takes = tmp_path / "prises de son – Ωmega"
    takes.mkdir()
    espeak_wav(takes / "un.wav", "The quick brown fox jumps over the lazy dog. It rests in "
                                 "the sun and then it runs away again.", voice="en+f3")
    espeak_wav(takes / "deux.wav", "A voice model learns from many short clips of clean "
                                   "speech recorded close to the microphone.", voice="en+f3")
    project, data = tmp_path / "Ma voix", tmp_path / "données"
    prep = _cli("prepare", str(takes), "--project", str(project), "--sample-rate", "32000",
                data=data)
    assert prep["slices"] >= 3
    encoder = save_tiny_fairseq_hubert(tmp_path / "encoder" / "hubert_base.pt")
    ext = _cli("extract", "--project", str(project), "--f0", "pm", "--encoder", str(encoder),
               "--version", "v1", "--device", "cpu", data=data)
    assert ext["processed"] == prep["slices"] and not ext["errors"]
    train = _cli("train", "--project", str(project), "--size", "standard", "--epochs", "1",
                 "--batch-size", "16", "--device", "cpu", data=data)
    assert train["step"] == 1 and train["epoch"] == 1
    index = _cli("index", "--project", str(project), data=data)
    assert index["dim"] == 256 and Path(index["index"]).name.endswith("_Ma voix_v1.index")
    out = _cli("export", "--project", str(project), "--out", str(tmp_path / "Ma voix.pth"),
               data=data)

    ckpt = torch.load(out["model"], map_location="cpu", weights_only=True)
    assert (ckpt["sr"], ckpt["f0"], ckpt["version"]) == ("32k", 1, "v1")
    model = build_from_config(GeneratorConfig.from_args(ckpt["config"], ckpt["version"],
                                                        bool(ckpt["f0"])))
    missing, unexpected = model.load_state_dict(
        {k: v.float() for k, v in ckpt["weight"].items()}, strict=False)
    assert unexpected == [] and missing and all(k.startswith("enc_q.") for k in missing)

    stem, entry = sorted(store.ready_slices(project, "v1").items())[0]
    content = np.repeat(np.load(entry["content"]), 2, axis=0)
    f0 = np.load(entry["f0"])
    frames = min(len(content), len(f0))
    phone = torch.from_numpy(content[:frames]).float()[None]
    pitchf = torch.from_numpy(f0[:frames]).float()[None]
    pitch = torch.from_numpy(np.load(entry["f0_coarse"])[:frames].astype(np.int64))[None]
    model.eval()
    audio = model.infer(phone, torch.tensor([frames]), pitch, pitchf, torch.tensor([0]))
    assert audio.shape == (1, 1, frames * 320) and torch.isfinite(audio).all()
