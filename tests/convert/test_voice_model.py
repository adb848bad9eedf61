"""Voice model files of every RVC variant load through the safe loader and synthesize."""

from __future__ import annotations

import os
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from backend.convert.voice_model import (
    ModelNotFound,
    NotAVoiceModel,
    find_index,
    index_matches,
    inspect_voice_model,
    load_voice_model,
)
from backend.jobs.export import _config_args
from backend.models import GeneratorConfig, build_generator
from backend.models.config import CLASS_NAMES
from backend.models.synthesizer import Synthesizer
from backend.train.export import inference_checkpoint, write_inference_model
from tests.convert import rvc_files as rf


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "user data ü"
    monkeypatch.setenv("TIMBRE_DATA_DIR", str(data))
    return data


def _infer(model, frames: int = 12) -> torch.Tensor:
    torch.manual_seed(0)
    phone = torch.randn(1, frames, model.content_dim)
    f0 = torch.full((1, frames), 180.0)
    coarse = torch.full((1, frames), 60, dtype=torch.long)
    return model.net.infer(phone, torch.tensor([frames]), coarse if model.f0 else None,
                           f0 if model.f0 else None, torch.tensor([0]))


# each variant once; fp16 and fp32 alternate so that both cover every version, rate and mode
CASES = [(*v, i % 3 != 1) for i, v in enumerate(rf.VARIANTS)]


@pytest.mark.parametrize(("version", "rate", "f0", "fp16"), CASES,
                         ids=[f"{rf.variant_name(*c[:3])}-{'fp16' if c[3] else 'fp32'}"
                              for c in CASES])
def test_every_variant_loads_and_synthesizes(unicode_dir: Path, version, rate, f0, fp16):
    path = rf.write_rvc_model(unicode_dir / f"voix {version} {rate}.pth", version, rate, f0,
                              fp16=fp16)
    model = load_voice_model(path)
    assert (model.version, model.sample_rate, model.f0) == (version, int(rate[:2]) * 1000, f0)
    assert model.stored_dtype == ("fp16" if fp16 else "fp32")
    assert model.speakers == 4 and model.name == path.stem and model.path == path
    assert not hasattr(model.net, "enc_q") and not model.net.training
    assert all(p.dtype == torch.float32 for p in model.net.parameters())
    audio = _infer(model)
    assert audio.shape == (1, 1, 12 * model.hop) and torch.isfinite(audio).all()
    stored = torch.load(path, weights_only=True)["weight"]
    for key in ("enc_p.emb_phone.weight", "dec.ups.0.weight_v", "emb_g.weight"):
        assert torch.equal(model.net.state_dict()[key], stored[key].float()), key


@pytest.mark.parametrize("rate", rf.RATES)
def test_oldest_files_without_version_are_v1(tmp_path: Path, rate: str):
    path = rf.write_rvc_model(tmp_path / "old.pth", "v1", rate, True, with_version=False)
    assert "version" not in torch.load(path, weights_only=True)
    model = load_voice_model(path)
    assert model.version == "v1" and model.content_dim == 256
    assert _infer(model).shape[-1] == 12 * model.hop


@pytest.mark.parametrize("variant", ["v2_40k_f0", "v1_32k_nof0"])
def test_standard_size_files_from_the_manifest_load(tmp_path: Path, variant: str):
    version, rate, f0 = variant.split("_")
    path = rf.write_rvc_model(tmp_path / f"{variant}.pth", version, rate, f0 == "f0",
                              size="standard")
    entry = rf.manifest()[variant]
    ckpt = torch.load(path, weights_only=True)
    expected = {k: v for k, v in entry["state_dict"].items() if not k.startswith("enc_q.")}
    assert {k: list(v.shape) for k, v in ckpt["weight"].items()} == expected
    assert ckpt["config"] == [entry["config_args"][0], 32, *entry["config_args"][2:]]
    model = load_voice_model(path)
    assert model.speakers == 109 and model.net.cfg.to_args()[2:] == entry["config_args"][2:]
    assert model.net.cfg.window_size == 10 and model.net.cfg.flow_layers == 3
    assert CLASS_NAMES[(version, f0 == "f0")] == entry["class"]
    assert _infer(model, frames=4).shape == (1, 1, 4 * model.hop)


def test_speaker_count_comes_from_the_embedding(tmp_path: Path):
    ckpt = rf.rvc_checkpoint("v2", "40k", True)
    ckpt["weight"]["emb_g.weight"] = torch.randn(7, 16).half()
    ckpt["config"][15] = 109  # what the tool wrote; the weights say 7
    torch.save(ckpt, tmp_path / "seven.pth")
    model = load_voice_model(tmp_path / "seven.pth")
    assert model.speakers == 7
    sid = torch.tensor([6])
    out = model.net.infer(torch.randn(1, 5, 768), torch.tensor([5]),
                          torch.full((1, 5), 50), torch.full((1, 5), 150.0), sid)
    assert torch.isfinite(out).all()


def test_other_sizes_load_from_config_and_weights(tmp_path: Path):
    """Sizes the 18 values do not hold (attention window, flow layers and count) are read
    from the weights: a file of another tool's size, neither standard nor tiny."""
    std = GeneratorConfig.from_args(rf.standard_config("v2", "32k", True), "v2", True)
    cfg = replace(std.tiny(), hidden_channels=24, filter_channels=48, window_size=6,
                  flow_layers=3, n_flows=3, spk_embed_dim=2)
    torch.manual_seed(3)
    net = Synthesizer(cfg)
    ckpt = inference_checkpoint(net.state_dict(), cfg.to_args(), sample_rate=32000, f0=True,
                                version="v2", info="other tool")
    model = load_voice_model(write_inference_model(tmp_path / "medium.pth", ckpt))
    got = model.net.cfg
    assert (got.window_size, got.flow_layers, got.n_flows, got.hidden_channels) == (6, 3, 3, 24)
    assert model.speakers == 2 and _infer(model).shape[-1] == 12 * 320


# what does not fit -------------------------------------------------------------------------
def test_a_wrong_version_entry_is_named(tmp_path: Path):
    ckpt = rf.rvc_checkpoint("v1", "40k", True)
    ckpt["version"] = "v2"
    torch.save(ckpt, tmp_path / "said v2.pth")
    with pytest.raises(NotAVoiceModel) as err:
        load_voice_model(tmp_path / "said v2.pth")
    text = err.value.message
    assert "said v2.pth looks like an RVC voice model" in text
    assert "enc_p.emb_phone.weight (expected [16, 768], found [16, 256])" in text
    assert "256-dim content features (v1) although the file says v2" in text
    assert "size mismatch" not in text
    assert err.value.details["shapes"]["enc_p.emb_phone.weight"] == {"expected": [16, 768],
                                                                     "found": [16, 256]}


def test_a_wrong_f0_entry_and_missing_keys_are_summarised(tmp_path: Path):
    ckpt = rf.rvc_checkpoint("v2", "48k", False)
    ckpt["f0"] = 1
    torch.save(ckpt, tmp_path / "pitch.pth")
    with pytest.raises(NotAVoiceModel) as err:
        inspect_voice_model(tmp_path / "pitch.pth")
    text = err.value.message
    assert "missing enc_p.emb_pitch.weight" in text and " more" in text  # summarised
    assert "trained with pitch but its weights lack the pitch embedding" in text
    assert len(text) < 1200


def test_a_changed_shape_and_an_unknown_key(tmp_path: Path):
    ckpt = rf.rvc_checkpoint("v2", "40k", True, fp16=False)
    ckpt["weight"]["dec.conv_pre.weight"] = torch.zeros(32, 16, 5)
    ckpt["weight"]["dec.extra.weight"] = torch.zeros(3)
    torch.save(ckpt, tmp_path / "edited.pth")
    with pytest.raises(NotAVoiceModel, match=r"2 of its weights do not fit the "
                       r"SynthesizerTrnMs768NSFsid \(v2, 40k, with pitch\) model") as err:
        load_voice_model(tmp_path / "edited.pth")
    assert "dec.conv_pre.weight (expected [32, 16, 7], found [32, 16, 5])" in err.value.message
    assert "unexpected dec.extra.weight" in err.value.message


@pytest.mark.parametrize(("change", "says"), [
    ({"sr": "44k", "config_rate": 44100}, "at 44100 Hz; Timbre Studio loads 32k, 40k and 48k"),
    ({"version": "v3"}, "of version 'v3'; Timbre Studio loads v1 and v2"),
    ({"f0": "yes"}, "its 'f0' entry is 'yes'"),
    ({"config": [1, 2, 3]}, "not the 18 model hyperparameters"),
])
def test_impossible_entries_get_a_message(tmp_path: Path, change: dict, says: str):
    ckpt = rf.rvc_checkpoint("v2", "40k", True)
    if "config_rate" in change:
        ckpt["config"][-1] = change.pop("config_rate")
    ckpt.update(change)
    torch.save(ckpt, tmp_path / "odd.pth")
    with pytest.raises(NotAVoiceModel, match="odd.pth") as err:
        load_voice_model(tmp_path / "odd.pth")
    assert says in err.value.message


def test_non_tensor_weights_are_damage(tmp_path: Path):
    ckpt = rf.rvc_checkpoint("v2", "40k", True)
    ckpt["weight"]["emb_g.weight"] = [1.0, 2.0]
    torch.save(ckpt, tmp_path / "odd.pth")
    with pytest.raises(NotAVoiceModel, match="1 of its weights are not tensors .emb_g.weight"):
        load_voice_model(tmp_path / "odd.pth")


# our exports ----------------------------------------------------------------------------
def test_a_tiny_run_exports_its_own_config_and_loads(tmp_path: Path):
    rvc = {"version": "v2", "sample_rate": 40000, "f0": True, "size": "tiny"}
    args = _config_args(rvc)
    net = build_generator("v2", "40k", True, size="tiny")
    assert args == net.cfg.to_args()
    assert _config_args({**rvc, "size": "standard"}) == build_generator(
        "v2", "40k", True).cfg.to_args()
    ckpt = inference_checkpoint(net.state_dict(), args, sample_rate=40000, f0=True,
                                version="v2", info="3epoch (tiny size)")
    path = write_inference_model(tmp_path / "Ma voix.pth", ckpt)
    assert load_voice_model(path).net.cfg.hidden_channels == 16


def test_tiny_exports_written_with_the_standard_config_still_load(tmp_path: Path):
    """Exports of tiny runs made before the export job wrote the tiny config."""
    net = build_generator("v1", "32k", False, size="tiny")
    std = GeneratorConfig.from_args(rf.standard_config("v1", "32k", False), "v1", False)
    ckpt = inference_checkpoint(net.state_dict(), std.to_args(), sample_rate=32000, f0=False,
                                version="v1", info="1epoch (tiny size: loads only in Timbre "
                                "Studio)")
    model = load_voice_model(write_inference_model(tmp_path / "old export.pth", ckpt))
    assert model.net.cfg.hidden_channels == 16 and model.sample_rate == 32000
    assert _infer(model).shape[-1] == 12 * 320


def test_a_package_loads_with_its_index_and_card_name(tmp_path: Path, _data_dir: Path):
    pkg = rf.write_model_package(tmp_path / "exports é" / "pack.zip", "Ma Voix 声")
    before = pkg.read_bytes()
    model = load_voice_model(pkg)
    assert model.name == "Ma Voix 声" and model.path == pkg and model.version == "v2"
    assert model.index_path is not None and model.index_path.is_file()
    assert model.index_path.name == "added_IVF5_Flat_nprobe_1_Ma Voix 声_v2.index"
    assert _data_dir in model.index_path.parents  # extracted into the cache, not beside
    assert pkg.read_bytes() == before and sorted(p.name for p in pkg.parent.iterdir()) == \
        ["pack.zip"]
    again = load_voice_model(pkg)  # the cached extraction is reused
    assert again.index_path == model.index_path


# finding the index ------------------------------------------------------------------------
def test_index_in_rvc_logs_layout(unicode_dir: Path):
    layout = rf.write_rvc_layout(unicode_dir / "RVC", "Bob [é]")
    assert load_voice_model(layout.model).index_path == layout.index
    assert "logs" in layout.index.parts


def test_index_beside_the_model_and_the_given_one_wins(tmp_path: Path):
    layout = rf.write_rvc_layout(tmp_path, "alice", "v1", "48k", index_beside=True)
    assert layout.index.parent == layout.model.parent
    assert inspect_voice_model(layout.model).index_path == layout.index
    other = shutil.copy(layout.index, tmp_path / "mine.index")
    assert inspect_voice_model(layout.model, index=other).index_path == Path(other)
    with pytest.raises(ModelNotFound, match="the index .*nope.index does not exist"):
        inspect_voice_model(layout.model, index=tmp_path / "nope.index")


def test_index_of_another_version_or_name_is_not_taken(tmp_path: Path):
    model = rf.write_rvc_model(tmp_path / "weights" / "carol.pth", "v2")
    logs = tmp_path / "logs" / "carol"
    rf.write_index(logs, "carol", "v1")  # v1 index beside a v2 model
    rf.write_index(logs, "carole", "v2")
    (logs / "trained_IVF5_Flat_nprobe_1_carol_v2.index").write_bytes(b"x")  # not the added one
    assert find_index(model, "v2") is None
    newest = rf.write_index(logs, "carol", "v2", vectors=400)
    os.utime(newest, (2e9, 2e9))
    rf.write_index(logs, "carol", "v2", vectors=100)
    assert find_index(model, "v2") == newest


def test_index_names():
    assert index_matches("added_IVF123_Flat_nprobe_1_my voice_v2.index", "my voice", "v2")
    assert not index_matches("added_IVF123_Flat_nprobe_1_my voice_v2.index", "voice", "v2")
    assert not index_matches("added_IVFx_Flat_nprobe_1_a_v2.index", "a", "v2")
    assert not index_matches("added_IVF3_Flat_nprobe_2_a_v2.index", "a", "v2")


def test_missing_file_and_folder(tmp_path: Path):
    with pytest.raises(ModelNotFound, match="does not exist"):
        load_voice_model(tmp_path / "nothing here.pth")
    with pytest.raises(NotAVoiceModel, match="is a folder"):
        load_voice_model(tmp_path)


def test_a_package_with_two_models_or_a_damaged_zip(tmp_path: Path):
    one = rf.write_rvc_model(tmp_path / "a.pth", seed=1)
    two = rf.write_rvc_model(tmp_path / "b.pth", seed=2)
    pkg = tmp_path / "two.zip"
    with zipfile.ZipFile(pkg, "w") as zf:
        zf.write(one, "a.pth")
        zf.write(two, "sub/b.pth")
    with pytest.raises(NotAVoiceModel, match=r"two.zip holds 2 models \(a.pth, b.pth\)"):
        load_voice_model(pkg)
    with zipfile.ZipFile(pkg, "a") as zf:
        zf.writestr("model_card.json", '{"name": "b"}')
    assert load_voice_model(pkg).name == "b"  # the card names the one to take
    cut = tmp_path / "cut.zip"
    cut.write_bytes(pkg.read_bytes()[:3000])
    with pytest.raises(NotAVoiceModel, match="cut.zip could not be read as a PyTorch file"):
        load_voice_model(cut)


# files of RVC forks -------------------------------------------------------------------------
def test_weight_norm_parametrization_names_load(tmp_path: Path):
    ckpt = rf.rvc_checkpoint("v2", "40k", True)
    plain = dict(ckpt["weight"])
    ckpt["weight"] = {k.replace(".weight_g", ".parametrizations.weight.original0")
                      .replace(".weight_v", ".parametrizations.weight.original1"): v
                      for k, v in plain.items()}
    assert sum("original1" in k for k in ckpt["weight"]) > 10
    ckpt.update(info=None, infos="fused 50/50", embedder_model="contentvec")
    torch.save(ckpt, tmp_path / "new names.pth")
    model = load_voice_model(tmp_path / "new names.pth")
    assert model.info == "fused 50/50" and model.embedder == "contentvec"
    assert torch.equal(model.net.state_dict()["dec.ups.0.weight_v"],
                       plain["dec.ups.0.weight_v"].float())


def test_other_vocoders_and_energy_are_named(tmp_path: Path):
    ckpt = rf.rvc_checkpoint("v2", "40k", True)
    ckpt["weight"] = {k: v for k, v in ckpt["weight"].items()
                      if not k.startswith("dec.resblocks.")}
    ckpt["weight"]["dec.mrf.0.weight"] = torch.zeros(2)
    ckpt.update(vocoder="RefineGAN", energy=True)
    torch.save(ckpt, tmp_path / "fork.pth")
    with pytest.raises(NotAVoiceModel) as err:
        load_voice_model(tmp_path / "fork.pth")
    text = err.value.message
    assert "made with the RefineGAN vocoder" in text and "HiFi-GAN (NSF) decoder" in text
    assert "energy (loudness) conditioning" in text and "unexpected dec.mrf.0.weight" in text
    ok = rf.rvc_checkpoint("v2", "40k", True)
    ok["vocoder"] = "HiFi-GAN"
    torch.save(ok, tmp_path / "hifigan.pth")
    assert load_voice_model(tmp_path / "hifigan.pth").embedder is None
