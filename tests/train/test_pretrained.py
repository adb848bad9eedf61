"""Loading pretrained bases: RVC layouts, per-key reports, clear refusals, safe unpickling."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from backend.models import build_discriminator, build_generator, config_args
from backend.train import export as ex
from backend.train import pretrained as pt
from tests.train.feature_project import make_feature_project

ROOT = Path(__file__).resolve().parents[2]
CHECK = {"version": "v2", "sample_rate": 40000, "f0": True}


def _g(version: str = "v2", rate: int = 40000, f0: bool = True) -> torch.nn.Module:
    return build_generator(version, rate, f0, "tiny")


def _save_base(path: Path, sd: dict[str, torch.Tensor]) -> Path:
    torch.save({"model": sd}, path)  # the RVC pretrained layout (f0G40k.pth)
    return path


def test_rvc_pretrained_layout_loads_every_key(unicode_dir: Path) -> None:
    torch.manual_seed(1)
    src = _g()
    path = _save_base(unicode_dir / "f0G40k ü.pth", src.state_dict())
    torch.manual_seed(2)
    dst = _g()
    report = pt.load_into(dst, path, check=CHECK)
    assert report.clean and report.loaded == len(dst.state_dict())
    for key, value in src.state_dict().items():
        assert torch.equal(dst.state_dict()[key], value), key
    assert report.lines() == [f"{path.name}: loaded {report.loaded} tensors"]


def test_rvc_inference_layout_loads_all_but_the_posterior_encoder(tmp_path: Path) -> None:
    src = _g()
    ckpt = ex.inference_checkpoint(src.state_dict(), config_args("v2", 40000, True),
                                   sample_rate=40000, f0=True, version="v2", info="10epoch")
    path = tmp_path / "voice.pth"
    ex.write_inference_model(path, ckpt)
    dst = _g()
    report = pt.load_into(dst, path, check=CHECK)
    enc_q = sorted(k for k in dst.state_dict() if k.startswith("enc_q."))
    assert report.missing == enc_q and not report.mismatched and not report.unexpected
    assert report.loaded == len(dst.state_dict()) - len(enc_q)
    key = "dec.conv_post.weight"
    assert torch.equal(dst.state_dict()[key], src.state_dict()[key].half().float())
    lines = "\n".join(report.lines())
    assert "not in the file (kept at initial values)" in lines and "enc_q.enc.* (" in lines


def test_speaker_table_of_another_size_is_adapted_and_reported(tmp_path: Path) -> None:
    sd = _g().state_dict()
    gin = sd["emb_g.weight"].shape[1]
    sd["emb_g.weight"] = torch.randn(109, gin)
    dst = _g()
    report = pt.load_into(dst, _save_base(tmp_path / "base.pth", sd), check=CHECK)
    assert report.loaded == len(dst.state_dict()) and not report.mismatched
    assert report.adapted == [f"emb_g.weight: speaker table [109, {gin}] -> [4, {gin}] "
                              "(first 4 speakers kept)"]
    assert torch.equal(dst.emb_g.weight.detach(), sd["emb_g.weight"][:4])
    assert any("adapted emb_g.weight" in line for line in report.lines())


def test_one_wrong_shape_is_reported_with_both_shapes_and_skipped(tmp_path: Path) -> None:
    sd = _g().state_dict()
    key = "enc_p.proj.weight"
    good = sd[key].shape
    sd[key] = torch.randn(good[0] + 2, good[1], 1)
    dst = _g()
    before = dst.state_dict()[key].clone()
    report = pt.load_into(dst, _save_base(tmp_path / "odd.pth", sd), check=CHECK)
    assert report.mismatched == [(key, tuple(sd[key].shape), tuple(good))]
    assert report.loaded == len(dst.state_dict()) - 1 and not report.clean
    assert torch.equal(dst.state_dict()[key], before)  # kept at its initial value
    line = f"  skipped {key}: file has {list(sd[key].shape)}, model needs {list(good)}"
    assert line in report.lines()


@pytest.mark.parametrize(("source", "message"), [
    (("v1", 40000, True), "another content dimension (v1 is 256, v2 is 768)"),
    (("v2", 40000, False), "a base without pitch, but this model uses pitch"),
    (("v2", 48000, True), "for another sample rate than this 40k project"),
    (("v2", 32000, True), "for another sample rate than this 40k project"),
])
def test_incompatible_bases_are_refused(tmp_path: Path, source: tuple, message: str) -> None:
    path = _save_base(tmp_path / "base.pth", _g(*source).state_dict())
    with pytest.raises(pt.PretrainedError, match=re.escape(message)) as err:
        pt.load_into(_g(), path, check=CHECK)
    assert "base.pth" in str(err.value) and "G40k/D40k" in str(err.value)
    assert "size mismatch" not in str(err.value)


def test_a_pitch_base_into_a_model_without_pitch_is_refused(tmp_path: Path) -> None:
    path = _save_base(tmp_path / "f0G40k.pth", _g().state_dict())
    with pytest.raises(pt.PretrainedError, match="a base with pitch, but this model has none"):
        pt.load_into(_g(f0=False), path, check={**CHECK, "f0": False})


def test_non_tensor_globals_are_refused_by_weights_only(tmp_path: Path) -> None:
    path = tmp_path / "sneaky.pth"
    torch.save({"model": _g().state_dict(), "args": argparse.Namespace(lr=1)}, path)
    with pytest.raises(pt.PretrainedError, match=re.escape(
            "sneaky.pth holds a Python object of class argparse.Namespace that a model file "
            "has no reason to contain; it was not loaded. Download the file again or import "
            "it from a trusted source.")):
        pt.read_state_dict(path)
    path.write_bytes(b"garbage")  # damaged, not refused: said differently
    with pytest.raises(pt.PretrainedError, match="could not be read as a torch checkpoint"):
        pt.read_state_dict(path)


@pytest.mark.parametrize("layout", ["model", "bare"])
def test_a_base_whose_values_are_strings_is_named_not_a_traceback(tmp_path: Path,
                                                                  layout: str) -> None:
    sd = {k: str(v.shape) for k, v in _g().state_dict().items()}  # e.g. a botched conversion
    path = tmp_path / "f0G40k strings.pth"
    torch.save({"model": sd} if layout == "model" else sd, path)
    with pytest.raises(pt.PretrainedError) as err:
        pt.load_into(_g(), path, check=CHECK)
    text = str(err.value)
    assert text.startswith("f0G40k strings.pth is not a usable pretrained model: ")
    assert f"{len(sd)} of its {len(sd)} weights are str values instead of tensors" in text
    assert "download the pretrained base again (Models & assets page)" in text
    mixed = _g().state_dict()
    mixed["dec.conv_pre.weight"] = 3
    torch.save({"model": mixed}, path)
    with pytest.raises(pt.PretrainedError, match=r"1 of its \d+ weights are int values instead "
                                                 r"of tensors \(dec.conv_pre.weight\)"):
        pt.read_state_dict(path)


def test_our_checkpoint_gives_the_generator_or_the_discriminator(tmp_path: Path) -> None:
    g, d = _g(), build_discriminator("v2", "tiny")
    path = tmp_path / "ckpt_000000010.pt"
    torch.save({"step": 10, "task": {"G": g.state_dict(), "D": d.state_dict()}}, path)
    assert pt.load_into(_g(), path, check=CHECK).clean
    report = pt.load_into(build_discriminator("v2", "tiny"), path, part="D")
    assert report.clean and report.loaded == len(d.state_dict())


def test_cli_refuses_an_incompatible_base_clearly(tmp_path: Path) -> None:
    project = make_feature_project(tmp_path / "Voix é", clips=3, seconds=0.4)
    base = _save_base(tmp_path / "f0G40k v1.pth", _g("v1").state_dict())
    res = subprocess.run([sys.executable, "-m", "backend", "train", "--project", str(project),
                          "--size", "tiny", "--device", "cpu", "--pretrained-g", str(base),
                          "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert res.returncode == 2, res.stderr[-2000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["status"] == "failed" and out["error"]["code"] == "bad_arguments"
    message = out["error"]["message"]
    assert "f0G40k v1.pth" in message and "content dimension" in message
    assert "Traceback" not in res.stderr and "size mismatch" not in res.stderr
    assert not (project / "train").exists()  # refused before anything was written
